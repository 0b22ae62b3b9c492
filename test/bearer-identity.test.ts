// Bearer (OAuth) identity through the gateway: a JWT that verifies against the issuer's keys names
// its user and the policy judges that user; a token signed by anyone else names nobody. The JWKS
// file is named relative to the config file, as every other path is (it was read from the working
// folder of the process before).
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { RawClient } from '../src/doctor/http-probe.js';
import type { GateDecisionEvent } from '../src/events.js';
import { type Env, startEnv } from './helpers/env.js';

const ISS = 'https://sts.lab.example';
const AUD = 'https://mail.lab.example';
const EWS_BODY = '<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body/></soap:Envelope>';

describe('Bearer identity through the gateway', () => {
  let env: Env;
  let issuer: Awaited<ReturnType<typeof generateKeyPair>>;
  const decisions: GateDecisionEvent[] = [];
  const onDecision = (m: unknown) => void decisions.push(m as GateDecisionEvent);

  before(async () => {
    issuer = await generateKeyPair('RS256', { extractable: true });
    const jwk = { ...(await exportJWK(issuer.publicKey)), kid: 'sts-1', alg: 'RS256' };
    env = await startEnv({
      config: (base) => {
        // Beside the config file, named by a relative path: the test process' working folder is the repository.
        writeFileSync(path.join(path.dirname((base['directory'] as { file: string }).file), 'issuer-keys.json'), JSON.stringify({ keys: [jwk] }));
        return { ...base, identity: { bearer: { jwksFile: 'issuer-keys.json', issuer: ISS, audience: AUD } } };
      },
    });
    subscribe('portcullis:gate:decision', onDecision);
  });
  after(async () => {
    unsubscribe('portcullis:gate:decision', onDecision);
    await env?.stop();
  });

  const token = (upn: string, key: Parameters<SignJWT["sign"]>[0] = issuer.privateKey, alg = 'RS256') =>
    new SignJWT({ upn }).setProtectedHeader({ alg, kid: 'sts-1' }).setIssuer(ISS).setAudience(AUD).setExpirationTime('5m').sign(key);
  const ews = async (authorization: string) => {
    decisions.length = 0;
    const c = await RawClient.connect(env.port, env.pki.ca);
    const r = await c.request('POST', '/EWS/Exchange.asmx', { Authorization: authorization, 'Content-Type': 'text/xml; charset=utf-8' }, EWS_BODY);
    c.close();
    const d = decisions.find((e) => e.gate === 'access');
    return { status: r.head.status, allow: d?.allow, user: d?.user, scheme: d?.scheme, reasons: d?.decision.reasons };
  };

  it("alice's token from the issuer names alice, and the policy lets her through to Exchange", async () => {
    const r = await ews(`Bearer ${await token('alice@lab.example')}`);
    assert.equal(r.allow, true, JSON.stringify(r));
    assert.match(String(r.user), /alice/i);
    assert.equal(r.scheme, 'Bearer');
  });

  it("carol's token names carol, and the policy refuses her (no group for outside access)", async () => {
    const r = await ews(`Bearer ${await token('carol@lab.example')}`);
    assert.equal(r.allow, false, JSON.stringify(r));
    assert.notEqual(r.status, 200);
  });

  it('a token signed by another key, or HS256 with the public key as its secret, names nobody', async () => {
    const other = await generateKeyPair('RS256');
    const forged = await ews(`Bearer ${await token('alice@lab.example', other.privateKey)}`);
    assert.equal(forged.allow, false, JSON.stringify(forged));
    assert.equal(forged.user, undefined);
    const pem = Buffer.from(JSON.stringify(await exportJWK(issuer.publicKey)));
    const confused = await ews(`Bearer ${await token('alice@lab.example', new Uint8Array(pem), 'HS256')}`);
    assert.equal(confused.allow, false, JSON.stringify(confused));
    assert.equal(confused.user, undefined);
  });
});
