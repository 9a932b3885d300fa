import { z } from 'zod';

/** Settings of the built-in simulated agent (`--cli sim`), stored as JSON on the agent. */
export const SimSettings = z.strictObject({
  /** How long each task takes, in ms. */
  durationMs: z.number().min(0).default(0),
  /** Chance (0..1) that an attempt fails. */
  failRate: z.number().min(0).max(1).default(0),
  /** The first N attempts of every task fail (to show retries). */
  failFirst: z.number().int().min(0).default(0),
  /** Chance (0..1) that the agent asks the supervisor a question while working. */
  queryRate: z.number().min(0).max(1).default(0),
  /** Seed of the random choices, for repeatable runs. */
  seed: z.number().int().default(1),
});
export type SimSettings = z.infer<typeof SimSettings>;

export const parseSim = (json: string | undefined): SimSettings => {
  if (!json) return SimSettings.parse({});
  try {
    return SimSettings.parse(JSON.parse(json));
  } catch {
    return SimSettings.parse({});
  }
};
