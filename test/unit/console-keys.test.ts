import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../source/console/commands.js';
import { completions, handleKey, keyName, parseCommandLine } from '../../source/console/keys.js';
import { footerHints } from '../../source/console/view.js';
import { agent, consoleHarness, K, NOW, snapshot, task } from '../helpers/console.js';

const press = async (h: ReturnType<typeof consoleHarness>, ...keys: (string | [string, object])[]) => {
  const ran: (string | undefined)[] = [];
  for (const k of keys)
    ran.push(await (typeof k === 'string' ? handleKey(h.ctx, k, {}) : handleKey(h.ctx, k[0], k[1])));
  return ran;
};

describe('console keys', () => {
  it('names keys as the registry writes them', () => {
    expect(keyName('', { tab: true, shift: true })).toBe('shift+tab');
    expect(keyName('c', { ctrl: true })).toBe('ctrl+c');
    expect(keyName('', { pageDown: true })).toBe('pagedown');
    expect(keyName('G', {})).toBe('G');
  });

  it('every registry entry has a unique id and no key is bound twice in one scope', () => {
    const ids = COMMANDS.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    const seen = new Map<string, string>();
    for (const c of COMMANDS)
      for (const k of c.keys) {
        const key = `${c.scope} ${k}`;
        expect(seen.get(key), `${key}: ${c.id} and ${seen.get(key)}`).toBeUndefined();
        seen.set(key, c.id);
      }
  });

  it('focus moves with tab, shift+tab and 1-5; j/k move the selection by id', async () => {
    const h = consoleHarness();
    expect(await press(h, ['', K.tab])).toEqual(['next-pane']);
    expect(h.store.getState().ui.pane).toBe('tasks');
    await press(h, ['', K.shiftTab], '3');
    expect(h.store.getState().ui.pane).toBe('missions');
    await press(h, 'j');
    expect(h.store.getState().ui.selected.missions).toBe('i1');
    await press(h, 'G');
    expect(h.store.getState().ui.selected.missions).toBe('i2');
    await press(h, 'g', 'k');
    expect(h.store.getState().ui.selected.missions).toBe('m1');
  });

  it('mission keys send control notes for the selected mission', async () => {
    const h = consoleHarness();
    await press(h, '3', 'p', 'r');
    expect(h.calls).toEqual([
      ['pauseMission', 'm1'],
      ['resumeMission', 'm1'],
    ]);
    await press(h, 'n', 'h', 'o', 'l', 'd', ['', K.enter]);
    expect(h.calls.at(-1)).toEqual(['noteMission', 'm1', 'hold']);
  });

  it('redirect asks for the agent, then queues a redirect of the selected work item', async () => {
    const h = consoleHarness();
    await press(h, '3', 'j', 'j', 'd');
    expect(h.store.getState().ui.modal).toMatchObject({ kind: 'input', command: 'redirect' });
    await press(h, 'b', 'o', 'b', ['', K.enter]);
    expect(h.calls).toEqual([['redirectItem', 'm1', 'i2', 'bob']]);
  });

  it('dangerous commands ask first; n cancels, y runs', async () => {
    const h = consoleHarness();
    await press(h, 'j', 'K');
    expect(h.store.getState().ui.modal).toMatchObject({ kind: 'confirm', command: 'kill' });
    await press(h, 'n');
    expect(h.calls).toEqual([]);
    await press(h, 'K', 'y');
    expect(h.calls).toEqual([['killAgent', 'bob-0000-4000-8000-000000000000']]);
  });

  it('R restarts a stopped agent (tt restart), and only a stopped one', async () => {
    const h = consoleHarness({
      snapshot: snapshot({ agents: [agent('ada', { state: 'stopped' }), agent('bob')] }),
    });
    // Stopped agents sort after live ones: bob first, then ada.
    expect(footerHints(h.store.getState())).not.toMatch(/restart/);
    await press(h, 'j');
    expect(footerHints(h.store.getState())).toMatch(/R restart/);
    expect(await press(h, 'R')).toEqual(['restart']);
    expect(h.calls).toEqual([['restartAgent', 'ada-0000-4000-8000-000000000000']]);
    expect(h.store.getState().ui.footer?.text).toBe('restartAgent done');
    await press(h, 'k');
    expect(footerHints(h.store.getState())).not.toMatch(/restart/);
    expect(await press(h, 'R')).toEqual([undefined]);
    expect(h.calls).toHaveLength(1);
    expect(h.store.getState().ui.footer?.text).toMatch(/only a stopped agent is restarted/);
    const ro = consoleHarness({
      readOnly: true,
      snapshot: snapshot({ agents: [agent('ada', { state: 'stopped' })] }),
    });
    await press(ro, 'R');
    expect(ro.calls).toEqual([]);
  });

  it('a key that does not apply says why in the footer, and runs nothing', async () => {
    const h = consoleHarness();
    await press(h, '2', 'j');
    expect(await press(h, 'r')).toEqual([undefined]);
    expect(h.store.getState().ui.footer?.text).toMatch(/only a failed task is retried/);
    await press(h, 'x');
    expect(h.store.getState().ui.footer?.text).toMatch(/does nothing here/);
    await press(h, 'p');
    expect(h.store.getState().ui.footer?.text).toMatch(/"p" pause the mission .* in the missions pane/);
    expect(h.calls).toEqual([]);
  });

  it('while Redis is away every mutating key is disabled with the reason', async () => {
    const h = consoleHarness({ link: 'disconnected' });
    await press(h, '3', 'p');
    expect(h.calls).toEqual([]);
    expect(h.store.getState().ui.footer?.text).toMatch(/Redis is disconnected/);
  });

  it('read-only removes mutating commands: their keys do nothing, help does not list them', async () => {
    const h = consoleHarness({ readOnly: true });
    await press(h, '3', 'p', '1', 'K');
    expect(h.calls).toEqual([]);
    expect(h.store.getState().ui.modal).toBeUndefined();
  });

  it('answering a help prompt sends the answer for its mission', async () => {
    const h = consoleHarness();
    await press(h, '5', 'a', 'r', 'e', 's', 'u', 'm', 'e', ['', K.enter]);
    expect(h.calls).toEqual([['answerHelp', expect.objectContaining({ id: 'h1', mission: 'm1' }), 'resume']]);
  });

  it('the command line completes, keeps history, and runs any command by name', async () => {
    const h = consoleHarness();
    expect(parseCommandLine(':note m1 hello there')).toEqual({
      name: 'note',
      args: ['m1', 'hello', 'there'],
    });
    expect(completions('pa')).toEqual(['page-down', 'page-up', 'pause']);
    await press(h, ':', 'p', 'a', 'u', ['', K.tab]);
    expect(h.store.getState().ui.modal).toMatchObject({ kind: 'command', value: 'pause ' });
    expect(await press(h, ['', K.enter])).toEqual(['pause']);
    expect(h.store.getState().ui.pane).toBe('missions');
    expect(h.calls).toEqual([['pauseMission', 'm1']]);
    await press(h, ':', ['', K.up]);
    expect(h.store.getState().ui.modal).toMatchObject({ value: 'pause ' });
    await press(h, ['', K.escape], ':', 'n', 'o', 'p', 'e', ['', K.enter]);
    expect(h.store.getState().ui.footer?.text).toMatch(/no command "nope"/);
  });

  it('on the command line a mission or an agent may be named first', async () => {
    const h = consoleHarness();
    await press(h, ':');
    for (const ch of 'note m1xx') await handleKey(h.ctx, ch, {});
    // "m1xx" is not a mission: the selected mission gets the whole text.
    await press(h, ['', K.enter]);
    expect(h.calls.at(-1)).toEqual(['noteMission', 'm1', 'm1xx']);
    const { namedAgent, namedMission } = await import('../../source/console/commands.js');
    const s = {
      ...h.store.getState(),
      snapshot: {
        ...h.store.getState().snapshot!,
        missions: [{ ...h.store.getState().snapshot!.missions[0]!, id: 'abcd1234-0000' }],
      },
    };
    expect(namedMission(s, ['abcd', 'resume'])).toEqual({ id: 'abcd1234-0000', rest: ['resume'] });
    expect(namedAgent(s, ['bob', 'write', 'docs'])).toEqual({
      id: 'bob-0000-4000-8000-000000000000',
      rest: ['write', 'docs'],
    });
    expect(namedAgent(s, ['write', 'docs'])).toEqual({ rest: ['write', 'docs'] });
    // A short word that an id happens to start with is text, not an agent (ids need 4+ digits).
    const hexIds = {
      ...s,
      snapshot: {
        ...s.snapshot,
        agents: s.snapshot.agents.map((a, i) => ({ ...a, id: `add0000${i}-0000-4000-8000-000000000000` })),
      },
    };
    expect(namedAgent(hexIds, ['add', 'tests'])).toEqual({ rest: ['add', 'tests'] });
    expect(namedAgent(hexIds, ['add00001', 'tests'])).toEqual({
      id: 'add00001-0000-4000-8000-000000000000',
      rest: ['tests'],
    });
  });

  it(':spawn takes every flag tt spawn takes (its own definitions) and refuses an unknown one', async () => {
    const { SPAWN_FLAGS } = await import('../../source/services/spawn.js');
    const h = consoleHarness();
    const line = async (text: string) => {
      await handleKey(h.ctx, ':', {});
      await handleKey(h.ctx, text, {});
      return handleKey(h.ctx, '', K.enter);
    };
    const given: Record<string, string> = {
      cli: '-c claude',
      role: '--role backend',
      nickname: '--nickname Adele',
      parent: '--parent bob',
      cap: '--cap db,api',
      worktree: '--no-worktree',
      maxRounds: '--max-rounds 3',
      start: '--no-start',
      simDuration: '--sim-duration 5',
      simFailRate: '--sim-fail-rate 0.5',
      simFailFirst: '--sim-fail-first 1',
      simQueryRate: '--sim-query-rate 0.25',
    };
    // Every flag of tt spawn is given here but --foreground, which the console refuses.
    expect(Object.keys(SPAWN_FLAGS).sort()).toEqual([...Object.keys(given), 'foreground'].sort());
    expect(await line(`spawn ada ${Object.values(given).join(' ')}`)).toBe('spawn');
    expect(h.calls).toEqual([
      [
        'spawnAgent',
        {
          options: {
            name: 'ada',
            cli: 'claude',
            role: 'backend',
            nickname: 'Adele',
            parent: 'bob',
            caps: ['db', 'api'],
            maxRounds: 3,
            checkCli: false,
            sim: { durationMs: 5, failRate: 0.5, failFirst: 1, queryRate: 0.25, seed: 1 },
            noWorktree: true,
          },
          start: false,
          foreground: false,
        },
      ],
    ]);
    // Without flags: the defaults tt spawn has (start the worker; the CLI from the config).
    await line('spawn bob');
    expect(h.calls.at(-1)).toEqual([
      'spawnAgent',
      { options: { name: 'bob', caps: [], checkCli: true }, start: true, foreground: false },
    ]);
    const refused = async (text: string, why: string) => {
      const before = h.calls.length;
      await line(text);
      expect(h.calls).toHaveLength(before);
      expect(h.store.getState().ui.footer).toMatchObject({ text: why, kind: 'error' });
    };
    await refused('spawn cy --frobnicate 1', ':spawn: unknown option --frobnicate (see tt spawn --help)');
    await refused('spawn cy --max-rounds many', ':spawn: --max-rounds needs a number');
    await refused(
      'spawn cy --foreground',
      ':spawn: --foreground runs the worker in a terminal of its own (tt spawn)',
    );
    await refused('spawn', 'usage: :spawn <name> [--cli sim] [--role r] ... (the flags of tt spawn --help)');
    await refused('spawn cy --sim-fail-rate 2', expect.stringMatching(/^--sim-\*: failRate: /) as never);
  });

  it('w explains why a queued task waits, and only for a queued one', async () => {
    const h = consoleHarness();
    await press(h, '2');
    expect(await press(h, 'w')).toEqual([undefined]);
    expect(h.store.getState().ui.footer?.text).toMatch(/only a queued task waits/);
    await press(h, 'j', 'w');
    expect(h.store.getState().ui.modal).toMatchObject({ kind: 'detail', title: 'why' });
    const { whyOf } = await import('../../source/console/detail.js');
    const why = whyOf(h.store.getState());
    expect(why?.kind === 'detail' && why.lines.join('\n')).toMatch(/idle agents\s+bob/);
  });

  it("w counts an agent as fitting a tagged task by the workers' claim rule (capabilities too)", async () => {
    const h = consoleHarness({
      snapshot: snapshot({
        agents: [
          agent('ada', { role: 'backend', state: 'working', currentTask: 't1' }),
          agent('bob', { role: 'tester', caps: ['db'] }),
          agent('cy', { role: 'backend' }),
        ],
        tasks: [
          task('t1', { state: 'running', assignedTo: 'ada-0000-4000-8000-000000000000' }),
          task('t2', { tags: ['db'] }),
        ],
      }),
    });
    await press(h, '2', 'j');
    const { whyOf } = await import('../../source/console/detail.js');
    const why = whyOf(h.store.getState());
    const text = why?.kind === 'detail' ? why.lines.join('\n') : '';
    expect(text).toMatch(/ok\s+agents that fit\s+1 agent\(s\)/);
    expect(text).toMatch(/ok\s+idle agents\s+bob$/m);
  });

  it('/ filters the focused pane; esc clears it', async () => {
    const h = consoleHarness();
    await press(h, '/', 'b', 'o', 'b', ['', K.enter]);
    expect(h.store.getState().ui.filter.agents).toBe('bob');
    const { agentRows } = await import('../../source/console/rows.js');
    expect(agentRows(h.store.getState()).map((a) => a.name)).toEqual(['bob']);
    await press(h, ['', K.escape]);
    expect(h.store.getState().ui.filter.agents).toBe('');
  });

  it('the events pane follows; scrolling up detaches, End re-attaches', async () => {
    const h = consoleHarness();
    const { appendEvents } = await import('../../source/console/store.js');
    const ev = (n: number) => ({ id: `${n}-0`, type: 'task.created', ts: NOW });
    h.store.setState((s) => appendEvents(s, [ev(1), ev(2), ev(3)], NOW));
    await press(h, '4', 'k');
    expect(h.store.getState().ui.follow).toBe(false);
    h.store.setState((s) => appendEvents(s, [ev(4), ev(5)], NOW));
    expect(h.store.getState().ui.unseen).toBe(2);
    await press(h, ['', K.end]);
    expect(h.store.getState().ui).toMatchObject({ follow: true, unseen: 0 });
  });

  it('the events filter matches the agent name the pane shows, not only the id', async () => {
    const h = consoleHarness();
    const { appendEvents } = await import('../../source/console/store.js');
    const { eventRows } = await import('../../source/console/rows.js');
    // Ids that do not contain the names, as real agent ids (UUIDs) do not.
    h.store.setState((s) => ({
      snapshot: {
        ...s.snapshot!,
        agents: s.snapshot!.agents.map((a, i) => ({ ...a, id: `0000000${i}-0000-4000-8000-000000000000` })),
      },
    }));
    const [ada, bob] = h.store.getState().snapshot!.agents;
    const ev = (n: number, agent: string) => ({ id: `${n}-0`, type: 'task.created', ts: NOW, agent });
    h.store.setState((s) => appendEvents(s, [ev(1, ada!.id), ev(2, bob!.id), ev(3, ada!.id)], NOW));
    await press(h, '4', '/', 'B', 'o', 'b', ['', K.enter]);
    expect(eventRows(h.store.getState()).map((e) => e.id)).toEqual(['2-0']);
  });

  it("quit asks while missions run under this console's dispatcher; ctrl+c is the same command", async () => {
    const h = consoleHarness();
    await press(h, ['c', K.ctrlC]);
    expect(h.store.getState().ui.modal).toMatchObject({ kind: 'confirm', command: 'quit!' });
    await press(h, 'y');
    expect(h.quits()).toBe(1);
    const idle = consoleHarness({ dispatching: false });
    await press(idle, 'q');
    expect(idle.quits()).toBe(1);
  });

  it('several keys in one read are pressed one after another, but typed as text in a field', async () => {
    const h = consoleHarness();
    await handleKey(h.ctx, '3jp', {});
    expect(h.store.getState().ui.pane).toBe('missions');
    expect(h.calls).toEqual([['pauseMission', 'm1']]);
    await handleKey(h.ctx, 'n', {});
    await handleKey(h.ctx, 'hold on', {});
    expect(h.store.getState().ui.modal).toMatchObject({ kind: 'input', value: 'hold on' });
    await handleKey(h.ctx, ' now\r', {});
    expect(h.calls.at(-1)).toEqual(['noteMission', 'm1', 'hold on now']);
    await handleKey(h.ctx, '/bob\rg', {});
    expect(h.store.getState().ui.filter.missions).toBe('bob');
    expect(h.store.getState().ui.filtering).toBeUndefined();
  });

  it('user key bindings rebind commands; an unknown command or a clash is one clear line', async () => {
    const { applyKeyBindings } = await import('../../source/console/commands.js');
    const bound = applyKeyBindings({ pause: ['P'] });
    expect(bound.problem).toBeUndefined();
    const h = consoleHarness({ commands: bound.commands! });
    await press(h, '3', 'P');
    expect(h.calls).toEqual([['pauseMission', 'm1']]);
    expect(applyKeyBindings({ frobnicate: ['x'] })).toEqual({
      problem: 'console.keys: no console command "frobnicate" (the ids are listed by ? in the console)',
    });
    expect(applyKeyBindings({ pause: ['z'], resume: ['z'] }).problem).toMatch(
      /"z" is bound to both (pause and resume|resume and pause)/,
    );
    // Taking a key another command had in the same scope moves it.
    const moved = applyKeyBindings({ note: ['p'] });
    expect(moved.problem).toBeUndefined();
    expect(moved.commands!.find((c) => c.id === 'pause')!.keys).toEqual([]);
    expect(moved.commands!.find((c) => c.id === 'help-pause')!.keys).toEqual(['p']);
  });

  it('key bindings make a new table and leave the default one untouched', async () => {
    const { applyKeyBindings } = await import('../../source/console/commands.js');
    const before = COMMANDS.map((c) => ({ id: c.id, keys: [...c.keys] }));
    const bound = applyKeyBindings({ pause: ['P'], note: ['p'], quit: ['Q'] });
    expect(bound.commands).not.toBe(COMMANDS);
    expect(bound.commands!.find((c) => c.id === 'quit')!.keys).toEqual(['Q']);
    expect(COMMANDS.map((c) => ({ id: c.id, keys: [...c.keys] }))).toEqual(before);
    // A console without bindings keeps the default keys, whatever another console was given.
    const h = consoleHarness();
    await press(h, '3', 'p');
    expect(h.calls).toEqual([['pauseMission', 'm1']]);
    expect(() => (COMMANDS[0]!.keys as string[]).push('x')).toThrow();
  });

  it('overlays scroll with j/k and close; escape leaves a text field without running anything', async () => {
    const h = consoleHarness();
    await press(h, '?', 'j', 'j', 'k');
    expect(h.store.getState().ui.modal).toEqual({ kind: 'help', scroll: 1 });
    await press(h, 'k', 'k');
    expect(h.store.getState().ui.modal).toEqual({ kind: 'help', scroll: 0 });
    await press(h, 'x');
    h.store.setState((s) => ({
      ui: { ...s.ui, modal: { kind: 'detail', title: 'd', lines: ['a', 'b'], scroll: 0 } },
    }));
    await press(h, 'j', 'j', 'j');
    expect(h.store.getState().ui.modal).toMatchObject({ kind: 'detail', scroll: 1 });
    await press(h, 'x', 'k');
    expect(h.store.getState().ui.modal).toMatchObject({ kind: 'detail', scroll: 0 });
    await press(h, 'q');
    expect(h.store.getState().ui.modal).toBeUndefined();
    await press(h, '3', 'n', 'x', ['', K.escape], ':', 'p', ['', K.escape]);
    expect(h.store.getState().ui.modal).toBeUndefined();
    expect(h.calls).toEqual([]);
    await press(h, ':', 'q', 'u', 'i', 't', '!', ['', K.enter], ':', ['', K.up], ['', K.down]);
    expect(h.quits()).toBe(1);
    expect(h.store.getState().ui.modal).toMatchObject({ kind: 'command', value: '', historyIndex: -1 });
  });

  it('? opens the help overlay and any key closes it', async () => {
    const h = consoleHarness();
    await press(h, '?');
    expect(h.store.getState().ui.modal?.kind).toBe('help');
    await press(h, 'x');
    expect(h.store.getState().ui.modal).toBeUndefined();
  });
});
