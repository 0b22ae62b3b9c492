// Request heads (request-head.ts over head-scan.ts) and their body framing (framing.ts).
// Oracles: shape of every result; whole = in pieces with resumeAt; smaller limits only add limit
// errors; a parsed head re-serialised parses to the same head; framing agrees with RFC 9112 §6;
// the path normaliser the gateway runs next accepts or refuses without throwing.
import { normalizeTarget } from '../../src/classify/normalize-path.js';
import { requestFraming } from '../../src/http/framing.js';
import { DEFAULT_HEAD_LIMITS, type HeadLimits } from '../../src/http/head-scan.js';
import { parseRequestHead } from '../../src/http/request-head.js';
import { serializeHead } from '../../src/http/serialize.js';
import { type FuzzTarget, invariant, sameValue, sourceUrl } from '../engine/target.js';
import { checkFraming, requestModel } from './support/framing-model.js';
import { checkIncremental, checkShape, checkSmallerLimits } from './support/head-checks.js';

const SMALL: HeadLimits = { maxHeadBytes: 200, maxHeaders: 4 };

const target: FuzzTarget = {
  name: 'request-head',
  sources: ['request-head.ts', 'head-scan.ts', 'framing.ts'].map((f) => sourceUrl(`../../src/http/${f}`, import.meta.url)),
  maxLen: 4096,
  dictionary: [
    '\r\n', '\r\n\r\n', ': ', ' ', '\t', 'GET', 'POST', 'OPTIONS', 'RPC_IN_DATA', 'RPC_OUT_DATA', ' / HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0',
    'HTTP/2.0', '*', '/', '#', '%2e', 'Host: h\r\n', 'Host', 'Content-Length', 'Content-Length: 0\r\n', 'Transfer-Encoding',
    'Transfer-Encoding: chunked\r\n', 'chunked', 'Chunked', 'identity', 'gzip, chunked', '2147483648', '2147483649', '000000000001',
    '\xa0', '\x00', '\r', '\n', ',', ';',
  ],
  run(input) {
    const whole = parseRequestHead(input, DEFAULT_HEAD_LIMITS);
    checkShape(whole, input.length, DEFAULT_HEAD_LIMITS);
    checkIncremental(parseRequestHead, input, DEFAULT_HEAD_LIMITS, whole);
    checkSmallerLimits(parseRequestHead, input, SMALL, whole);
    if (whole.kind !== 'head') return;
    const { head } = whole;
    invariant(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(head.method), 'method is not a token', () => head.method);
    invariant(/^[\x21-\x7e]+$/.test(head.target) && !head.target.includes('#'), 'target has a byte it may not have', () => head.target);
    invariant(head.target.startsWith('/') || (head.target === '*' && head.method === 'OPTIONS'), 'target is not origin-form');
    const again = serializeHead(`${head.method} ${head.target} HTTP/${head.version}`, head.headers);
    const reparsed = parseRequestHead(again, DEFAULT_HEAD_LIMITS);
    sameValue(reparsed, { kind: 'head', head, consumed: again.length }, 're-serialised head parses differently');
    checkFraming(requestFraming(head), requestModel(head.version, head.headers), 'requestFraming');
    normalizeTarget(head.target);
  },
};

export default target;
