/** Identifiers: UUID v4 strings; short ids are their first 4 hex digits. */
export const SUPERVISOR_ID = '00000000-0000-0000-0000-000000000001';
export const SUPERVISOR_ALIASES = ['supervisor', 'conductor'] as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isUuid = (s: string): boolean => UUID.test(s);
export const isSupervisorAlias = (s: string): boolean =>
  (SUPERVISOR_ALIASES as readonly string[]).includes(s.toLowerCase());

/** A prefix of an id a user may type: at least 4 hex digits (dashes allowed). */
export const isIdPrefix = (s: string): boolean => /^[0-9a-f-]{4,36}$/i.test(s);
