import { type DecodedEvent } from '@app/events';
import { type EventContext, EventHandler } from '@app/messaging';
import { Injectable } from '@nestjs/common';
import { type EntityManager } from 'typeorm';

/** A recipient not known yet: retryable, `user.registered` may still be on its way. */
export class UnknownRecipientError extends Error {
  override readonly name = 'UnknownRecipientError';
  readonly code = 'EMAIL.UNKNOWN_RECIPIENT';
}

export interface Recipient {
  email: string;
  name: string;
}

/**
 * Keeps the recipient directory (`recipients`, its only owner) from `user.registered`, so email
 * never calls another service.
 */
@Injectable()
export class RecipientDirectory {
  @EventHandler('user.registered', { id: 'remember-recipient' })
  async remember(event: DecodedEvent<'user.registered'>, context: EventContext): Promise<void> {
    await context.manager.query(
      `INSERT INTO recipients (user_id, email, name) VALUES ($1, $2, $3)
       ON CONFLICT (user_id) DO UPDATE SET email = EXCLUDED.email, name = EXCLUDED.name, updated_at = now()`,
      [event.data.userId, event.data.email, event.data.name],
    );
  }

  /** The recipient of a user; throws the retryable `UnknownRecipientError` when not known yet. */
  async find(manager: EntityManager, userId: string): Promise<Recipient> {
    const [row] = await manager.query<Recipient[]>(
      `SELECT email, name FROM recipients WHERE user_id = $1`,
      [userId],
    );
    if (!row) {
      throw new UnknownRecipientError(
        `Recipient of user ${userId} is not known yet (user.registered not handled); retrying.`,
      );
    }
    return row;
  }
}
