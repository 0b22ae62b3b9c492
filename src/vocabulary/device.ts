// An ActiveSync device as the request named it (src/classify/activesync-query.ts): the shared
// shape that the request path, the events seam, the audit trail and the admin views carry.

export interface DeviceRef {
  /** DeviceId as the device sent it (a binary base64-form id as hex); compared case-insensitively. */
  readonly id: string;
  readonly type: string;
}

/** `id (type)`, for log lines, audit records and tables. */
export function deviceText(d: DeviceRef): string {
  return `${d.id} (${d.type})`;
}
