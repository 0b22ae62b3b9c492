// Upstream response heads (response-head.ts over head-scan.ts) and their framing (framing.ts),
// with the same oracles as request-head.ts; framing is checked for a GET and for a HEAD request.
import { responseFraming } from '../../src/http/framing.js';
import { DEFAULT_HEAD_LIMITS, type HeadLimits } from '../../src/http/head-scan.js';
import { parseResponseHead } from '../../src/http/response-head.js';
import { serializeHead } from '../../src/http/serialize.js';
import { type FuzzTarget, invariant, sameValue, sourceUrl } from '../engine/target.js';
import { checkFraming, responseModel } from './support/framing-model.js';
import { checkIncremental, checkShape, checkSmallerLimits } from './support/head-checks.js';

const SMALL: HeadLimits = { maxHeadBytes: 200, maxHeaders: 4 };

const target: FuzzTarget = {
  name: 'response-head',
  sources: ['response-head.ts', 'head-scan.ts', 'framing.ts'].map((f) => sourceUrl(`../../src/http/${f}`, import.meta.url)),
  maxLen: 4096,
  dictionary: [
    '\r\n', '\r\n\r\n', ': ', ' ', '\t', 'HTTP/1.1 ', 'HTTP/1.0 ', 'HTTP/2 ', '100', '101', '200', '204', '304', '401', '503',
    'RPC Error: 5', 'Content-Length', 'Content-Length: 0\r\n', 'Transfer-Encoding', 'Transfer-Encoding: chunked\r\n', 'chunked',
    'CHUNKED', '2147483648', '2147483649', '\xa0', '\x80', '\x00', '\r', '\n', ',',
  ],
  run(input) {
    const whole = parseResponseHead(input, DEFAULT_HEAD_LIMITS);
    checkShape(whole, input.length, DEFAULT_HEAD_LIMITS);
    checkIncremental(parseResponseHead, input, DEFAULT_HEAD_LIMITS, whole);
    checkSmallerLimits(parseResponseHead, input, SMALL, whole);
    if (whole.kind !== 'head') return;
    const { head } = whole;
    invariant(Number.isInteger(head.status) && head.status >= 100 && head.status <= 999, 'status out of range', () => head.status);
    invariant(!/[\x00-\x08\x0a-\x1f\x7f]/.test(head.reason), 'reason phrase has a control byte', () => head.reason);
    const again = serializeHead(`HTTP/${head.version} ${head.status} ${head.reason}`, head.headers);
    const reparsed = parseResponseHead(again, DEFAULT_HEAD_LIMITS);
    sameValue(reparsed, { kind: 'head', head, consumed: again.length }, 're-serialised head parses differently');
    for (const method of ['GET', 'HEAD']) {
      checkFraming(responseFraming(head, method), responseModel(head.status, method, head.headers), `responseFraming(${method})`);
    }
  },
};

export default target;
