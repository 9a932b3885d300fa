import { ERROR_CLASSES, type ErrorClass } from './attempt.js';

/**
 * What an agent reports when it ends an attempt (`tt task complete --result`, `tt task fail
 * --reason`), and how a failure's class rides along in the task's `lastError`.
 */

/** The largest report tt stores, in bytes of UTF-8: a summary and links, not a log. */
export const REPORT_MAX_BYTES = 64 * 1024;

/** A failure text with its class in front, as `lastError` keeps it: `timeout: no output for 10 minutes`. */
export const classifiedError = (cls: ErrorClass, text: string): string => `${cls}: ${text}`;

/**
 * Splits a `lastError` into its class and text: the class is `cls` when given, else a known class
 * in front of the text (`timeout: ...`); a prefix equal to the class is not repeated in the text.
 */
export const splitClassifiedError = (
  lastError: string,
  cls?: ErrorClass,
): { class?: ErrorClass; text: string } => {
  const m = /^([a-z_]+): ?/.exec(lastError);
  const prefix = m && (ERROR_CLASSES as readonly string[]).includes(m[1]!) ? (m[1] as ErrorClass) : undefined;
  const found = cls ?? prefix;
  const text = prefix && prefix === found ? lastError.slice(m![0].length) : lastError;
  return found ? { class: found, text } : { text };
};
