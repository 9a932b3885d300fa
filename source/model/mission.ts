import { z } from 'zod';
import { num, optStr, strList } from './hash.js';

/** Missions: objectives compiled into a graph of work items, driven by the dispatcher. */

export const MISSION_STATES = ['planning', 'running', 'blocked', 'completed', 'failed'] as const;
export const MissionState = z.enum(MISSION_STATES);
export type MissionState = z.infer<typeof MissionState>;
export const isTerminalMission = (s: MissionState): boolean => s === 'completed' || s === 'failed';

export const ObjectiveRef = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('issue'),
    owner: z.string(),
    repo: z.string(),
    number: z.number().int().positive(),
  }),
  z.object({ type: z.literal('doc'), path: z.string() }),
  z.object({ type: z.literal('manifest'), path: z.string() }),
]);
export type ObjectiveRef = z.infer<typeof ObjectiveRef>;
export const objectiveLabel = (o: ObjectiveRef): string =>
  o.type === 'issue' ? `${o.owner}/${o.repo}#${o.number}` : o.path;

export const MissionPolicy = z.object({
  maxParallel: z.number().int().min(1).default(2),
  reviewerRequired: z.boolean().default(true),
  watchIntervalSecs: z.number().min(1).default(180),
});
export type MissionPolicy = z.infer<typeof MissionPolicy>;

const json = <S extends z.ZodType>(schema: S) =>
  z.preprocess((v) => {
    if (typeof v !== 'string') return v;
    try {
      return JSON.parse(v);
    } catch {
      return v;
    }
  }, schema);

/** A mission record: a Redis hash `mission:<id>`. */
export const Mission = z.object({
  id: z.string(),
  title: z.string(),
  objectives: json(z.array(ObjectiveRef)),
  state: MissionState,
  policy: json(MissionPolicy),
  createdAt: num(),
  updatedAt: num(),
  nextWakeAt: num().optional(),
  blockedReason: optStr(),
  lastTickAt: num().optional(),
  lastTick: num().optional(),
  /** The lease token of the dispatcher that ran the last tick. */
  lastTickBy: optStr(),
  lastProgressAt: num().optional(),
  helpAt: num().optional(),
  helpReason: optStr(),
  helpAttempts: num().default(0),
  itemsTotal: num().default(0),
  itemsDone: num().default(0),
});
export type Mission = z.infer<typeof Mission>;

export const WORK_KINDS = ['design', 'implement', 'test', 'review', 'mergegate', 'followup'] as const;
export const WorkKind = z.enum(WORK_KINDS);
export type WorkKind = z.infer<typeof WorkKind>;

export const WORK_STATUSES = ['pending', 'ready', 'assigned', 'running', 'blocked', 'done'] as const;
export const WorkStatus = z.enum(WORK_STATUSES);
export type WorkStatus = z.infer<typeof WorkStatus>;

/** A work item: a Redis hash `mission:<mid>:item:<id>`. */
export const WorkItem = z.object({
  id: z.string(),
  mission: z.string(),
  title: z.string(),
  body: z.string().default(''),
  kind: WorkKind,
  /** Ids of the items this one waits for. */
  deps: strList(),
  ownerRole: optStr(),
  /** Capabilities an agent must have to take it. */
  caps: strList(),
  status: WorkStatus,
  assignedTo: optStr(),
  /** The live task working on it, if any. */
  task: optStr(),
  /** The review task out for it, if any. */
  reviewTask: optStr(),
  artifacts: strList(),
  /**
   * The git branch its work is on: taken from its work task when that completes, and given to
   * the review and fix tasks made for it (a review checks it out detached, a fix commits on it).
   */
  branch: optStr(),
  reviewerApproved: z.preprocess((v) => v === true || v === 'true' || v === '1', z.boolean()).default(false),
  /** Where it came from: owner/repo#N, or a doc path. */
  sourceRef: optStr(),
  /** Position in the mission's topological order (0 first). */
  rank: num(),
  createdAt: num(),
  updatedAt: num(),
});
export type WorkItem = z.infer<typeof WorkItem>;

export const WATCH_KINDS = ['pr_checks', 'bugbot_comments', 'review_comments', 'mergeability'] as const;
export const WatchKind = z.enum(WATCH_KINDS);
export type WatchKind = z.infer<typeof WatchKind>;
export const WatchStatus = z.enum(['active', 'snoozed', 'done']);
export type WatchStatus = z.infer<typeof WatchStatus>;
export const TriggerAction = z.enum(['create_fix_task', 'notify_reviewer', 'advance_pipeline']);
export type TriggerAction = z.infer<typeof TriggerAction>;

/** A watch on a pull request: a Redis hash `mission:<mid>:watch:<id>`. */
export const Watch = z.object({
  id: z.string(),
  mission: z.string(),
  item: z.string(),
  kind: WatchKind,
  /** owner/repo#N */
  target: z.string(),
  intervalSecs: num(),
  nextDueAt: num(),
  status: WatchStatus,
  onTrigger: TriggerAction,
  lastCheckAt: num().optional(),
  failures: num().default(0),
  lastError: optStr(),
  /** The head commit a fix task was last created for (fix tasks are deduplicated per commit). */
  lastFixSha: optStr(),
});
export type Watch = z.infer<typeof Watch>;

/** An operator's control note: a JSON entry of `mission:<mid>:notes`. */
export const ControlNote = z.object({
  id: z.string(),
  mission: z.string(),
  sender: z.string(),
  body: z.string(),
  createdAt: z.number(),
  processedAt: z.number().optional(),
  /** The dispatcher tick that applied it, and what it did: the receipt the operator sees. */
  tick: z.number().optional(),
  effect: z.string().optional(),
});
export type ControlNote = z.infer<typeof ControlNote>;

/** Task roles within a mission, on the task record (`missionRole`). */
export const MissionTaskRole = z.enum(['work', 'review', 'fix']);
export type MissionTaskRole = z.infer<typeof MissionTaskRole>;
