import { describe, expect, it } from '@jest/globals';
import { releaseOutcome } from './release-stock.handler.js';
import { type ReservationStatus } from './reservation.repository.js';

describe('an order that ends without a sale (order.cancelled, order.rejected)', () => {
  const given = (status: ReservationStatus) => ({
    then: (outcome: string) => expect(releaseOutcome(status)).toBe(outcome),
  });

  it('before order.placed: is recorded, so the late order.placed reserves nothing', () =>
    given('NEW').then('record'));
  it('after a reservation: releases it', () => given('RESERVED').then('release'));
  it.each(['FAILED', 'CANCELLED', 'REJECTED', 'RELEASED', 'SOLD'] as const)(
    'when the reservation is %s: changes nothing',
    (status) => given(status).then('nothing'),
  );
});
