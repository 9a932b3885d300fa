import { describe, expect, it } from 'vitest';
import {
  AGENT_STATES,
  agentNameProblem,
  canMoveAgent,
  displayLabel,
  isTerminalAgent,
} from '../../source/model/agent.js';
import { displaySafe, flatLine } from '../../source/model/format.js';
import { decodeHash, encodeHash } from '../../source/model/hash.js';
import { SUPERVISOR_ID } from '../../source/model/ids.js';
import { classify, parseAck, summarize, type MessageBody } from '../../source/model/message.js';
import { nicknameFor } from '../../source/model/nicknames.js';
import { bandOfScore, queueScore } from '../../source/model/priority.js';
import { resolveAgentRef, resolveIdPrefix } from '../../source/model/resolve.js';
import { canMoveTask, isTerminalTask, Task, TASK_STATES } from '../../source/model/task.js';
import { Agent } from '../../source/model/agent.js';

describe('agent state machine', () => {
  it.each([
    ['idle', 'working', true],
    ['working', 'idle', true],
    ['stopped', 'idle', false],
    ['stopped', 'starting', true],
    ['paused', 'working', false],
    ['paused', 'idle', true],
    ['draining', 'idle', false],
    ['draining', 'stopped', true],
    ['cold', 'idle', false],
    ['error', 'starting', true],
  ] as const)('%s -> %s is %s', (from, to, ok) => {
    expect(canMoveAgent(from, to)).toBe(ok);
  });

  it('terminal states are exactly stopped, error and cold', () => {
    expect(AGENT_STATES.filter(isTerminalAgent)).toEqual(['cold', 'stopped', 'error']);
  });

  it('refuses reserved and malformed names, allows look-alikes', () => {
    expect(agentNameProblem('Supervisor')).toMatch(/reserved/);
    expect(agentNameProblem('conductor')).toMatch(/reserved/);
    expect(agentNameProblem('conductor-helper')).toBeUndefined();
    expect(agentNameProblem('has space')).toMatch(/letters, digits/);
    expect(agentNameProblem('')).toMatch(/letters, digits/);
  });
});

describe('task state machine', () => {
  it.each([
    ['pending', 'assigned', true],
    ['assigned', 'running', true],
    ['running', 'completed', true],
    ['completed', 'pending', false],
    ['completed', 'failed', false],
    ['cancelled', 'assigned', false],
    ['failed', 'pending', true],
    ['pending', 'running', false],
  ] as const)('%s -> %s is %s', (from, to, ok) => {
    expect(canMoveTask(from, to)).toBe(ok);
  });

  it('terminal states are completed, failed, cancelled', () => {
    expect(TASK_STATES.filter(isTerminalTask)).toEqual(['completed', 'failed', 'cancelled']);
  });

  it('reads in_flight as running', () => {
    const t = Task.parse({ id: 'x', description: 'd', state: 'in_flight', createdAt: '1', updatedAt: '2' });
    expect(t.state).toBe('running');
  });
});

describe('hash records', () => {
  it('round-trips a task through hash fields', () => {
    const task: Task = {
      id: 'a',
      description: 'multi\nline',
      state: 'pending',
      priority: 'high',
      tags: ['x', 'y'],
      createdAt: 1,
      updatedAt: 2,
      attempts: 0,
      maxAttempts: 3,
    };
    const r = decodeHash(Task, 'k', encodeHash(task));
    expect(r).toEqual({ ok: true, value: task });
  });

  it('reports what is wrong with a malformed record', () => {
    const r = decodeHash(Agent, 'tt:{x}:agent:1', {
      id: '1',
      name: 'a',
      nickname: 'A',
      cli: 'c',
      state: 'dancing',
      createdAt: '1',
      updatedAt: '1',
    });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.malformed.problem).toMatch(/^state: /);
    const bad = decodeHash(Task, 'k', {
      id: '1',
      description: 'd',
      state: 'pending',
      createdAt: 'soon',
      updatedAt: '1',
    });
    expect(bad.ok).toBe(false);
  });
});

describe('messages', () => {
  const cases: [MessageBody, string][] = [
    [{ type: 'task', description: 'x' }, 'task'],
    [{ type: 'task_assign', taskId: 't' }, 'task'],
    [{ type: 'query', question: 'q' }, 'query'],
    [{ type: 'status_request' }, 'query'],
    [{ type: 'ping' }, 'informational'],
    [{ type: 'task_done', taskId: 't', result: 'r' }, 'informational'],
    [{ type: 'confirmation', ack: { type: 'thanks' } }, 'confirmation'],
    [{ type: 'shutdown' }, 'other'],
    [{ type: 'custom', kind: 'fyi', payload: 'build green' }, 'informational'],
    [{ type: 'custom', kind: 'job', payload: 'please do it' }, 'task'],
  ];
  it.each(cases)('classifies %o as %s', (m, c) => expect(classify(m)).toBe(c));

  it.each([
    ['rejected: tests fail', { type: 'rejected', reason: 'tests fail' }],
    ['Received, on it', { type: 'received' }],
    ['approved', { type: 'approved' }],
    ['ok thanks!', { type: 'thanks' }],
    ['noted', { type: 'acknowledged' }],
  ])('reads the ack %j', (text, ack) => expect(parseAck(text)).toEqual(ack));

  it('summaries are one bounded line', () => {
    expect(summarize({ type: 'informational', summary: 'x'.repeat(200) }).length).toBeLessThanOrEqual(80);
  });
});

describe('queue scores', () => {
  it('orders by band, then by sequence', () => {
    const urgentLate = queueScore(0, 1_000_000);
    const normalEarly = queueScore(2, 1);
    expect(urgentLate).toBeLessThan(normalEarly);
    expect(queueScore(2, 5)).toBeLessThan(queueScore(2, 6));
    expect(bandOfScore(queueScore(3, 123_456_789))).toBe(3);
  });
});

describe('agent references', () => {
  const agents = [
    { id: 'aaaa1111-0000-4000-8000-000000000001', name: 'backend', nickname: 'Ada', role: 'backend' },
    { id: 'aaab2222-0000-4000-8000-000000000002', name: 'tester', nickname: 'Bob', role: 'tester' },
    { id: 'bbbb3333-0000-4000-8000-000000000003', name: 'bob', nickname: 'Cy' },
  ];
  it.each([
    ['supervisor', SUPERVISOR_ID],
    ['CONDUCTOR', SUPERVISOR_ID],
    ['backend', agents[0]!.id],
    ['ada', agents[0]!.id],
    ['Ada [backend]', agents[0]!.id],
    ['bob', agents[2]!.id], // the exact name wins over another agent's nickname
    ['bbbb', agents[2]!.id],
    [agents[1]!.id, agents[1]!.id],
  ])('%s resolves', (ref, id) => expect(resolveAgentRef(ref, agents)).toBe(id));

  it('lists the candidates when ambiguous', () => {
    expect(() => resolveAgentRef('aaa', agents)).toThrow(/no agent matches/);
    expect(() =>
      resolveAgentRef('aaaa', [
        ...agents,
        { ...agents[0]!, id: 'aaaa9999-0000-4000-8000-000000000009', name: 'other', nickname: 'Zed' },
      ]),
    ).toThrow(/ambiguous: it matches Ada \[backend\] \(aaaa1111\), Zed \[backend\]/);
  });

  it('refuses the supervisor where an agent is needed', () => {
    expect(() => resolveAgentRef('supervisor', agents, { allowSupervisor: false })).toThrow(
      /supervisor mailbox/,
    );
  });

  it('resolves id prefixes and rejects non-ids', () => {
    expect(resolveIdPrefix('task', 'abcd', ['abcdef', 'bcde'])).toBe('abcdef');
    expect(() => resolveIdPrefix('task', 'ab', ['abcdef'])).toThrow(/4 or more/);
    expect(() => resolveIdPrefix('task', 'abcd', ['abcd1', 'abcd2'])).toThrow(/ambiguous/);
  });

  it('labels and nicknames are stable', () => {
    expect(displayLabel({ name: 'w1', nickname: 'Ada' })).toBe('Ada [w1]');
    expect(displayLabel({ name: 'w1', nickname: 'Ada', role: 'reviewer' })).toBe('Ada [reviewer]');
    expect(nicknameFor(agents[0]!.id)).toBe(nicknameFor(agents[0]!.id));
    expect(nicknameFor(agents[0]!.id)).not.toBe(nicknameFor('0001ffff-0000-4000-8000-000000000001'));
  });
});

describe('the display sanitiser', () => {
  it('drops terminal escapes and controls, keeps tabs, newlines and the text around them', () => {
    const hostile =
      'a\u001b[2J\u001b]0;pwned\u0007b\u001b]8;;http://x\u001b\\c\u0007\u0008\u009bd\te\nf\u001bPg';
    expect(displaySafe(hostile)).toBe('abcd\te\nfg');
    expect(flatLine('one\r\ntwo\rthree\u001b[31m red')).toBe('one ⏎ two ⏎ three red');
  });
});
