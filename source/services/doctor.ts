import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { defaultCli, effectivePresets, findTownRoot, loadGlobalConfig, type Env } from '../config/load.js';
import { cliCommand, normaliseCli } from '../config/presets.js';
import {
  CLI_PRESETS,
  PRESETS,
  SIM,
  adapterEnv,
  commandProgram,
  findExecutable,
  type CliAdapter,
  type Judge,
  type Verify,
} from '../runtime/clis/index.js';
import { readTown, type Where } from './context.js';

/** `tt doctor`: whether each CLI preset can run here, and what to do when it cannot. */

export interface CliCheck {
  name: string;
  command: string;
  /** `agent`: a coding-agent CLI tt has an adapter for; `command`: any other command line. */
  kind: 'agent' | 'command' | 'sim';
  /** The executable looked for; absent for a shell construct (not checked) and for sim. */
  program?: string;
  /** Whether `program` was found; absent when nothing was looked for. */
  found?: boolean;
  path?: string;
  /** What `--version` printed (an agent CLI's only). */
  version?: string;
  /** The release tt's adapter is verified against. */
  release?: string;
  usable: boolean;
  /** Why it is not usable, in one line. */
  problem?: string;
  /** What fixes it. */
  fix?: string;
  notes: string[];
  /** What the user must set up for it (keys, logins). */
  setup?: string;
  judge?: Judge;
  verify?: Verify;
  /** Environment tt sets for its rounds. */
  env?: Record<string, string>;
  /** Names of the credential variables and files seen (never their values). */
  credentials?: string[];
}

export interface DoctorReport {
  town?: string;
  root: boolean;
  defaultCli: string;
  clis: CliCheck[];
}

const VERSION_TIMEOUT_MS = 15_000;

/** Control characters and escapes out of a line another program printed. */
const printable = (s: string): string =>
  s
    .replace(/\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-_]/g, '')
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ')
    .trim();

interface VersionRun {
  code: number | null;
  signal: string | null;
  timedOut: boolean;
  output: string;
  error?: string;
}

/** Runs `<path> <args>` in its own process group, killing the group when it outlives the timeout. */
const runVersion = (path: string, args: readonly string[], env: Record<string, string>, timeoutMs: number) =>
  new Promise<VersionRun>((resolve) => {
    let output = '';
    let timedOut = false;
    const child = spawn(path, [...args], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const take = (b: Buffer) => {
      if (output.length < 8192) output += b.toString('utf8');
    };
    child.stdout?.on('data', take);
    child.stderr?.on('data', take);
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, signal: null, timedOut, output, error: e.message });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut, output });
    });
  });

const versionOf = (output: string): string | undefined =>
  /\b(\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?)/.exec(output)?.[1]?.replace(/\.$/, '');

const definedEnv = (env: Env): Record<string, string> =>
  Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));

const credentialsSeen = (a: CliAdapter, env: Env): string[] => {
  const home = env.HOME || homedir();
  return [
    ...(a.credentials?.env ?? []).filter((k) => env[k]?.trim()),
    ...(a.credentials?.files ?? []).filter((f) => existsSync(join(home, f))).map((f) => `~/${f}`),
  ];
};

const checkAgent = async (
  name: string,
  command: string,
  a: CliAdapter,
  o: { env: Env; cwd: string; root: boolean; timeoutMs: number },
): Promise<CliCheck> => {
  const ttEnv = adapterEnv(a, { root: o.root });
  const base: CliCheck = {
    name,
    command,
    kind: 'agent',
    release: a.release,
    usable: false,
    notes: [],
    setup: a.setup,
    judge: a.judge,
    verify: a.verify,
    env: ttEnv,
  };
  const program = commandProgram(command);
  if (!program) return { ...base, usable: true, notes: ['a shell command line: not checked'] };
  const path = findExecutable(program, o.env.PATH, o.cwd);
  const install = program === a.bin ? a.install : undefined;
  if (!path)
    return {
      ...base,
      program,
      found: false,
      problem: program.includes('/')
        ? `${program} does not exist or is not executable`
        : `${program} is not on PATH`,
      fix: install ?? `install ${program}, or fix the command line of preset ${name}`,
    };
  const v = await runVersion(path, a.versionArgs, { ...definedEnv(o.env), ...ttEnv }, o.timeoutMs);
  const said = printable(v.output.split('\n').find((l) => l.trim()) ?? '');
  const version = v.code === 0 ? versionOf(v.output) : undefined;
  const checked: CliCheck = { ...base, program, found: true, path, ...(version ? { version } : {}) };
  if (v.code !== 0) {
    const args = a.versionArgs.join(' ');
    const how = v.error
      ? `could not be started (${printable(v.error)})`
      : v.timedOut
        ? `did not answer in ${Math.round(o.timeoutMs / 1000)}s`
        : v.signal
          ? `was killed by ${v.signal}`
          : `exited ${v.code}`;
    return {
      ...checked,
      problem: `\`${program} ${args}\` ${how}${said ? `: ${said.slice(0, 160)}` : ''}`,
      fix: install ? `reinstall it: ${install}` : `check ${path}`,
    };
  }
  const notes: string[] = [];
  if (version && version !== a.release)
    notes.push(`tt is verified with ${a.release}${install ? ` (${install})` : ''}; this is ${version}`);
  for (const e of a.env)
    if (e.rootOnly && o.root) notes.push(`running as root: tt sets ${e.name}=${e.value} for it (${e.why})`);
  if (a.judge === 'exit' && a.name === 'aider')
    notes.push(
      'judged by its exit code: with --yes-always it declines shell commands, so it cannot run tt itself',
    );
  const credentials = credentialsSeen(a, o.env);
  if (a.credentials && !credentials.length) notes.push(`no credentials seen; it needs ${a.setup}`);
  return { ...checked, usable: true, notes, ...(a.credentials ? { credentials } : {}) };
};

const checkCommand = (name: string, command: string, o: { env: Env; cwd: string }): CliCheck => {
  const base: CliCheck = {
    name,
    command,
    kind: 'command',
    usable: true,
    notes: [],
    judge: 'exit',
    verify: 'none',
  };
  const program = commandProgram(command);
  if (!program) return { ...base, notes: ['a shell command line: not checked'] };
  const path = findExecutable(program, o.env.PATH, o.cwd);
  if (path) return { ...base, program, found: true, path };
  return {
    ...base,
    program,
    found: false,
    usable: false,
    problem: program.includes('/')
      ? `${program} does not exist or is not executable`
      : `${program} is not on PATH`,
    fix: `install ${program}, or fix the command line of preset ${name}`,
  };
};

const checkOne = (
  name: string,
  command: string,
  o: { env: Env; cwd: string; root: boolean; timeoutMs: number },
): Promise<CliCheck> | CliCheck => {
  if (name === SIM)
    return {
      name,
      command,
      kind: 'sim',
      usable: true,
      notes: ['built in: a simulated agent, no process, no model'],
    };
  const preset = PRESETS.find((p) => p.name === name);
  return preset ? checkAgent(name, command, preset.adapter, o) : checkCommand(name, command, o);
};

/**
 * Checks every CLI preset in force here (the town's when run in one, else the built-in and global
 * ones): found on PATH, its version (run with a timeout), usable or why not and the fix.
 */
export const doctor = async (where: Where, opts: { timeoutMs?: number } = {}): Promise<DoctorReport> => {
  const inTown = Boolean(where.town) || findTownRoot(where.cwd) !== undefined;
  const town = inTown ? readTown(where) : undefined;
  const global = town?.global ?? loadGlobalConfig(where.env);
  const presets = town?.presets ?? effectivePresets(CLI_PRESETS, undefined, global);
  const dflt = normaliseCli(defaultCli(town?.config, global), presets);
  const o = {
    env: where.env,
    cwd: town?.root ?? where.cwd,
    root: process.getuid?.() === 0,
    timeoutMs: opts.timeoutMs ?? VERSION_TIMEOUT_MS,
  };
  const names = [...Object.keys(presets), ...(dflt in presets ? [] : [dflt])];
  const clis = await Promise.all(names.map((n) => checkOne(n, cliCommand(n, presets), o)));
  return { ...(town ? { town: town.root } : {}), root: o.root, defaultCli: dflt, clis };
};

/**
 * Why an agent with this CLI could not start here, in one line with the fix; undefined when it
 * can (or when that cannot be told: sim, a shell construct). Only the program is checked.
 */
export const cliStartProblem = (
  t: { env: Env; presets: Record<string, string>; root: string },
  cli: string,
): string | undefined => {
  if (cli === SIM) return undefined;
  const command = cliCommand(cli, t.presets);
  const program = commandProgram(command);
  if (!program || findExecutable(program, t.env.PATH, t.root)) return undefined;
  const adapter = PRESETS.find((p) => p.name === cli)?.adapter;
  const fix =
    adapter && adapter.bin === program
      ? `install it: ${adapter.install}`
      : cli === command
        ? 'install it, or give its full path'
        : `install it, or fix the command line of preset ${cli}`;
  const what = program.includes('/')
    ? `${program} does not exist or is not executable`
    : `${program} is not on PATH`;
  return `${cli === program ? '' : `--cli ${cli}: `}${what}; ${fix} (tt doctor checks every CLI)`;
};
