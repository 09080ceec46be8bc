import { describe, expect, it } from '@jest/globals';
import {
  type ItemQuantity,
  releaseOutcome,
  type ReservationStatus,
  shortOf,
  totalsBySku,
} from './reservation-decision.js';

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

describe('order.placed: all items reserved or none', () => {
  const given = (available: Record<string, number>) => ({
    when: (items: ItemQuantity[]) => ({
      then: (short: string[]) =>
        expect(shortOf(totalsBySku(items), new Map(Object.entries(available)))).toEqual(short),
    }),
  });

  it('with enough of every SKU: nothing is short, everything is reserved', () =>
    given({ 'KB-1': 3, 'MOUSE-1': 1 })
      .when([
        { sku: 'MOUSE-1', quantity: 1 },
        { sku: 'KB-1', quantity: 3 },
      ])
      .then([]));
  it('short of one SKU: that SKU is named and nothing is reserved', () =>
    given({ 'KB-1': 3, 'MOUSE-1': 0 })
      .when([
        { sku: 'KB-1', quantity: 1 },
        { sku: 'MOUSE-1', quantity: 1 },
      ])
      .then(['MOUSE-1']));
  it('a SKU listed twice counts its total against what is available', () =>
    given({ 'KB-1': 3 })
      .when([
        { sku: 'KB-1', quantity: 2 },
        { sku: 'KB-1', quantity: 2 },
      ])
      .then(['KB-1']));
  it('a SKU inventory does not stock is short', () =>
    given({})
      .when([{ sku: 'GHOST', quantity: 1 }])
      .then(['GHOST']));
  it('the totals come in SKU order, the order every handler takes the row locks in', () =>
    expect(
      totalsBySku([
        { sku: 'B', quantity: 1 },
        { sku: 'A', quantity: 2 },
        { sku: 'B', quantity: 3 },
      ]),
    ).toEqual([
      { sku: 'A', quantity: 2 },
      { sku: 'B', quantity: 4 },
    ]));
});
