import { describe, expect, it } from '@jest/globals';
import {
  generateJwtKeyPair,
  InvalidTokenError,
  JWT_AUDIENCE,
  JWT_ISSUER,
  signJwt,
  verifyJwt,
} from './jwt.js';

const keys = generateJwtKeyPair();
const now = Math.floor(Date.now() / 1000);
const claims = { sub: 'user-1', iss: JWT_ISSUER, aud: JWT_AUDIENCE, iat: now, exp: now + 60 };
const expected = { issuer: JWT_ISSUER, audience: JWT_AUDIENCE };

describe('EdDSA JWT', () => {
  it('round-trips the claims', () => {
    expect(verifyJwt(signJwt(claims, keys.privateKey), keys.publicKey, expected)).toEqual(claims);
  });

  it.each([
    ['expired', { ...claims, exp: now - 1 }, 'expired'],
    ['another issuer', { ...claims, iss: 'evil' }, 'issuer'],
    ['another audience', { ...claims, aud: 'other' }, 'audience'],
  ])('refuses a token with %s', (_label, bad, message) => {
    expect(() => verifyJwt(signJwt(bad, keys.privateKey), keys.publicKey, expected)).toThrow(
      message,
    );
  });

  it('refuses another key, alg none and garbage', () => {
    const other = generateJwtKeyPair();
    expect(() => verifyJwt(signJwt(claims, other.privateKey), keys.publicKey, expected)).toThrow(
      'signature',
    );
    const [, payload] = signJwt(claims, keys.privateKey).split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${payload}.`;
    expect(() => verifyJwt(none, keys.publicKey, expected)).toThrow('EdDSA');
    expect(() => verifyJwt('a.b', keys.publicKey, expected)).toThrow(InvalidTokenError);
  });
});
