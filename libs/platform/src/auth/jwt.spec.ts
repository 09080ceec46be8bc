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
const claims = {
  sub: '7d444840-9dc0-11d1-b245-5ffdce74fad2',
  iss: JWT_ISSUER,
  aud: JWT_AUDIENCE,
  iat: now,
  exp: now + 60,
};
const expected = { issuer: JWT_ISSUER, audience: JWT_AUDIENCE };

describe('EdDSA JWT', () => {
  it('round-trips the claims', () => {
    expect(verifyJwt(signJwt(claims, keys.privateKey), keys.publicKey, expected)).toEqual(claims);
  });

  it.each([
    ['expired', { ...claims, exp: now - 31 }, 'expired'],
    ['nbf in the future', { ...claims, nbf: now + 31 }, 'nbf'],
    ['iat in the future', { ...claims, iat: now + 31 }, 'iat'],
    ['no iat', { ...claims, iat: undefined as unknown as number }, 'iat'],
    ['a subject that is not an account id', { ...claims, sub: "1' OR 1=1" }, 'subject'],
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

  it('tolerates 30 s of clock skew on exp, nbf and iat', () => {
    const skewed = { ...claims, exp: now - 20, iat: now + 20, nbf: now + 20 };
    expect(verifyJwt(signJwt(skewed, keys.privateKey), keys.publicKey, expected)).toEqual(skewed);
  });

  it('accepts only the canonical encoding of the signature', () => {
    const token = signJwt(claims, keys.privateKey);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const accepted = [...alphabet].filter((last) => {
      const variant = token.slice(0, -1) + last;
      try {
        verifyJwt(variant, keys.publicKey, expected);
        return true;
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidTokenError);
        return false;
      }
    });
    expect(accepted).toEqual([token.at(-1)]);
  });
});
