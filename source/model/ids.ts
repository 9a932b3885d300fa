/** Identifiers: UUID v4 strings; short ids are their first 4 hex digits. */
export const SUPERVISOR_ID = '00000000-0000-0000-0000-000000000001';
export const SUPERVISOR_ALIASES = ['supervisor', 'conductor'] as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isUuid = (s: string): boolean => UUID.test(s);
export const isSupervisorAlias = (s: string): boolean =>
  (SUPERVISOR_ALIASES as readonly string[]).includes(s.toLowerCase());

/** A prefix of an id a user may type: at least 4 hex digits (dashes allowed). */
export const isIdPrefix = (s: string): boolean => /^[0-9a-f-]{4,36}$/i.test(s);

/**
 * The short form of an id for people: its first `n` characters (8 in text and errors, 4 or 6 in
 * the console's narrow columns); `-` for no id. The one way ids are shortened.
 */
export const shortId = (id: string | undefined, n = 8): string => (id ? id.slice(0, n) : '-');
