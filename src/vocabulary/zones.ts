/** Where a client comes from: each listener has one, a `clientZones` range may override it. */
export const ZONES = ['external', 'internal'] as const;
export type Zone = (typeof ZONES)[number];
