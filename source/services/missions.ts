import { shortId } from '../model/ids.js';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { DEFAULT_DISPATCH, type DispatchConfig } from '../dispatch/config.js';
import { newDispatcher, type Dispatcher } from '../dispatch/dispatcher.js';
import { releaseLeases, runDispatcher, tick } from '../dispatch/loop.js';
import { type MissionTickReport } from '../dispatch/report.js';
import type { GitHubClient } from '../github/client.js';
import { githubToken, RestGitHubClient } from '../github/rest.js';
import { compileMission, Manifest, type IssueInput } from '../model/compiler.js';
import { TtError, UsageError } from '../model/errors.js';
import type { TownEvent } from '../model/event.js';
import { parseIssueRef, type IssueRef } from '../model/github-ref.js';
import {
  isTerminalMission,
  MissionPolicy,
  type ControlNote,
  type Mission,
  type ObjectiveRef,
  type Watch,
  type WorkItem,
} from '../model/mission.js';
import { parseNote } from '../model/notes.js';
import { resolveIdPrefix } from '../model/resolve.js';
import { recentEvents } from '../store/events.js';
import {
  addItems,
  createMission,
  getMission,
  leaseHolder,
  listItems,
  listMissions,
  listNotes,
  listWatches,
  missionIds,
  queueNote,
  updateMission,
  wakeDispatcher,
} from '../store/missions.js';
import { townDelays, type Town } from './context.js';
import { report } from './report.js';
import { makeDb } from '../store/db.js';
import { reap } from '../store/worker.js';
import { VERSION } from '../config/version.js';

export const dispatchConfig = (t: Pick<Town, 'config'>): DispatchConfig => {
  const c = t.config.dispatch;
  return {
    ...DEFAULT_DISPATCH,
    tickMs: Math.round(c.tickSecs * 1000),
    leaseTtlMs: Math.round(c.leaseTtlSecs * 1000),
    helpRepeatSecs: c.helpRepeatSecs,
    helpBackoffCap: c.helpBackoffCap,
    watchSnoozeSecs: c.watchSnoozeSecs,
    watchMaxFailures: c.watchMaxFailures,
    requireChecks: t.config.github.requireChecks,
  };
};

/** The GitHub client of a town: its configured API address and the user's token (GITHUB_TOKEN, else gh). */
export const githubFor = (t: Town): GitHubClient => {
  const baseUrl = t.config.github.apiUrl ?? t.env.TT_GITHUB_API;
  const host = baseUrl ? new URL(baseUrl).host : undefined;
  return new RestGitHubClient({
    baseUrl,
    token: githubToken(t.env, undefined, host),
    userAgent: `tt/${VERSION}`,
    clock: t.clock,
  });
};

/** The repository bare issue numbers belong to: github.repo, else the git origin of the town. */
const defaultRepo = (t: Town): { owner: string; repo: string } | undefined => {
  const configured = t.config.github.repo;
  if (configured) {
    const [owner, repo] = configured.split('/');
    return { owner: owner!, repo: repo! };
  }
  const r = spawnSync('git', ['remote', 'get-url', 'origin'], { cwd: t.root, encoding: 'utf8' });
  const m = r.status === 0 ? /[/:]([\w.-]+)\/([\w.-]+?)(?:\.git)?\s*$/.exec(r.stdout) : null;
  return m ? { owner: m[1]!, repo: m[2]! } : undefined;
};

/** Resolves a mission id or a unique prefix of 4+ characters. */
export const resolveMission = async (t: Town, ref: string): Promise<string> =>
  resolveIdPrefix('mission', ref, await missionIds(t.db));

export const findMission = async (t: Town, ref: string): Promise<Mission> => {
  const id = await resolveMission(t, ref);
  const m = await getMission(t.db, id);
  if (!m) throw new UsageError(`no mission has id ${ref}`);
  return m;
};

export interface StartOptions {
  issues: string[];
  docs: string[];
  manifest?: string;
  maxParallel?: number;
  reviewer?: boolean;
  title?: string;
  github?: GitHubClient;
}

/** Builds the mission's work items with the dependents each promotes when done. */
const withDependents = (items: WorkItem[]) =>
  items.map((i) => ({ ...i, dependents: items.filter((x) => x.deps.includes(i.id)).map((x) => x.id) }));

/** The issue refs of --issue, bare numbers in the town's default repository. */
const issueRefs = (t: Town, issues: string[]): IssueRef[] => {
  const repo = issues.some((r) => /^\d+$/.test(r.trim())) ? defaultRepo(t) : undefined;
  return issues.map((r) => {
    try {
      return parseIssueRef(r, repo);
    } catch (e) {
      throw new UsageError(`--issue ${r}: ${(e as Error).message}`);
    }
  });
};

/** The --manifest file, read and checked against its schema. */
const readManifest = (path: string, file: string): Manifest => {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const why =
      (e as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'no such file'
        : `not valid JSON: ${(e as Error).message}`;
    throw new UsageError(`--manifest ${file}: ${why}`);
  }
  const r = Manifest.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw new UsageError(`--manifest ${file}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
};

/** Every issue of the mission, fetched (a failure names the issue). */
const fetchIssues = async (github: GitHubClient | undefined, refs: IssueRef[]): Promise<IssueInput[]> => {
  const issues: IssueInput[] = [];
  for (const ref of refs) {
    try {
      const issue = await github!.issue(ref);
      issues.push({ ref, title: issue.title, body: issue.body });
    } catch (e) {
      throw new TtError(`cannot fetch ${ref.owner}/${ref.repo}#${ref.number}: ${(e as Error).message}`);
    }
  }
  return issues;
};

/** The mission's title: --title, else its first issue (and how many more objectives), else its first file. */
const missionTitle = (o: StartOptions, refs: IssueRef[], objectives: ObjectiveRef[]): string => {
  if (o.title?.trim()) return o.title.trim();
  const first = refs[0];
  if (!first) return o.docs[0] ?? o.manifest ?? 'mission';
  const more = objectives.length > 1 ? ` +${objectives.length - 1}` : '';
  return `${first.owner}/${first.repo}#${first.number}${more}`;
};

/** The new mission's record, being planned (no items yet). */
const newMission = (
  id: string,
  o: StartOptions,
  refs: IssueRef[],
  policy: MissionPolicy,
  now: number,
): Mission => {
  const objectives: ObjectiveRef[] = [
    ...refs.map((r) => ({ type: 'issue' as const, ...r })),
    ...o.docs.map((p) => ({ type: 'doc' as const, path: p })),
    ...(o.manifest ? [{ type: 'manifest' as const, path: o.manifest }] : []),
  ];
  return {
    id,
    title: missionTitle(o, refs, objectives),
    objectives,
    state: 'planning',
    policy,
    createdAt: now,
    updatedAt: now,
    helpAttempts: 0,
    itemsTotal: 0,
    itemsDone: 0,
  };
};

/**
 * Starts a mission: every input is checked (issue refs, docs, manifest, the dependency graph)
 * and every issue fetched before anything is stored; then the mission and its items are
 * written, it is set running, and one dispatcher tick assigns the first items.
 */
export const startMission = async (
  t: Town,
  o: StartOptions,
): Promise<{ mission: Mission; items: WorkItem[]; tick: MissionTickReport[] }> => {
  if (o.issues.length + o.docs.length === 0 && !o.manifest)
    throw new UsageError('a mission needs at least one --issue, --doc or --manifest');
  const refs = issueRefs(t, o.issues);
  const base = (p: string) => (isAbsolute(p) ? p : resolve(t.root, p));
  for (const d of o.docs) if (!existsSync(base(d))) throw new UsageError(`--doc ${d}: no such file`);
  const manifest = o.manifest ? readManifest(base(o.manifest), o.manifest) : undefined;
  const policy = MissionPolicy.parse({
    ...(o.maxParallel ? { maxParallel: o.maxParallel } : {}),
    ...(o.reviewer === false ? { reviewerRequired: false } : {}),
  });
  const github = refs.length ? (o.github ?? githubFor(t)) : undefined;
  const issues = await fetchIssues(github, refs);
  const id = randomUUID();
  const now = t.clock.now();
  const items = compileMission({
    missionId: id,
    issues,
    docs: o.docs,
    ...(manifest ? { manifest } : {}),
    now,
    newId: randomUUID,
  });
  if (items.length === 0) throw new UsageError('the mission has no work items (everything was skipped)');
  const mission = newMission(id, o, refs, policy, now);
  await createMission(t.db, mission);
  await addItems(t.db, id, withDependents(items));
  await updateMission(t.db, id, '', {
    state: 'running',
    event: 'mission.state',
    text: `started with ${items.length} work item(s)`,
  });
  const d = newDispatcher(t.db, dispatchConfig(t), github);
  const reports = await tick(d, [id]);
  await releaseLeases(d, [id]);
  return { mission: (await getMission(t.db, id)) ?? mission, items, tick: reports };
};

export const missionsList = async (t: Town, all: boolean): Promise<Mission[]> => {
  const missions = report(t, await listMissions(t.db));
  return all ? missions : missions.filter((m) => !isTerminalMission(m.state));
};

export interface MissionView {
  mission: Mission;
  items: WorkItem[];
  watches: Watch[];
  notes: ControlNote[];
  pendingNotes: number;
  dispatcher: { lastTickAt?: number; lastTick?: number; leaseHolder?: string; leaseTtlMs?: number };
  events: TownEvent[];
}

export const missionStatus = async (t: Town, ref: string, events = 10): Promise<MissionView> => {
  const m = await findMission(t, ref);
  const items = report(t, await listItems(t.db, m.id)).sort((a, b) => a.rank - b.rank);
  const watches = report(t, await listWatches(t.db, m.id));
  const notes = await listNotes(t.db, m.id);
  const { holder, ttlMs: ttl } = await leaseHolder(t.db, m.id);
  return {
    mission: m,
    items,
    watches,
    notes,
    pendingNotes: notes.filter((n) => n.processedAt === undefined).length,
    dispatcher: {
      ...(m.lastTickAt !== undefined ? { lastTickAt: m.lastTickAt } : {}),
      ...(m.lastTick !== undefined ? { lastTick: m.lastTick } : {}),
      ...(holder ? { leaseHolder: holder, leaseTtlMs: ttl } : {}),
    },
    events: report(t, await recentEvents(t.db, { mission: m.id }, events)),
  };
};

/**
 * Queues an operator's control note for the dispatcher; a malformed directive is refused and
 * nothing stored.
 */
export const noteMission = async (
  t: Town,
  ref: string,
  body: string,
  sender = 'operator',
): Promise<ControlNote> => {
  parseNote(body);
  const m = await findMission(t, ref);
  const note: ControlNote = {
    id: randomUUID(),
    mission: m.id,
    sender,
    body: body.trim(),
    createdAt: t.clock.now(),
  };
  if (!(await queueNote(t.db, note))) throw new TtError(`mission ${m.id} no longer exists`);
  // A note answers any help prompt: take the mission's prompts out of the supervisor's inbox.
  // The help state stays, so the same question is not asked again at once (a tick may be in
  // flight as the note lands); a new reason is still asked at once.
  await updateMission(t.db, m.id, '', { retireHelp: true });
  return note;
};

/** Resumes a blocked mission now (without waiting for a dispatcher). */
export const resumeMission = async (t: Town, ref: string): Promise<Mission> => {
  const m = await findMission(t, ref);
  if (m.state !== 'blocked')
    throw new TtError(`mission ${shortId(m.id)} is ${m.state}; only a blocked mission resumes`);
  await updateMission(t.db, m.id, '', {
    state: 'running',
    del: ['blockedReason', 'helpAt', 'helpReason'],
    set: { helpAttempts: 0 },
    retireHelp: true,
    event: 'mission.state',
    text: 'resumed by the operator',
  });
  await wakeDispatcher(t.db);
  return (await getMission(t.db, m.id))!;
};

/** Stops a mission: blocked ("stopped by the operator"), or failed with --force. */
export const stopMission = async (t: Town, ref: string, force: boolean): Promise<Mission> => {
  const m = await findMission(t, ref);
  if (isTerminalMission(m.state)) throw new TtError(`mission ${shortId(m.id)} is already ${m.state}`);
  await updateMission(t.db, m.id, '', {
    state: force ? 'failed' : 'blocked',
    set: { blockedReason: force ? 'Stopped by the operator (forced)' : 'Stopped by the operator' },
    retireHelp: true,
    event: 'mission.state',
    text: force ? 'stopped by the operator (forced)' : 'stopped by the operator',
  });
  return (await getMission(t.db, m.id))!;
};

/** A dispatcher over this town's Redis (its own connection role), with the town's GitHub client. */
export const townDispatcher = async (t: Town, log?: (line: string) => void): Promise<Dispatcher> => {
  const d = newDispatcher(t.db, dispatchConfig(t), githubFor(t), log);
  if (t.env.TT_FAILPOINT) d.failpoint = t.env.TT_FAILPOINT;
  return d;
};

/** Runs the dispatcher until the signal aborts, or one tick with `once`. */
export const dispatch = async (
  t: Town,
  o: {
    once: boolean;
    mission?: string;
    signal?: AbortSignal;
    log?: (line: string) => void;
    onTick?: (r: MissionTickReport[]) => void;
  },
): Promise<MissionTickReport[]> => {
  // The dispatcher writes on a connection of its own that waits out a Redis restart.
  const d = await townDispatcher(
    { ...t, db: makeDb(await t.connect('dispatcher'), t.config.name, t.clock) },
    o.log,
  );
  const ids = o.mission ? [await resolveMission(t, o.mission)] : undefined;
  if (o.once) {
    const reports = await tick(d, ids);
    await releaseLeases(
      d,
      reports.map((r) => r.mission),
    );
    return reports;
  }
  const blocking = await t.connect('blocking');
  const interval = Math.round(t.config.agent.reapIntervalSecs * 1000);
  const chores = async () => {
    await reap(t.db, townDelays(t), 'no heartbeat (reaped by the dispatcher)', interval);
  };
  await runDispatcher(d, blocking, o.signal ?? new AbortController().signal, o.onTick, chores);
  return [];
};
