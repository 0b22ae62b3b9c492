// The query of an ActiveSync request ([MS-ASHTTP] 2.2.1.1.1): who the device says it is. Pure and
// bounded, bytes in and a result out. The device id is attacker-controlled and decides whether a
// blocked or quarantined device gets through, so the parser is strict where Exchange (IIS and
// ASP.NET) could read the query differently from the gateway: a parameter named twice (ASP.NET
// joins both values with a comma), a percent-encoded parameter name (ASP.NET decodes names too,
// so `Device%49d` is a second DeviceId), an escape in the DeviceId, DeviceType or Cmd value, a
// query that is neither clearly plain nor clearly base64. Each is refused with the problem named,
// never guessed at.

/** The two forms of the query: `Cmd=…&User=…&DeviceId=…&DeviceType=…`, or one base64 value. */
export type ActiveSyncQueryForm = 'plain' | 'base64';

export interface ActiveSyncQuery {
  readonly form: ActiveSyncQueryForm;
  /** The command (`Sync`, `Ping`, …): the Cmd parameter, or the base64 form's command code by name. */
  readonly command: string;
  /** As the device sent it; a binary base64-form id as lower-case hex. Compare with deviceKey(). */
  readonly deviceId: string;
  readonly deviceType: string;
  /** The User parameter: what the device typed, never an identity (the credentials are). */
  readonly user: string | undefined;
  /** The base64 form's protocol version (`14.1`); the plain form carries it in a header. */
  readonly protocolVersion: string | undefined;
}

export type ActiveSyncQueryResult = { readonly ok: true; readonly query: ActiveSyncQuery } | { readonly ok: false; readonly problem: string };

/** Longer than any query a device sends (the base64 form of the longest ItemId is under 600). */
export const MAX_QUERY_LENGTH = 2048;
/** Letters, digits, `-` and `_`; MS-ASHTTP 2.2.1.1.1.2.3 forbids commas and special characters. */
const DEVICE_ID = /^[A-Za-z0-9_-]{1,64}$/;
const DEVICE_TYPE = /^[A-Za-z0-9_.-]{1,64}$/;
const COMMAND = /^[A-Za-z]{1,32}$/;
/** A parameter name as sent: no escapes (ASP.NET would decode them into another name). */
const NAME = /^[A-Za-z0-9_]{1,32}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** A User value: a logon name, a UPN or DOMAIN\user; printable, no spaces. */
const USER = /^[\x21-\x7e]{1,256}$/;

/** MS-ASHTTP 2.2.1.1.1.1.2: the base64 form's command codes (5-8 are unused). */
export const COMMAND_CODES: ReadonlyArray<string | undefined> = [
  'Sync', 'SendMail', 'SmartForward', 'SmartReply', 'GetAttachment', undefined, undefined, undefined, undefined, 'FolderSync',
  'FolderCreate', 'FolderDelete', 'FolderUpdate', 'MoveItems', 'GetItemEstimate', 'MeetingResponse', 'Search', 'Settings', 'Ping',
  'ItemOperations', 'Provision', 'ResolveRecipients', 'ValidateCert', 'Find',
];

/** MS-ASHTTP 2.2.1.1.1.1.3: the base64 form's parameter tags; 7 (Options) is one byte of flags. */
const PARAMETER_TAGS: ReadonlyMap<number, string> = new Map([
  [0, 'AttachmentName'], [1, 'CollectionId'], [2, 'CollectionName'], [3, 'ItemId'], [4, 'LongId'], [5, 'ParentId'], [6, 'Occurrence'], [7, 'Options'], [8, 'User'],
]);

/** Whether `s` is a DeviceId as the plain query form carries one (an operator's input is held to it). */
export function isDeviceId(s: string): boolean {
  return DEVICE_ID.test(s);
}

/** Whether `s` is a DeviceType as the query forms carry one. */
export function isDeviceType(s: string): boolean {
  return DEVICE_TYPE.test(s);
}

/** The one spelling a device id is compared by: ids differing only in case are one device. */
export function deviceKey(id: string): string {
  return id.toLowerCase();
}

const refuse = (problem: string): ActiveSyncQueryResult => ({ ok: false, problem });

/**
 * Parses the query (the text after `?`, undefined when the target has none). `undefined` and the
 * empty query are refused: every ActiveSync command names its device (OPTIONS, which names none,
 * is not parsed).
 */
export function parseActiveSyncQuery(query: string | undefined): ActiveSyncQueryResult {
  if (query === undefined || query === '') return refuse('the query is missing: an ActiveSync command names its DeviceId');
  if (query.length > MAX_QUERY_LENGTH) return refuse(`the query is longer than ${MAX_QUERY_LENGTH} characters`);
  if (query.includes('&') || /^[A-Za-z0-9_]+=[^=]/.test(query)) return parsePlain(query);
  const b64 = decodeBase64Query(query);
  if (b64 === undefined) return refuse('the query is neither name=value parameters nor one base64 value');
  return parseBinary(b64);
}

function parsePlain(query: string): ActiveSyncQueryResult {
  const seen = new Map<string, string>();
  for (const part of query.split('&')) {
    // An empty part (a trailing `&`) is no parameter for ASP.NET either.
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) return refuse(`parameter "${printable(part)}" has no value`);
    const name = part.slice(0, eq);
    const value = part.slice(eq + 1);
    if (!NAME.test(name)) return refuse(`parameter name "${printable(name)}" is not letters and digits`);
    const lower = name.toLowerCase();
    if (seen.has(lower)) return refuse(`parameter ${name} is given twice`);
    if (!validEscapes(value)) return refuse(`parameter ${name} has a malformed percent escape`);
    seen.set(lower, value);
  }
  const cmd = seen.get('cmd');
  const id = seen.get('deviceid');
  const type = seen.get('devicetype');
  const user = seen.get('user');
  if (cmd === undefined) return refuse('Cmd is missing');
  if (!COMMAND.test(cmd)) return refuse('Cmd is not a command name');
  if (id === undefined) return refuse('DeviceId is missing');
  if (!DEVICE_ID.test(id)) return refuse('DeviceId is not 1-64 letters, digits, - or _');
  if (type === undefined) return refuse('DeviceType is missing');
  if (!DEVICE_TYPE.test(type)) return refuse('DeviceType is not 1-64 letters, digits, ., - or _');
  let userText: string | undefined;
  if (user !== undefined) {
    userText = decodeValue(user);
    if (userText === undefined || !USER.test(userText)) return refuse('User is not a printable logon name');
  }
  return { ok: true, query: { form: 'plain', command: cmd, deviceId: id, deviceType: type, user: userText, protocolVersion: undefined } };
}

/** Percent escapes are `%XX`; `%uXXXX` (which ASP.NET decodes) and a lone `%` are refused. */
function validEscapes(v: string): boolean {
  for (let i = v.indexOf('%'); i >= 0; i = v.indexOf('%', i + 1)) {
    if (!/^[0-9A-Fa-f]{2}$/.test(v.slice(i + 1, i + 3))) return false;
  }
  return true;
}

function decodeValue(v: string): string | undefined {
  try {
    return decodeURIComponent(v.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** The base64 value, with `%2B`, `%2F` and `%3D` as devices escape them; undefined when it is not one. */
function decodeBase64Query(query: string): Buffer | undefined {
  const text = query.replace(/%(2B|2F|3D)/gi, (m) => decodeURIComponent(m));
  if (!BASE64.test(text) || text.length % 4 === 1) return undefined;
  const b = Buffer.from(text, 'base64');
  // Buffer.from ignores what does not decode: the canonical encoding, with or without its padding,
  // proves nothing was dropped or added.
  const canonical = b.toString('base64');
  if (text !== canonical && text !== canonical.replace(/=+$/, '')) return undefined;
  return b;
}

function parseBinary(b: Buffer): ActiveSyncQueryResult {
  if (b.length < 7) return refuse(`the base64 query is ${b.length} bytes, shorter than its fixed fields`);
  const version = b[0]!;
  // 12.1 is the first version with the base64 form.
  if (version < 121) return refuse(`protocol version ${version / 10} has no base64 query form`);
  const command = COMMAND_CODES[b[1]!];
  if (command === undefined) return refuse(`command code ${b[1]} is not defined`);
  let at = 4;
  const idLen = b[at++]!;
  if (idLen === 0 || idLen > 32) return refuse(`DeviceId length ${idLen} is not 1-32 bytes`);
  if (at + idLen > b.length) return refuse('DeviceId runs past the end of the query');
  const idBytes = b.subarray(at, at + idLen);
  at += idLen;
  const idText = idBytes.toString('latin1');
  // A binary id (a GUID) is shown and compared as hex; a printable one as the text the plain form would carry.
  const deviceId = DEVICE_ID.test(idText) ? idText : idBytes.toString('hex');
  const keyLen = b[at++];
  if (keyLen === undefined) return refuse('the policy key length is missing');
  if (keyLen !== 0 && keyLen !== 4) return refuse(`policy key length ${keyLen} is not 0 or 4`);
  if (at + keyLen > b.length) return refuse('the policy key runs past the end of the query');
  at += keyLen;
  const typeLen = b[at++];
  if (typeLen === undefined) return refuse('the DeviceType length is missing');
  if (at + typeLen > b.length) return refuse('DeviceType runs past the end of the query');
  const deviceType = b.subarray(at, at + typeLen).toString('latin1');
  if (!DEVICE_TYPE.test(deviceType)) return refuse('DeviceType is not 1-64 letters, digits, ., - or _');
  at += typeLen;
  let user: string | undefined;
  const tags = new Set<number>();
  while (at < b.length) {
    const tag = b[at]!;
    const len = b[at + 1];
    if (len === undefined) return refuse(`parameter tag ${tag} has no length`);
    if (!PARAMETER_TAGS.has(tag)) return refuse(`parameter tag ${tag} is not defined`);
    if (tags.has(tag)) return refuse(`parameter ${PARAMETER_TAGS.get(tag)} is given twice`);
    tags.add(tag);
    if (at + 2 + len > b.length) return refuse(`parameter ${PARAMETER_TAGS.get(tag)} runs past the end of the query`);
    const value = b.subarray(at + 2, at + 2 + len);
    if (tag === 7 && len !== 1) return refuse('Options is not one byte');
    if (tag === 8) {
      user = value.toString('latin1');
      if (!USER.test(user)) return refuse('User is not a printable logon name');
    }
    at += 2 + len;
  }
  return { ok: true, query: { form: 'base64', command, deviceId, deviceType, user, protocolVersion: `${Math.floor(version / 10)}.${version % 10}` } };
}

/** Input quoted in a problem: printable ASCII only, bounded. */
function printable(s: string): string {
  const t = s.replace(/[^\x20-\x7e]/g, '?');
  return t.length > 40 ? `${t.slice(0, 40)}…` : t;
}
