import { type AuthenticateDto, type TokenResponse } from '@app/contracts';
import {
  JWT_AUDIENCE,
  JWT_ISSUER,
  SERVICE_CONFIG,
  type ServiceConfig,
  signJwt,
} from '@app/platform';
import { Inject, Injectable, Logger, UnauthorizedException } from '@nestjs/common';
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Accounts } from '../accounts/accounts.js';
import { UNKNOWN_ACCOUNT_HASH, verifyPassword } from '../accounts/password-hasher.js';

/** Checks a password and signs an EdDSA JWT whose `sub` is the account id. */
@Injectable()
export class AuthenticateService {
  private readonly key: KeyObject;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    private readonly accounts: Accounts,
  ) {
    if (config.jwtPrivateKey) {
      this.key = createPrivateKey(config.jwtPrivateKey);
    } else {
      // Development only (production requires the key): tokens will not verify elsewhere.
      new Logger(AuthenticateService.name).warn(
        'JWT_PRIVATE_KEY is not set; signing with a throwaway key',
      );
      this.key = generateKeyPairSync('ed25519').privateKey;
    }
  }

  /** 401 for an unknown email or a wrong password alike; both cost one scrypt hash. */
  async authenticate(dto: AuthenticateDto): Promise<TokenResponse> {
    const account = await this.accounts.byEmail(this.dataSource.manager, dto.email.trim());
    const valid = await verifyPassword(dto.password, account?.passwordHash ?? UNKNOWN_ACCOUNT_HASH);
    if (!account || !valid) throw new UnauthorizedException('Email or password is wrong.');
    const now = Math.floor(Date.now() / 1000);
    const expiresIn = Math.floor(this.config.jwtTtlMs / 1000);
    const accessToken = signJwt(
      {
        sub: account.id,
        email: account.email,
        iss: JWT_ISSUER,
        aud: JWT_AUDIENCE,
        iat: now,
        exp: now + expiresIn,
        ...(account.role === 'admin' ? { role: 'admin' as const } : {}),
      },
      this.key,
    );
    return { accessToken, tokenType: 'Bearer', expiresIn };
  }
}
