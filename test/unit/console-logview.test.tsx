import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import type {
  ConsoleActions,
  LogAttempt,
  LogEnd,
  LogRequest,
  LogSink,
} from '../../source/console/actions.js';
import { handleKey } from '../../source/console/keys.js';
import { LOG_LINES_MAX, logRows, stopLog } from '../../source/console/logview.js';
import type { ConsoleState } from '../../source/console/store.js';
import { MONO } from '../../source/console/theme.js';
import { ConsoleView, helpLines } from '../../source/console/view.js';
import { consoleHarness, K, NOW } from '../helpers/console.js';

const ADA = 'ada-0000-4000-8000-000000000000';

/** One watchLog call of the console: what it asked for, and the sink to feed. */
interface Watch {
  request: LogRequest;
  sink: LogSink;
  signal: AbortSignal;
  end(e: LogEnd): void;
}

/**
 * A console whose watchLog is a fake the test feeds: ada has two attempts (rounds 1 and 2), the
 * first finished, the second live; task t1 has one.
 */
const scene = (state: Partial<ConsoleState> = {}) => {
  const fake: Partial<ConsoleActions> = {};
  const h = consoleHarness({ size: { columns: 100, rows: 30 }, ...state }, fake);
  const watches: Watch[] = [];
  fake.watchLog = (request, sink, signal) =>
    new Promise<LogEnd>((resolve) => {
      watches.push({ request, sink, signal, end: resolve });
      signal.addEventListener('abort', () => resolve('stopped'), { once: true });
      if (request.ref === 'nobody') return resolve({ none: 'nobody has no attempt yet' });
      const task = request.ref === 't1';
      const n = request.attempt ?? (task ? 1 : 2);
      const a: LogAttempt = task
        ? { agent: 'Ada [backend]', task: 't1', number: 1, of: 1, round: 7 }
        : {
            agent: 'Ada [backend]',
            number: n,
            of: 2,
            round: n,
            ...(n > 1 ? { prev: n - 1 } : { next: n + 1 }),
          };
      sink.attempt(a);
      sink.lines(
        n === 1 && !task
          ? ['09:59:00 message first try', '09:59:01 done    failed']
          : [`10:00:00 init    opus${request.raw ? ' (raw)' : ''}`],
      );
      if (n === 1 && !task) resolve('finished');
    });
  const r = render(<ConsoleView store={h.store} theme={MONO} now={() => NOW} />);
  return { ...h, fake, r, watches, frame: () => r.lastFrame() ?? '' };
};

let open: ReturnType<typeof scene> | undefined;
afterEach(() => {
  if (open) {
    stopLog(open.store);
    open.r.unmount();
  }
  open = undefined;
});

const press = async (s: ReturnType<typeof scene>, ...keys: (string | object)[]) => {
  for (const k of keys) await (typeof k === 'string' ? handleKey(s.ctx, k, {}) : handleKey(s.ctx, '', k));
};

/** Waits until the drawn frame passes `test` (the view flushes lines every 50 ms). */
const frameWhere = async (s: ReturnType<typeof scene>, test: (f: string) => boolean, what: string) => {
  const deadline = Date.now() + 5000;
  while (!test(s.frame())) {
    if (Date.now() > deadline) throw new Error(`no frame with ${what}; last:\n${s.frame()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return s.frame();
};
const frameWith = (s: ReturnType<typeof scene>, text: string | RegExp) =>
  frameWhere(s, (f) => (typeof text === 'string' ? f.includes(text) : text.test(f)), String(text));

describe('console log view', () => {
  it("l on an agent opens its latest attempt's log over the panes, following new events", async () => {
    const s = (open = scene());
    await press(s, 'l');
    expect(s.watches).toHaveLength(1);
    expect(s.watches[0]!.request).toEqual({ ref: ADA, raw: false });
    const f = await frameWith(s, '10:00:00 init    opus');
    expect(f).toContain('log: Ada [backend] round 2 of 2 (following)');
    expect(f).not.toContain('1 Agents');
    expect(f.split('\n').at(-1)).toMatch(/j\/k scroll .* esc close/);

    // Events appended while open are drawn; past a screenful the window follows the newest.
    const rows = logRows(s.store.getState().size);
    s.watches[0]!.sink.lines(Array.from({ length: rows + 5 }, (_, i) => `10:00:01 tool    step ${i}`));
    const followed = await frameWith(s, `step ${rows + 4}`);
    expect(followed).not.toContain('init    opus');
    expect(followed).not.toMatch(/step 4\b/);
    expect(followed).toMatch(/step 5\b/);
    expect(followed).toContain('(following)');
  });

  it('scrolling up pauses following and counts what arrives below; G follows again', async () => {
    const s = (open = scene());
    await press(s, 'l');
    await frameWith(s, 'init    opus');
    await press(s, 'k');
    expect(s.frame()).toContain('(paused)');
    s.watches[0]!.sink.lines(['10:00:02 message new one', '10:00:03 message new two']);
    // The window stays where it is: both lines fit on screen, nothing is below it yet.
    await frameWith(s, 'new two');
    const rows = logRows(s.store.getState().size);
    s.watches[0]!.sink.lines(Array.from({ length: rows }, (_, i) => `10:00:04 tool    more ${i}`));
    const paused = await frameWith(s, /\(paused, \d+ more below\)/);
    expect(paused).toContain('init    opus');
    expect(paused).not.toContain(`more ${rows - 1}`);
    await press(s, 'G');
    const again = await frameWith(s, `more ${rows - 1}`);
    expect(again).toContain('(following)');
    await press(s, 'g');
    expect(await frameWith(s, 'init    opus')).toMatch(/\(paused, \d+ more below\)/);
    // j down to the last line follows again.
    for (let i = 0; i < rows + 5; i++) await press(s, K.down);
    expect(await frameWith(s, `more ${rows - 1}`)).toContain('(following)');
  });

  it('p shows the previous attempt and n the next, stopping the follower of the one left', async () => {
    const s = (open = scene());
    await press(s, 'l');
    await frameWith(s, 'round 2 of 2');
    await press(s, 'p');
    expect(s.watches[0]!.signal.aborted).toBe(true);
    expect(s.watches[1]!.request).toEqual({ ref: ADA, raw: false, attempt: 1 });
    const first = await frameWith(s, 'round 1 of 2 (finished)');
    expect(first).toContain('09:59:00 message first try');
    expect(first).not.toContain('init    opus');
    await press(s, 'p');
    expect(s.watches).toHaveLength(2);
    expect(s.store.getState().ui.footer?.text).toBe('no earlier attempt');
    await press(s, 'n');
    expect(s.watches[2]!.request).toEqual({ ref: ADA, raw: false, attempt: 2 });
    await frameWith(s, 'round 2 of 2 (following)');
    // r toggles the raw log of the same attempt.
    await press(s, 'r');
    expect(s.watches[2]!.signal.aborted).toBe(true);
    expect(s.watches[3]!.request).toEqual({ ref: ADA, raw: true, attempt: 2 });
    await frameWith(s, 'init    opus (raw)');
    expect(s.frame()).toContain('raw log: Ada [backend] round 2 of 2');
  });

  it('esc (or q) closes the view and stops its follower; lines that come later change nothing', async () => {
    const s = (open = scene());
    await press(s, 'l');
    await frameWith(s, 'init    opus');
    await press(s, K.escape);
    expect(s.watches[0]!.signal.aborted).toBe(true);
    expect(s.store.getState().ui.modal).toBeUndefined();
    await frameWith(s, '1 Agents');
    s.watches[0]!.sink.lines(['late']);
    await new Promise((r) => setTimeout(r, 80));
    expect(s.store.getState().ui.modal).toBeUndefined();
    await press(s, 'l');
    await frameWith(s, 'init    opus');
    await press(s, 'q');
    expect(s.watches[1]!.signal.aborted).toBe(true);
    expect(s.store.getState().ui.modal).toBeUndefined();
  });

  it("l on a task opens the task's attempt; the title names the task, the attempt and the agent", async () => {
    const s = (open = scene());
    await press(s, '2', 'l');
    expect(s.watches[0]!.request).toEqual({ ref: 't1', raw: false });
    await frameWith(s, 'log: task t1, attempt 1 of 1, Ada [backend] round 7 (following)');
    s.watches[0]!.end('finished');
    await frameWith(s, 'round 7 (finished)');
  });

  it('no attempt, or an error, is said in the view', async () => {
    const s = (open = scene());
    await press(s, ':');
    await handleKey(s.ctx, 'logs nobody', {});
    await handleKey(s.ctx, '', K.enter);
    expect(await frameWith(s, 'nobody has no attempt yet')).toContain('log: nobody (no attempt)');
    await press(s, K.escape);
    s.fake.watchLog = async () => {
      throw new Error('Redis is gone');
    };
    await press(s, 'l');
    expect(await frameWith(s, 'Redis is gone')).toContain('(error)');
  });

  it('strips terminal escapes and control characters from every line shown', async () => {
    const s = (open = scene());
    await press(s, 'l');
    await frameWith(s, 'init');
    s.watches[0]!.sink.lines(['10:00:05 message evil\u001b[2J\u001b]0;owned\u0007 text\u0008!']);
    const f = await frameWith(s, 'evil');
    expect(f).toContain('10:00:05 message evil text!');
    expect(f).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
  });

  it('keeps the newest lines only, and works in a read-only console; ? and the footer list it', async () => {
    const s = (open = scene({ readOnly: true }));
    expect(helpLines(s.store.getState()).join('\n')).toMatch(
      /l\s+follow the log of the agent's latest attempt/,
    );
    expect(helpLines(s.store.getState()).join('\n')).toMatch(
      /l\s+follow the log of the task's latest attempt/,
    );
    await press(s, 'l');
    await frameWith(s, 'init');
    s.watches[0]!.sink.lines(Array.from({ length: LOG_LINES_MAX + 10 }, (_, i) => `line ${i}`));
    await frameWith(s, `line ${LOG_LINES_MAX + 9}`);
    const m = s.store.getState().ui.modal;
    expect(m?.kind === 'log' && m.log.lines.length).toBe(LOG_LINES_MAX);
    expect(m?.kind === 'log' && m.log.lines[0]).toBe('line 10');
  });
});
