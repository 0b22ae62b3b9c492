// A software WebAuthn authenticator for tests: an ES256 key pair from node:crypto, "none"
// attestation, authenticator data built byte by byte as WebAuthn Level 3 lays it out (§6.1: rpIdHash,
// flags, signCount, attested credential data with the COSE_Key of §6.5.1.1), and assertions signed
// over authenticatorData || SHA-256(clientDataJSON) (§6.3.3). It answers what the browser would
// hand the server, so the service is tested against real signatures, not mocks of the library.
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import type { AuthenticationResponseJSON, PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON, RegistrationResponseJSON } from '@simplewebauthn/server';

export const FLAG_UP = 0x01;
export const FLAG_UV = 0x04;
export const FLAG_AT = 0x40;

type Cbor = number | string | Uint8Array | Map<Cbor, Cbor>;

/** The few CBOR items WebAuthn needs (RFC 8949): integers, byte and text strings, maps, in canonical order as given. */
export function cbor(v: Cbor): Buffer {
  const head = (major: number, n: number): Buffer => {
    if (n < 24) return Buffer.of((major << 5) | n);
    if (n < 0x100) return Buffer.of((major << 5) | 24, n);
    if (n < 0x10000) return Buffer.of((major << 5) | 25, n >> 8, n & 0xff);
    const b = Buffer.alloc(5);
    b[0] = (major << 5) | 26;
    b.writeUInt32BE(n, 1);
    return b;
  };
  if (typeof v === 'number') return v >= 0 ? head(0, v) : head(1, -1 - v);
  if (typeof v === 'string') {
    const b = Buffer.from(v, 'utf8');
    return Buffer.concat([head(3, b.length), b]);
  }
  if (v instanceof Uint8Array) return Buffer.concat([head(2, v.length), v]);
  return Buffer.concat([head(5, v.size), ...[...v].flatMap(([k, x]) => [cbor(k), cbor(x)])]);
}

const b64u = (b: Uint8Array | string) => Buffer.from(b).toString('base64url');
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest();

export interface Ceremony {
  /** Overrides what the browser would report. */
  readonly origin?: string;
  readonly rpId?: string;
  readonly challenge?: string;
  readonly flags?: number;
  readonly type?: string;
}

export class SoftAuthenticator {
  readonly credentialId: Buffer = randomBytes(16);
  readonly #key: KeyObject;
  readonly #pub: { x: Buffer; y: Buffer };
  /** The signature counter the next assertion carries (0: an authenticator that keeps none). */
  counter: number;
  #userHandle: string | undefined;

  constructor(counter = 1) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    this.#key = privateKey;
    this.#pub = { x: Buffer.from(jwk.x!, 'base64url'), y: Buffer.from(jwk.y!, 'base64url') };
    this.counter = counter;
  }

  get id(): string {
    return b64u(this.credentialId);
  }

  /** The COSE_Key of an EC2 P-256 ES256 public key: kty 2, alg -7, crv 1, x, y. */
  coseKey(): Buffer {
    return cbor(new Map<Cbor, Cbor>([[1, 2], [3, -7], [-1, 1], [-2, this.#pub.x], [-3, this.#pub.y]]));
  }

  authenticatorData(rpId: string, flags: number, counter: number, attested: boolean): Buffer {
    const head = Buffer.alloc(37);
    sha256(rpId).copy(head, 0);
    head[32] = flags;
    head.writeUInt32BE(counter, 33);
    if (!attested) return head;
    const len = Buffer.alloc(2);
    len.writeUInt16BE(this.credentialId.length);
    return Buffer.concat([head, Buffer.alloc(16) /* AAGUID: none */, len, this.credentialId, this.coseKey()]);
  }

  /** navigator.credentials.create() answering `options`, as RegistrationResponseJSON. */
  register(options: PublicKeyCredentialCreationOptionsJSON, origin: string, c: Ceremony = {}): RegistrationResponseJSON {
    this.#userHandle = options.user.id;
    const clientData = Buffer.from(JSON.stringify({ type: c.type ?? 'webauthn.create', challenge: c.challenge ?? options.challenge, origin: c.origin ?? origin, crossOrigin: false }));
    const authData = this.authenticatorData(c.rpId ?? options.rp.id ?? '', c.flags ?? FLAG_UP | FLAG_UV | FLAG_AT, 0, true);
    const attestationObject = cbor(new Map<Cbor, Cbor>([['fmt', 'none'], ['attStmt', new Map()], ['authData', authData]]));
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: { clientDataJSON: b64u(clientData), attestationObject: b64u(attestationObject), transports: ['internal', 'hybrid'] },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  /** navigator.credentials.get() answering `options`, as AuthenticationResponseJSON; the counter moves by one first (unless 0). */
  assert(options: PublicKeyCredentialRequestOptionsJSON, origin: string, c: Ceremony & { readonly userHandle?: string | null } = {}): AuthenticationResponseJSON {
    if (this.counter > 0) this.counter++;
    const clientData = Buffer.from(JSON.stringify({ type: c.type ?? 'webauthn.get', challenge: c.challenge ?? options.challenge, origin: c.origin ?? origin, crossOrigin: false }));
    const authData = this.authenticatorData(c.rpId ?? options.rpId ?? '', c.flags ?? FLAG_UP | FLAG_UV, this.counter, false);
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientData)]), this.#key); // DER, as ES256 wants
    const userHandle = c.userHandle === null ? undefined : (c.userHandle ?? this.#userHandle);
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: { clientDataJSON: b64u(clientData), authenticatorData: b64u(authData), signature: b64u(signature), ...(userHandle ? { userHandle } : {}) },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }
}
