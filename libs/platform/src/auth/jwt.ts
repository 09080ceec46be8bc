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

/** Verifies signature (EdDSA only), `exp`, `iss` and `aud`; returns the claims. */
export function verifyJwt(
  token: string,
  publicKey: KeyObject | string,
  expected: { issuer: string; audience: string; now?: number },
): TokenClaims {
  const parts = token.split('.');
  if (parts.length !== 3) throw new InvalidTokenError('Malformed token.');
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  let header: { alg?: unknown; typ?: unknown };
  let claims: Partial<TokenClaims>;
  try {
    header = JSON.parse(Buffer.from(headerPart, 'base64url').toString('utf8')) as typeof header;
    claims = JSON.parse(
      Buffer.from(payloadPart, 'base64url').toString('utf8'),
    ) as Partial<TokenClaims>;
  } catch {
    throw new InvalidTokenError('Malformed token.');
  }
  if (header.alg !== 'EdDSA') throw new InvalidTokenError('Token algorithm must be EdDSA.');
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  const valid = verify(
    null,
    Buffer.from(`${headerPart}.${payloadPart}`),
    key,
    Buffer.from(signaturePart, 'base64url'),
  );
  if (!valid) throw new InvalidTokenError('Token signature is invalid.');
  const now = expected.now ?? Math.floor(Date.now() / 1000);
  if (typeof claims.exp !== 'number' || claims.exp <= now)
    throw new InvalidTokenError('Token has expired.');
  if (claims.iss !== expected.issuer) throw new InvalidTokenError('Token issuer is not accepted.');
  if (claims.aud !== expected.audience)
    throw new InvalidTokenError('Token audience is not accepted.');
  if (typeof claims.sub !== 'string' || !claims.sub)
    throw new InvalidTokenError('Token has no subject.');
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
