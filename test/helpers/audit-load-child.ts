// A process that writes audit records steadily through the real audit trail, for the durability
// tests: it prints "<seq> <ts>" for every record it has handed to the trail (stdout is a pipe,
// written synchronously on Linux, so the parent knows what was accepted up to the moment it kills
// this process). Arguments: a JSON audit config, records per second.
import pino from 'pino';
import { auditSchema } from '../../src/audit/audit-schema.js';
import { startAuditTrail } from '../../src/audit/audit-trail.js';

const config = auditSchema.parse(JSON.parse(process.argv[2]!));
const perSecond = Number(process.argv[3] ?? 1000);
const trail = (await startAuditTrail(config, pino({ level: 'silent' })))!;
process.stdout.write('ready\n');
let seq = 0;
const started = Date.now();
// Paced by the clock, not by the timer's count: a late timer catches up as a gateway would.
setInterval(() => {
  const due = Math.floor(((Date.now() - started) * perSecond) / 1000);
  let out = '';
  while (seq < due) {
    const ts = Date.now();
    trail.writer.record({ event: 'request', decision: 'allow', user: 'LAB\\alice', clientIp: '127.0.0.1', protocol: 'mapi', connection: seq, ts });
    out += `${seq} ${ts}\n`;
    seq++;
  }
  if (out) process.stdout.write(out);
}, 2);
process.on('SIGTERM', () => void trail.stop().then(() => process.exit(0)));
