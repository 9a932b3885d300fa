import { z } from 'zod';
import { UsageError } from './errors.js';
import { WorkKind, type WorkItem } from './mission.js';

/**
 * The work-graph compiler: issues, docs and an optional manifest become the work items of a
 * mission, with dependencies, inferred kinds and owner roles, and a topological rank.
 * Pure: the caller fetches issue texts and passes the clock reading and an id source.
 */

// ---- Words ---------------------------------------------------------------------------------

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A regex matching any of `words` as a whole word (letters and digits around it do not count). */
const wordsRe = (words: readonly string[]): RegExp =>
  new RegExp(`(?<![a-z0-9])(?:${words.map(escape).join('|')})(?![a-z0-9])`, 'i');

// ---- Dependencies --------------------------------------------------------------------------

const NUMREF = String.raw`#\d+`;
const SEP = String.raw`\s*(?:,\s*(?:and|&)?|&|and)\s*`;
const DEP_RE = new RegExp(
  String.raw`(?<![a-z0-9])(?:depends?\s+on|blocked\s+by|after|requires?)(?![a-z0-9])\s*:?\s*(?:issues?\s+)?(${NUMREF}(?:${SEP}(?:issues?\s+)?${NUMREF})*)`,
  'gi',
);

/**
 * Issue numbers this text says it waits for: `#N` lists after "depends on", "depend on",
 * "blocked by", "after", "requires" or "require" (whole words, any case), such as "#4",
 * "#2 and #3", "#2, #3 & #5". Deduplicated and sorted.
 */
export const parseDependencies = (text: string): number[] => {
  const found = new Set<number>();
  for (const m of text.matchAll(DEP_RE)) {
    for (const n of m[1]!.matchAll(/#(\d+)/g)) {
      const v = Number(n[1]);
      if (Number.isSafeInteger(v) && v > 0) found.add(v);
    }
  }
  return [...found].sort((a, b) => a - b);
};

// ---- Inference -----------------------------------------------------------------------------

/** First match wins; whole words only (plurals count), so "build" is not "ui" and "prefix" not "fix". */
const KIND_RULES: readonly [RegExp, WorkKind][] = [
  [wordsRe(['design', 'designs', 'rfc', 'rfcs', 'proposal', 'proposals']), 'design'],
  [wordsRe(['test', 'tests', 'spec', 'specs']), 'test'],
  [wordsRe(['review', 'reviews']), 'review'],
  [wordsRe(['merge', 'merges']), 'mergegate'],
  [wordsRe(['followup', 'followups', 'follow-up', 'follow-ups', 'fix', 'fixes']), 'followup'],
];

export const inferKind = (title: string, body: string): WorkKind => {
  const text = `${title}\n${body}`;
  for (const [re, kind] of KIND_RULES) if (re.test(text)) return kind;
  return 'implement';
};

const BACKEND_RE = wordsRe(['backend', 'back-end', 'api', 'apis', 'server', 'servers']);
const FRONTEND_RE = wordsRe(['frontend', 'front-end', 'ui', 'web']);
const QA_OWNER_RE = /(?<![a-z0-9])qa\s+owner(?![a-z0-9])/i;
const DEVOPS_RE = wordsRe(['devops', 'infrastructure', 'deploy', 'deploys', 'deployment', 'deployments']);

/** The role that should own an item (reference order), or undefined for anyone. */
export const inferOwnerRole = (title: string, body: string, kind: WorkKind): string | undefined => {
  const text = `${title}\n${body}`;
  if (BACKEND_RE.test(text)) return 'backend';
  if (FRONTEND_RE.test(text)) return 'frontend';
  if (kind === 'test' || QA_OWNER_RE.test(text)) return 'tester';
  if (kind === 'review') return 'reviewer';
  if (DEVOPS_RE.test(text)) return 'devops';
  return undefined;
};

// ---- Manifest ------------------------------------------------------------------------------

export const ManifestItem = z
  .strictObject({
    key: z.string().trim().min(1).optional(),
    /** An issue of the mission (by number) this entry describes or overrides. */
    issue: z.number().int().positive().optional(),
    title: z.string().trim().min(1).optional(),
    body: z.string().optional(),
    kind: WorkKind.optional(),
    /** Keys of other entries, doc paths, or issue numbers of the mission. */
    dependsOn: z.array(z.union([z.number().int().positive(), z.string().trim().min(1)])).optional(),
    ownerRole: z.string().trim().min(1).optional(),
    caps: z.array(z.string().trim().min(1)).optional(),
    skip: z.boolean().optional(),
  })
  .refine((e) => e.issue !== undefined || e.title !== undefined, {
    message: 'a manifest item needs an issue or a title',
  });
export type ManifestItem = z.infer<typeof ManifestItem>;

export const Manifest = z.strictObject({ items: z.array(ManifestItem) }).superRefine((m, ctx) => {
  const seen = new Set<string>();
  m.items.forEach((e, i) => {
    if (e.key === undefined) return;
    if (seen.has(e.key))
      ctx.addIssue({ code: 'custom', path: ['items', i, 'key'], message: `duplicate key "${e.key}"` });
    seen.add(e.key);
  });
});
export type Manifest = z.infer<typeof Manifest>;

/** A manifest that does not fit the mission (unknown keys or issues, ambiguous numbers). */
export class ManifestError extends UsageError {}

/** The dependency graph has a cycle; `cycle` lists its items in order, the first repeated last. */
export class CycleError extends UsageError {
  constructor(readonly cycle: string[]) {
    super(`dependency cycle: ${cycle.join(' -> ')}`);
  }
}

// ---- Compile -------------------------------------------------------------------------------

export interface IssueInput {
  ref: { owner: string; repo: string; number: number };
  title: string;
  body: string;
}

export interface CompileInput {
  missionId: string;
  issues: readonly IssueInput[];
  docs: readonly string[];
  manifest?: Manifest;
  now: number;
  newId: () => string;
}

interface Node {
  title: string;
  body: string;
  kind: WorkKind;
  ownerRole: string | undefined;
  caps: string[];
  sourceRef: string | undefined;
  /** What the cycle message calls it. */
  label: string;
  /** Dependencies as node indexes. */
  deps: Set<number>;
  entry?: ManifestItem;
  issue?: IssueInput;
}

const repoKey = (r: IssueInput['ref']): string => `${r.owner}/${r.repo}`.toLowerCase();
const issueKey = (r: IssueInput['ref']): string => `${repoKey(r)}#${r.number}`;
const entryLabel = (e: ManifestItem): string =>
  e.key ? `"${e.key}"` : e.issue !== undefined ? `#${e.issue}` : `"${e.title}"`;
const uniq = (xs: readonly string[]): string[] => [...new Set(xs)];

/**
 * Compiles a mission's objectives into work items: one per issue (unless the manifest skips
 * it), one design item per doc, one per manifest entry without an issue. Manifest fields
 * override inference. Items come back in input order (issues, docs, manifest-only entries);
 * `rank` is the position in a topological order (Kahn, ties by input order).
 * Throws CycleError for a cycle and ManifestError for a manifest that does not fit.
 */
export const compileMission = (input: CompileInput): WorkItem[] => {
  const manifest = input.manifest ? parseManifest(input.manifest) : undefined;
  const issues: IssueInput[] = [];
  const byIssue = new Map<string, IssueInput>();
  for (const i of input.issues) {
    if (byIssue.has(issueKey(i.ref))) continue;
    byIssue.set(issueKey(i.ref), i);
    issues.push(i);
  }
  const oneRepo = new Set(issues.map((i) => repoKey(i.ref))).size <= 1;

  // Which issue each manifest entry names, by number.
  const issuesByNumber = (n: number): IssueInput[] => issues.filter((i) => i.ref.number === n);
  const issueByNumber = (n: number, where: string): IssueInput => {
    const hits = issuesByNumber(n);
    if (hits.length === 0)
      throw new ManifestError(`manifest: ${where} names issue #${n}, which is not an issue of this mission`);
    if (hits.length > 1)
      throw new ManifestError(
        `manifest: ${where} names issue #${n}, which is ambiguous: ${hits.map((h) => issueKey(h.ref)).join(', ')}`,
      );
    return hits[0]!;
  };
  const entryOf = new Map<IssueInput, ManifestItem>();
  for (const e of manifest?.items ?? []) {
    if (e.issue === undefined) continue;
    const issue = issueByNumber(e.issue, `item ${entryLabel(e)}`);
    if (entryOf.has(issue)) throw new ManifestError(`manifest: issue #${e.issue} has more than one entry`);
    entryOf.set(issue, e);
  }

  const nodes: Node[] = [];
  const nodeOfIssue = new Map<IssueInput, number>();
  const nodeOfKey = new Map<string, number>();
  const nodeOfDoc = new Map<string, number>();
  const skippedKeys = new Set<string>();
  const skippedIssues = new Set<IssueInput>();

  const add = (n: Node): number => {
    nodes.push(n);
    const idx = nodes.length - 1;
    if (n.entry?.key !== undefined) nodeOfKey.set(n.entry.key, idx);
    return idx;
  };
  const fromEntry = (e: ManifestItem | undefined, title: string, body: string) => {
    const t = e?.title ?? title;
    const b = e?.body ?? body;
    const kind = e?.kind ?? inferKind(t, b);
    return {
      title: t,
      body: b,
      kind,
      ownerRole: e?.ownerRole ?? inferOwnerRole(t, b, kind),
      caps: uniq(e?.caps ?? []),
    };
  };

  for (const issue of issues) {
    const e = entryOf.get(issue);
    if (e?.skip) {
      skippedIssues.add(issue);
      if (e.key !== undefined) skippedKeys.add(e.key);
      continue;
    }
    const f = fromEntry(e, issue.title, issue.body);
    const sourceRef = `${issue.ref.owner}/${issue.ref.repo}#${issue.ref.number}`;
    nodeOfIssue.set(
      issue,
      add({
        ...f,
        sourceRef,
        label: oneRepo ? `#${issue.ref.number}` : sourceRef,
        deps: new Set(),
        issue,
        ...(e ? { entry: e } : {}),
      }),
    );
  }
  for (const path of uniq(input.docs)) {
    nodeOfDoc.set(
      path,
      add({
        title: path,
        body: '',
        kind: 'design',
        ownerRole: undefined,
        caps: [],
        sourceRef: path,
        label: path,
        deps: new Set(),
      }),
    );
  }
  for (const e of manifest?.items ?? []) {
    if (e.issue !== undefined) continue;
    if (e.skip) {
      if (e.key !== undefined) skippedKeys.add(e.key);
      continue;
    }
    add({
      ...fromEntry(e, e.title!, ''),
      sourceRef: undefined,
      label: e.key ?? e.title!,
      deps: new Set(),
      entry: e,
    });
  }

  // Dependencies: issue text (same repository, issues of the mission only) plus the manifest.
  nodes.forEach((n, idx) => {
    if (n.issue) {
      const repo = repoKey(n.issue.ref);
      for (const num of parseDependencies(`${n.title}\n${n.body}`)) {
        const dep = byIssue.get(`${repo}#${num}`);
        const di = dep ? nodeOfIssue.get(dep) : undefined;
        if (di !== undefined && di !== idx) n.deps.add(di);
      }
    }
    for (const d of n.entry?.dependsOn ?? []) {
      const where = `item ${entryLabel(n.entry!)}`;
      if (typeof d === 'number') {
        const dep = issueByNumber(d, where);
        const di = nodeOfIssue.get(dep);
        if (di !== undefined) n.deps.add(di);
        else if (!skippedIssues.has(dep))
          throw new ManifestError(`manifest: ${where} depends on #${d}, which is not an item`);
        continue;
      }
      const di = nodeOfKey.get(d) ?? nodeOfDoc.get(d);
      if (di !== undefined) n.deps.add(di);
      else if (!skippedKeys.has(d)) {
        const known = [...nodeOfKey.keys(), ...nodeOfDoc.keys()];
        throw new ManifestError(
          `manifest: ${where} depends on unknown key "${d}"${known.length ? ` (known: ${known.join(', ')})` : ' (no entry has a key)'}`,
        );
      }
    }
  });

  const rank = topoRank(nodes);
  const ids = nodes.map(() => input.newId());
  return nodes.map((n, i): WorkItem => {
    const deps = [...n.deps].sort((a, b) => a - b).map((d) => ids[d]!);
    return {
      id: ids[i]!,
      mission: input.missionId,
      title: n.title,
      body: n.body,
      kind: n.kind,
      deps,
      ...(n.ownerRole !== undefined ? { ownerRole: n.ownerRole } : {}),
      caps: n.caps,
      status: deps.length ? 'pending' : 'ready',
      artifacts: [],
      reviewerApproved: false,
      ...(n.sourceRef !== undefined ? { sourceRef: n.sourceRef } : {}),
      rank: rank[i]!,
      createdAt: input.now,
      updatedAt: input.now,
    };
  });
};

const parseManifest = (m: Manifest): Manifest => {
  const r = Manifest.safeParse(m);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw new ManifestError(
    `manifest: ${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`,
  );
};

/** Kahn's algorithm, ties broken by input order; returns each node's position. */
const topoRank = (nodes: readonly Node[]): number[] => {
  const indeg = nodes.map((n) => n.deps.size);
  const dependents: number[][] = nodes.map(() => []);
  nodes.forEach((n, i) => n.deps.forEach((d) => dependents[d]!.push(i)));
  // The ready set, kept sorted descending so the smallest index pops from the end.
  const ready: number[] = [];
  const insert = (x: number) => {
    let lo = 0;
    let hi = ready.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ready[mid]! > x) lo = mid + 1;
      else hi = mid;
    }
    ready.splice(lo, 0, x);
  };
  indeg.forEach((d, i) => d === 0 && ready.push(i));
  ready.reverse();
  const rank = nodes.map(() => -1);
  let next = 0;
  while (ready.length) {
    const i = ready.pop()!;
    rank[i] = next++;
    for (const j of dependents[i]!) if (--indeg[j]! === 0) insert(j);
  }
  if (next < nodes.length) throw new CycleError(findCycle(nodes, rank));
  return rank;
};

/** One cycle among the unranked nodes, starting from the earliest, following "depends on". */
const findCycle = (nodes: readonly Node[], rank: readonly number[]): string[] => {
  const stuck = (i: number) => rank[i] === -1;
  // Every stuck node waits for at least one stuck node; walk until a node repeats.
  let at = rank.findIndex((r) => r === -1);
  const seenAt = new Map<number, number>();
  const path: number[] = [];
  while (!seenAt.has(at)) {
    seenAt.set(at, path.length);
    path.push(at);
    at = [...nodes[at]!.deps].filter(stuck).sort((a, b) => a - b)[0]!;
  }
  const cycle = path.slice(seenAt.get(at)!);
  // Start the message at the earliest item of the cycle so it reads the same every time.
  const start = cycle.indexOf(Math.min(...cycle));
  const ordered = [...cycle.slice(start), ...cycle.slice(0, start)];
  return [...ordered, ordered[0]!].map((i) => nodes[i]!.label);
};
