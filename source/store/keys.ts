/**
 * The key schema, `tt:{<town>}:<kind>:<id>`. The braces are a Redis Cluster hash tag: a town lives
 * in one slot. docs/REDIS.md documents every key built here; a test checks the two agree.
 */
export const townPrefix = (town: string): string => `tt:{${town}}:`;

export const keysFor = (town: string) => {
  const p = townPrefix(town);
  return {
    prefix: p,
    meta: `${p}town`,
    seq: `${p}seq`,
    agents: `${p}agents`,
    agentNames: `${p}agents:names`,
    agent: (id: string) => `${p}agent:${id}`,
    inbox: (id: string) => `${p}inbox:${id}`,
    wake: (id: string) => `${p}wake:${id}`,
    held: (id: string) => `${p}held:${id}`,
    running: (id: string) => `${p}running:${id}`,
    heartbeat: (id: string) => `${p}hb:${id}`,
    stop: (id: string) => `${p}stop:${id}`,
    activity: (id: string) => `${p}activity:${id}`,
    tasks: `${p}tasks`,
    tasksIn: (state: string) => `${p}tasks:${state}`,
    task: (id: string) => `${p}task:${id}`,
    backlog: `${p}backlog`,
    backlogWake: `${p}backlog:wake`,
    delayed: `${p}delayed`,
    reapLock: `${p}lock:reap`,
    missions: `${p}missions`,
    missionsActive: `${p}missions:active`,
    mission: (id: string) => `${p}mission:${id}`,
    missionItems: (id: string) => `${p}mission:${id}:items`,
    missionItem: (id: string, item: string) => `${p}mission:${id}:item:${item}`,
    missionReady: (id: string) => `${p}mission:${id}:ready`,
    missionWaiting: (id: string) => `${p}mission:${id}:waiting`,
    missionActive: (id: string) => `${p}mission:${id}:active`,
    missionTouched: (id: string) => `${p}mission:${id}:touched`,
    missionBlocked: (id: string) => `${p}mission:${id}:blocked`,
    missionWatches: (id: string) => `${p}mission:${id}:watches`,
    missionWatch: (id: string, watch: string) => `${p}mission:${id}:watch:${watch}`,
    missionNotes: (id: string) => `${p}mission:${id}:notes`,
    missionNotesPending: (id: string) => `${p}mission:${id}:notes:pending`,
    missionCompletions: (id: string) => `${p}mission:${id}:completions`,
    missionLease: (id: string) => `${p}mission:${id}:lease`,
    dispatchWake: `${p}dispatch:wake`,
    events: `${p}events`,
    agentEvents: (id: string) => `${p}events:agent:${id}`,
    missionEvents: (id: string) => `${p}events:mission:${id}`,
    attempt: (agentId: string, round: number) => `${p}attempt:${agentId}:${round}`,
    taskAttempts: (id: string) => `${p}attempts:task:${id}`,
    agentAttempts: (id: string) => `${p}attempts:agent:${id}`,
  };
};
export type Keys = ReturnType<typeof keysFor>;

/** TTLs and bounds, in one place so docs/REDIS.md can be checked against them. */
export const STOP_FLAG_TTL_SECS = 3600;
export const ACTIVITY_TTL_SECS = 3600;
export const ACTIVITY_MAX = 10;
/** An attempt's event stream: at most about this many events (XADD MAXLEN ~). */
export const ATTEMPT_EVENTS_MAX = 2000;
/** An attempt's stream and indexes expire this long after their last write. */
export const ATTEMPT_TTL_SECS = 7 * 24 * 3600;
/** Attempts kept in a task's or an agent's index (the newest). */
export const ATTEMPT_INDEX_MAX = 100;
