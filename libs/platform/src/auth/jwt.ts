import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';

/** Issuer and audience of customer tokens: users issues them for the gateway. */
export const JWT_ISSUER = 'commerce-users';
export const JWT_AUDIENCE = 'commerce-gateway';
const HEADER = { alg: 'EdDSA', typ: 'JWT' } as const;

export interface TokenClaims {
  sub: string;
  iss: string;
  aud: string;
  iat: number;
  exp: number;
  email?: string;
  /** `admin` on an administrator's token; absent on a customer's. */
  role?: 'admin';
}

/** Clock skew tolerated between the issuer and the verifier, on `exp`, `nbf` and `iat`. */
export const JWT_CLOCK_SKEW_SECONDS = 30;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Decodes base64url strictly: only the canonical encoding of its bytes is accepted. */
function decodeCanonical(part: string): Buffer {
  const bytes = Buffer.from(part, 'base64url');
  if (!BASE64URL.test(part) || bytes.toString('base64url') !== part)
    throw new InvalidTokenError('Malformed token.');
  return bytes;
}

/** Why a token was refused; the gateway answers 401 for every one of them. */
export class InvalidTokenError extends Error {}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Signs an EdDSA (Ed25519) JWT. */
export function signJwt(claims: TokenClaims, privateKey: KeyObject | string): string {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  const input = `${b64(HEADER)}.${b64(claims)}`;
  return `${input}.${sign(null, Buffer.from(input), key).toString('base64url')}`;
}

/**
 * Verifies a compact JWS: canonical base64url parts, the signature (EdDSA only, 64 bytes),
 * `exp`, `nbf` and `iat` with `JWT_CLOCK_SKEW_SECONDS` of leeway, `iss`, `aud`, and a `sub`
 * that is a UUID (an account id); returns the claims.
 */
export function verifyJwt(
  token: string,
  publicKey: KeyObject | string,
  expected: { issuer: string; audience: string; now?: number; skewSeconds?: number },
): TokenClaims {
  const parts = token.split('.');
  if (parts.length !== 3) throw new InvalidTokenError('Malformed token.');
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  let header: { alg?: unknown; typ?: unknown; crit?: unknown };
  let claims: Partial<TokenClaims> & { nbf?: unknown };
  const signature = decodeCanonical(signaturePart);
  try {
    header = JSON.parse(decodeCanonical(headerPart).toString('utf8')) as typeof header;
    claims = JSON.parse(decodeCanonical(payloadPart).toString('utf8')) as typeof claims;
  } catch {
    throw new InvalidTokenError('Malformed token.');
  }
  if (typeof header !== 'object' || header === null || typeof claims !== 'object' || !claims)
    throw new InvalidTokenError('Malformed token.');
  if (header.crit !== undefined) throw new InvalidTokenError('Token has unsupported "crit".');
  if (header.alg !== 'EdDSA') throw new InvalidTokenError('Token algorithm must be EdDSA.');
  if (signature.length !== 64) throw new InvalidTokenError('Token signature is invalid.');
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  const valid = verify(null, Buffer.from(`${headerPart}.${payloadPart}`), key, signature);
  if (!valid) throw new InvalidTokenError('Token signature is invalid.');
  const now = expected.now ?? Math.floor(Date.now() / 1000);
  const skew = expected.skewSeconds ?? JWT_CLOCK_SKEW_SECONDS;
  if (typeof claims.exp !== 'number' || claims.exp <= now - skew)
    throw new InvalidTokenError('Token has expired.');
  if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || claims.nbf > now + skew))
    throw new InvalidTokenError('Token is not valid yet (nbf).');
  if (typeof claims.iat !== 'number' || claims.iat > now + skew)
    throw new InvalidTokenError('Token was issued in the future (iat).');
  if (claims.iss !== expected.issuer) throw new InvalidTokenError('Token issuer is not accepted.');
  if (claims.aud !== expected.audience)
    throw new InvalidTokenError('Token audience is not accepted.');
  if (typeof claims.sub !== 'string' || !UUID.test(claims.sub))
    throw new InvalidTokenError('Token subject is not an account id.');
  if (claims.role !== undefined && claims.role !== 'admin')
    throw new InvalidTokenError('Token role is not known.');
  return claims as TokenClaims;
}

/** A throwaway Ed25519 key pair in PEM (development and tests). */
export function generateJwtKeyPair(): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}
