import { describe, expect, it } from 'vitest';
import { canMoveAgent } from '../../source/model/agent.js';
import {
  nextFastFails,
  quarantineDue,
  quarantineQuestion,
  quarantineReason,
  quarantineWhy,
  streakStep,
} from '../../source/model/quarantine.js';

const cfg = { after: 3, fastFailMs: 30_000 };

describe('quarantine decisions', () => {
  it('a success resets the streak, a fast failure adds to it, anything else keeps it', () => {
    expect(streakStep(['failed', 'completed'], 1000, cfg, false)).toBe('reset');
    expect(streakStep(['completed'], 90_000, cfg, true)).toBe('reset');
    expect(streakStep(['failed'], 29_999, cfg, false)).toBe('add');
    expect(streakStep(['failed'], 30_000, cfg, false)).toBe('keep');
    expect(streakStep(['failed'], 10, cfg, true)).toBe('keep');
    expect(streakStep([], 10, cfg, false)).toBe('keep');
    expect(streakStep(['failed'], 10, { ...cfg, after: 0 }, false)).toBe('keep');
  });

  it('counts the streak and quarantines at the limit (0 = never)', () => {
    expect(nextFastFails(2, 'add', 1)).toBe(3);
    expect(nextFastFails(2, 'keep', 1)).toBe(2);
    expect(nextFastFails(2, 'reset', 0)).toBe(0);
    expect(quarantineDue(2, 3)).toBe(false);
    expect(quarantineDue(3, 3)).toBe(true);
    expect(quarantineDue(9, 0)).toBe(false);
  });

  it('says why', () => {
    const why = quarantineWhy(30_000, 'api:  API server\nerror');
    expect(quarantineReason(3, why)).toBe(
      'quarantined: 3 attempts failed within 30 s each (last: api: API server error)',
    );
    expect(quarantineWhy(30_000, '')).toBe('failed within 30 s each');
    expect(quarantineQuestion('ada', 'quarantined: 3 attempts x')).toMatch(/tt resume ada$/);
  });

  it('only a working or idle agent goes into quarantine, and only resume or a stop takes it out', () => {
    expect(canMoveAgent('working', 'quarantined')).toBe(true);
    expect(canMoveAgent('idle', 'quarantined')).toBe(true);
    expect(canMoveAgent('paused', 'quarantined')).toBe(false);
    expect(canMoveAgent('quarantined', 'idle')).toBe(true);
    expect(canMoveAgent('quarantined', 'working')).toBe(false);
    expect(canMoveAgent('quarantined', 'stopped')).toBe(true);
  });
});
