import { openTown, type Town } from '../services/context.js';
import type { Ctx } from './command.js';

/** Opens the town named by the context (starting its managed Redis if needed), runs, closes. */
export const withTown = async <T>(ctx: Ctx, fn: (t: Town) => Promise<T>): Promise<T> => {
  const t = await openTown(ctx.where);
  try {
    return await fn(t);
  } finally {
    await t.close();
  }
};
