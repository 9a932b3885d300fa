import { shortId } from '../model/ids.js';
import type { Task } from '../model/task.js';
import { backlogIds, claimBacklog, inBacklog } from '../store/backlog.js';
import { createTask, deleteTask, readTasks } from '../store/tasks.js';
import { TtError } from '../model/errors.js';
import { agents, pickAgent } from './agents.js';
import type { Town } from './context.js';
import { report } from './report.js';
import { findTask, newTask, senderId, senderIdAmong, type TaskSpec } from './tasks.js';

export const addToBacklog = async (t: Town, spec: TaskSpec): Promise<Task> => {
  const task = newTask(t, spec);
  await createTask(t.db, { task, from: await senderId(t), backlog: true });
  return task;
};

/** Backlog tasks in claim order: best priority first, oldest first within a priority. */
export const backlogTasks = async (t: Town): Promise<Task[]> => {
  const ids = await backlogIds(t.db);
  const byId = new Map(report(t, await readTasks(t.db, ids)).map((x) => [x.id, x]));
  return ids.flatMap((id) => byId.get(id) ?? []);
};

export const claimFromBacklog = async (t: Town, taskRef: string, agentRef: string): Promise<string> => {
  const all = await agents(t);
  const agent = pickAgent(agentRef, all);
  const { id } = await findTask(t, taskRef);
  const [claimed] = await claimBacklog(t.db, agent.id, senderIdAmong(t, all), { taskId: id });
  if (!claimed) throw new TtError(`task ${shortId(id)} is no longer pending`);
  return claimed;
};

export const assignAllBacklog = async (t: Town, agentRef: string): Promise<string[]> => {
  const all = await agents(t);
  const agent = pickAgent(agentRef, all);
  return claimBacklog(t.db, agent.id, senderIdAmong(t, all), { max: 1_000_000 });
};

export const removeFromBacklog = async (t: Town, taskRef: string): Promise<string> => {
  const { id } = await findTask(t, taskRef);
  if (!(await inBacklog(t.db, id))) throw new TtError(`task ${shortId(id)} is not in the backlog`);
  await deleteTask(t.db, id, ['pending'], 'backlog.removed');
  return id;
};
