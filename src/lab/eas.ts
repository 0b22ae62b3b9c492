// Exchange ActiveSync, as far as the gateway cares: OPTIONS discovery and a Ping long poll that is
// held for its heartbeat ([MS-ASCMD] §2.2.1.13), so idle time-outs can be tested for real. Commands
// are read from either query form (plain or base64, MS-ASHTTP 2.2.1.1.1), as Exchange reads them;
// a query naming no device is a 400, and every answer says which device and user it served
// (X-Lab-Device, X-Lab-Identity), so tests see what reached Exchange.
import { parseActiveSyncQuery } from '../classify/activesync-query.js';
import type { LabRequest, LabResponse } from './lab-http.js';
import type { LabState } from './lab-context.js';

/** WBXML <Ping><Status>1</Status></Ping>: the heartbeat expired with no changes. */
const PING_EXPIRED = Buffer.from([0x03, 0x01, 0x6a, 0x00, 0x00, 0x0d, 0x45, 0x47, 0x03, 0x31, 0x00, 0x01, 0x01]);

/** The HeartbeatInterval (Ping code page, tag 0x08) from a WBXML Ping body, in seconds. */
export function heartbeatSeconds(body: Buffer): number | undefined {
  const i = body.indexOf(Buffer.from([0x48, 0x03]));
  if (i < 0) return undefined;
  const end = body.indexOf(0, i + 2);
  const n = Number(body.subarray(i + 2, end).toString('latin1'));
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

export async function handleEas(state: LabState, identity: string, req: LabRequest, res: LabResponse): Promise<void> {
  const common = [
    { name: 'MS-Server-ActiveSync', value: '15.20' },
    { name: 'MS-ASProtocolVersions', value: '2.0,2.1,2.5,12.0,12.1,14.0,14.1,16.0,16.1' },
  ];
  if (req.method === 'OPTIONS') {
    await req.body(0);
    res.send(200, 'OK', '', 'application/vnd.ms-sync.wbxml', [
      ...common,
      { name: 'MS-ASProtocolCommands', value: 'Sync,SendMail,SmartForward,SmartReply,GetAttachment,GetHierarchy,CreateCollection,DeleteCollection,MoveCollection,FolderSync,FolderCreate,FolderDelete,FolderUpdate,MoveItems,GetItemEstimate,MeetingResponse,Search,Settings,Ping,ItemOperations,Provision,ResolveRecipients,ValidateCert,Find' },
      { name: 'Allow', value: 'OPTIONS,POST' },
    ]);
    return;
  }
  const q = parseActiveSyncQuery(req.query || undefined);
  const body = await req.body(1024 * 1024);
  if (!q.ok) return res.send(400, 'Bad Request', '', 'text/plain');
  const cmd = q.query.command;
  common.push({ name: 'X-Lab-Device', value: `${q.query.deviceId}/${q.query.deviceType}` }, { name: 'X-Lab-Identity', value: identity });
  if (req.method === 'POST' && cmd === 'Ping') {
    const ms = Math.min((heartbeatSeconds(body) ?? 480) * 1000, state.options.eas.maxPingMs);
    const timer = setTimeout(() => res.send(200, 'OK', PING_EXPIRED, 'application/vnd.ms-sync.wbxml', common), ms);
    req.once('close', () => clearTimeout(timer));
    return;
  }
  res.send(200, 'OK', '', 'application/vnd.ms-sync.wbxml', common);
}
