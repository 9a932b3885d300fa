import { z } from 'zod';

/** Task priority, highest first. */
export const TASK_PRIORITIES = ['critical', 'high', 'normal', 'low'] as const;
export const TaskPriority = z.enum(TASK_PRIORITIES);
export type TaskPriority = z.infer<typeof TaskPriority>;

/** Message priority, highest first (the reference's four levels). */
export const MESSAGE_PRIORITIES = ['urgent', 'high', 'normal', 'low'] as const;
export const MessagePriority = z.enum(MESSAGE_PRIORITIES);
export type MessagePriority = z.infer<typeof MessagePriority>;

/** Band 0 is served first. A task's assignment message travels in its task's band. */
export const taskBand = (p: TaskPriority): number => TASK_PRIORITIES.indexOf(p);
export const messageBand = (p: MessagePriority): number => MESSAGE_PRIORITIES.indexOf(p);
export const messagePriorityOfTask = (p: TaskPriority): MessagePriority => MESSAGE_PRIORITIES[taskBand(p)]!;

/**
 * Sorted-set score for FIFO inside a band: band * 2^44 + sequence. The sequence comes from a
 * Redis counter, so the score is computed inside the writing script; this is the same formula,
 * exported for tests and for readers of docs/REDIS.md.
 */
export const BAND_WIDTH = 2 ** 44;
export const queueScore = (band: number, seq: number): number => band * BAND_WIDTH + seq;
export const bandOfScore = (score: number): number => Math.floor(score / BAND_WIDTH);
