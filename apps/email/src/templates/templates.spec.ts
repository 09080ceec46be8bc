import { describe, expect, it } from '@jest/globals';
import { formatMoney, oneLine, templates } from './templates.js';

const orderId = '3f2a9c1e-7b4d-4e2a-9c1e-7b4d4e2a9c1e';

describe('what each email says', () => {
  it('an amount in minor units reads as units and cents, whatever the size or sign', () => {
    expect(formatMoney(1234, 'EUR')).toBe('12.34 EUR');
    expect(formatMoney(5, 'EUR')).toBe('0.05 EUR');
    expect(formatMoney(100, 'USD')).toBe('1.00 USD');
    expect(formatMoney(900719925474099, 'EUR')).toBe('9007199254740.99 EUR');
    expect(formatMoney(-250, 'EUR')).toBe('-2.50 EUR');
  });

  it('a name cannot add lines to a mail, and is cut at 100 characters', () => {
    expect(oneLine('Ada\r\nYour account was suspended')).toBe('Ada Your account was suspended');
    expect(oneLine('Ada\u2028Lovelace\u200b')).toBe('Ada Lovelace');
    const long = oneLine('x'.repeat(150));
    expect(long).toHaveLength(100);
    expect(long.endsWith('…')).toBe(true);
  });

  it('order.confirmed: the short order id in the subject, the amount due in the text', () => {
    const mail = templates['order-confirmed']({
      name: 'Ada',
      orderId,
      totalCents: 18790,
      currency: 'EUR',
    });
    expect(mail.subject).toBe('Order 3f2a9c1e confirmed');
    expect(mail.text).toContain('Hello Ada,');
    expect(mail.text).toContain('Amount due: 187.90 EUR.');
  });

  it('order.rejected: the reason and the unavailable SKUs, and that nothing was charged', () => {
    const mail = templates['order-rejected']({
      name: 'Ada',
      orderId,
      reason: 'Not enough stock for LAMP-1',
      shortSkus: ['LAMP-1'],
    });
    expect(mail.text).toContain('Not enough stock for LAMP-1.');
    expect(mail.text).toContain('Unavailable: LAMP-1.');
    expect(mail.text).toContain('You have not been charged.');
    const noSkus = templates['order-rejected']({
      name: 'Ada',
      orderId,
      reason: 'the reservation deadline passed',
      shortSkus: [],
    });
    expect(noSkus.text).not.toContain('Unavailable');
  });

  it('order.cancelled: says whether the customer asked or the payment deadline passed', () => {
    const asked = templates['order-cancelled']({ name: 'Ada', orderId, reason: 'customer' });
    const late = templates['order-cancelled']({ name: 'Ada', orderId, reason: 'payment-timeout' });
    expect(asked.text).toContain('was cancelled as you asked');
    expect(late.text).toContain('because it was not paid in time');
  });

  it('the HTML part escapes what the name and the reason bring', () => {
    const mail = templates['order-rejected']({
      name: '<script>alert(1)</script>',
      orderId,
      reason: 'a "quoted" & <b>bold</b> reason',
      shortSkus: [],
    });
    expect(mail.html).not.toContain('<script>');
    expect(mail.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(mail.html).toContain('a &quot;quoted&quot; &amp; &lt;b&gt;bold&lt;/b&gt; reason');
  });
});
