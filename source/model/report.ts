/**
 * What an agent reports when it ends an attempt (`tt task complete --result`, `tt task fail
 * --reason`).
 */

/** The largest report tt stores, in bytes of UTF-8: a summary and links, not a log. */
export const REPORT_MAX_BYTES = 64 * 1024;
