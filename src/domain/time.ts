// Units of time and the two helpers every layer needs. One place, so "an hour" is never spelled fourteen ways.
export const SECOND_MS = 1000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** The API's time format: ISO 8601 in UTC. */
export const iso = (ms: number) => new Date(ms).toISOString();

/** Code-unit order, not localeCompare: ids must sort the same on every runtime and locale. */
export const compareStrings = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
