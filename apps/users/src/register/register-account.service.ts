import { type AccountView, type RegisterAccountDto } from '@app/contracts';
import { Outbox } from '@app/messaging';
import { currentLogContext, isUniqueViolation, transaction } from '@app/platform';
import { ConflictException, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Accounts } from '../accounts/accounts.js';
import { hashPassword } from '../accounts/password-hasher.js';

/** Stores the account and, in the same transaction, `user.registered` in the outbox. */
@Injectable()
export class RegisterAccountService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly accounts: Accounts,
  ) {}

  /** Registers an account; 409 when the email (case-insensitive) is taken. */
  async register(dto: RegisterAccountDto): Promise<AccountView> {
    const passwordHash = await hashPassword(dto.password);
    const account = { id: randomUUID(), email: dto.email.trim(), name: dto.name.trim() };
    try {
      await transaction(this.dataSource, async (manager) => {
        await this.accounts.insert(manager, { ...account, passwordHash });
        await this.outbox.enqueue(
          manager,
          'user.registered',
          { userId: account.id, email: account.email, name: account.name },
          {
            subject: account.id,
            streamVersion: 1,
            correlationId: currentLogContext()?.correlationId,
          },
        );
      });
    } catch (error) {
      if (isUniqueViolation(error))
        throw new ConflictException('An account with this email already exists.');
      throw error;
    }
    return account;
  }
}
