import { shortId } from '../model/ids.js';
import type { Mission } from '../model/mission.js';
import type { Dispatcher } from './dispatcher.js';

/** What one tick of one mission did, for the loop, the CLI and the tests. */
export interface MissionTickReport {
  mission: string;
  status: 'ticked' | 'held' | 'skipped' | 'lost';
  holder?: string;
  state?: Mission['state'];
  assigned: number;
  completions: number;
  promoted: number;
  notes: { id: string; effect: string }[];
  watchesChecked: number;
  help?: string;
  /** Why a watch needs the operator's word this tick (a help prompt), if one does. */
  askOperator?: string;
  progress: boolean;
  nextWakeAt?: number;
  /** Ready items stayed ready though slots were free: no agent with room could take them. */
  unassignable?: boolean;
  /** Records this tick could not read (a finished task or its item), reported and skipped. */
  malformed?: string[];
}

/** The report of a tick that has done nothing yet. */
export const newReport = (mission: string): MissionTickReport => ({
  mission,
  status: 'ticked',
  assigned: 0,
  completions: 0,
  promoted: 0,
  notes: [],
  watchesChecked: 0,
  progress: false,
});

/** Malformed records each dispatcher has logged: a record is logged once, reported every tick. */
const logged = new WeakMap<Dispatcher, Set<string>>();

/** A record the tick could not read is reported (the tick report, the log once) and skipped. */
export const reportMalformed = (d: Dispatcher, report: MissionTickReport, line: string): void => {
  const list = (report.malformed ??= []);
  if (!list.includes(line)) list.push(line);
  let seen = logged.get(d);
  if (!seen) logged.set(d, (seen = new Set()));
  if (seen.has(line)) return;
  seen.add(line);
  d.log?.(`mission ${shortId(report.mission)}: skipped malformed record ${line}`);
};
