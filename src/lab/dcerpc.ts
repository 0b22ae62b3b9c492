// The smallest DCE/RPC server that lets a real client (impacket) bind and call: bind/bind_ack,
// alter_context, and the endpoint mapper's ept_lookup answered with a valid empty result.
import { PTYPE, pduHeader } from './rts.js';

const NDR = Buffer.from('045d888aeb1cc9119fe808002b10486002000000', 'hex');
const EPMAPPER = Buffer.from('0883afe11f5dc91191a408002b14a0fa', 'hex');
const NCA_S_OP_RNG_ERROR = 0x1c010002;
const NCA_S_UNKNOWN_IF = 0x1c010003;

export interface DceState {
  /** presentation context id -> interface uuid (hex) */
  readonly contexts: Map<number, string>;
  assocGroup: number;
}

export function newDceState(): DceState {
  return { contexts: new Map(), assocGroup: 0x10000 + Math.floor(Math.random() * 0xffff) };
}

function bindAck(pdu: Buffer, state: DceState, ptype: number): Buffer {
  const callId = pdu.readUInt32LE(12);
  const n = pdu[24]!;
  const results: Buffer[] = [];
  let off = 28;
  for (let k = 0; k < n && off + 24 <= pdu.length; k++) {
    const ctxId = pdu.readUInt16LE(off);
    const nts = pdu[off + 2]!;
    const iface = pdu.subarray(off + 4, off + 20).toString('hex');
    let accepted = false;
    for (let t = 0; t < nts; t++) {
      const ts = pdu.subarray(off + 24 + t * 20, off + 44 + t * 20);
      if (ts.equals(NDR)) accepted = true;
    }
    const r = Buffer.alloc(24);
    if (accepted) {
      state.contexts.set(ctxId, iface);
      NDR.copy(r, 4);
    } else {
      r.writeUInt16LE(2, 0); // provider rejection
      r.writeUInt16LE(2, 2); // proposed transfer syntaxes not supported
    }
    results.push(r);
    off += 24 + nts * 20;
  }
  const secAddr = ptype === PTYPE.bindAck ? Buffer.from('135\0', 'latin1') : Buffer.alloc(0);
  const fixed = Buffer.alloc(8);
  fixed.writeUInt16LE(4280, 0);
  fixed.writeUInt16LE(4280, 2);
  fixed.writeUInt32LE(state.assocGroup, 4);
  const addrLen = Buffer.alloc(2);
  addrLen.writeUInt16LE(secAddr.length, 0);
  let body = Buffer.concat([fixed, addrLen, secAddr]);
  const pad = (4 - ((16 + body.length) % 4)) % 4;
  const list = Buffer.alloc(4);
  list[0] = results.length;
  body = Buffer.concat([body, Buffer.alloc(pad), list, ...results]);
  return Buffer.concat([pduHeader(ptype, 0x03, 16 + body.length, 0, callId), body]);
}

function bindNak(pdu: Buffer): Buffer {
  const body = Buffer.from([0, 0, 1, 5, 0]);
  return Buffer.concat([pduHeader(PTYPE.bindNak, 0x03, 16 + body.length, 0, pdu.readUInt32LE(12)), body]);
}

function response(callId: number, ctxId: number, stub: Buffer): Buffer {
  const fixed = Buffer.alloc(8);
  fixed.writeUInt32LE(stub.length, 0);
  fixed.writeUInt16LE(ctxId, 4);
  return Buffer.concat([pduHeader(PTYPE.response, 0x03, 24 + stub.length, 0, callId), fixed, stub]);
}

function fault(callId: number, ctxId: number, status: number): Buffer {
  const body = Buffer.alloc(16);
  body.writeUInt16LE(ctxId, 4);
  body.writeUInt32LE(status, 8);
  return Buffer.concat([pduHeader(PTYPE.fault, 0x03, 32, 0, callId), body]);
}

/** ept_lookup answer with no entries: null handle, num_ents 0, empty conformant-varying array, status 0. */
function eptLookupEmpty(): Buffer {
  const b = Buffer.alloc(20 + 4 + 12 + 4);
  b.writeUInt32LE(500, 24);
  return b;
}

/** Answers one client PDU; returns the PDUs to send on the OUT channel. */
export function answerPdu(pdu: Buffer, state: DceState): Buffer[] {
  const ptype = pdu[2]!;
  const authLength = pdu.readUInt16LE(10);
  if (ptype === PTYPE.bind || ptype === PTYPE.alterContext) {
    // RPC-level authentication (sealed NSPI binds) is beyond the lab: refuse it cleanly.
    if (authLength > 0) return [bindNak(pdu)];
    return [bindAck(pdu, state, ptype === PTYPE.bind ? PTYPE.bindAck : PTYPE.alterContextResp)];
  }
  if (ptype === PTYPE.request) {
    const callId = pdu.readUInt32LE(12);
    const ctxId = pdu.readUInt16LE(20);
    const opnum = pdu.readUInt16LE(22);
    const iface = state.contexts.get(ctxId);
    if (!iface) return [fault(callId, ctxId, NCA_S_UNKNOWN_IF)];
    if (iface === EPMAPPER.toString('hex') && opnum === 2) return [response(callId, ctxId, eptLookupEmpty())];
    return [fault(callId, ctxId, NCA_S_OP_RNG_ERROR)];
  }
  return [];
}
