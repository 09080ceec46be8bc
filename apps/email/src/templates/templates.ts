/** The name of each email template. */
export type TemplateName =
  'welcome' | 'order-confirmed' | 'payment-received' | 'order-rejected' | 'order-cancelled';

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

const escape = (value: string) =>
  value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/** `12.34 EUR` from minor units; never floats in between. */
export function formatMoney(cents: number, currency: string): string {
  const whole = Math.trunc(cents / 100);
  const fraction = String(Math.abs(cents % 100)).padStart(2, '0');
  return `${whole}.${fraction} ${currency}`;
}

const shortId = (id: string) => id.slice(0, 8);

function page(title: string, paragraphs: string[]): string {
  return `<!doctype html><html><body><h1>${escape(title)}</h1>${paragraphs.map((p) => `<p>${escape(p)}</p>`).join('')}</body></html>`;
}

/**
 * A name as one line of plain text: control, format and line-separator characters become one
 * space, and it is cut at 100 characters, so a name cannot add lines (a fake notice) to a mail.
 * Names are validated at registration; this also covers events from before that rule.
 */
export function oneLine(name: string): string {
  const line = name
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return line.length > 100 ? `${line.slice(0, 99)}…` : line;
}

const hello = (name: string) => `Hello ${oneLine(name)},`;

function email(subject: string, greeting: string, lines: string[]): RenderedEmail {
  return {
    subject,
    text: [greeting, '', ...lines, '', '-- Commerce'].join('\n'),
    html: page(subject, [greeting, ...lines]),
  };
}

/** Text and HTML of every template. */
export const templates = {
  welcome: (p: { name: string }) =>
    email('Welcome to Commerce', hello(p.name), ['Your account is ready. Happy shopping!']),
  'order-confirmed': (p: { name: string; orderId: string; totalCents: number; currency: string }) =>
    email(`Order ${shortId(p.orderId)} confirmed`, hello(p.name), [
      `Your order ${p.orderId} is confirmed and its items are reserved for you.`,
      `Amount due: ${formatMoney(p.totalCents, p.currency)}.`,
    ]),
  'payment-received': (p: {
    name: string;
    orderId: string;
    amountCents: number;
    currency: string;
  }) =>
    email(`Payment received for order ${shortId(p.orderId)}`, hello(p.name), [
      `We received ${formatMoney(p.amountCents, p.currency)} for order ${p.orderId}. Thank you!`,
    ]),
  'order-rejected': (p: { name: string; orderId: string; reason: string; shortSkus: string[] }) =>
    email(`Order ${shortId(p.orderId)} could not be completed`, hello(p.name), [
      `We could not complete order ${p.orderId}: ${p.reason}.`,
      ...(p.shortSkus.length ? [`Unavailable: ${p.shortSkus.join(', ')}.`] : []),
      'You have not been charged.',
    ]),
  'order-cancelled': (p: {
    name: string;
    orderId: string;
    reason: 'customer' | 'payment-timeout';
  }) =>
    email(`Order ${shortId(p.orderId)} cancelled`, hello(p.name), [
      p.reason === 'customer'
        ? `Your order ${p.orderId} was cancelled as you asked.`
        : `Your order ${p.orderId} was cancelled because it was not paid in time.`,
    ]),
} satisfies Record<TemplateName, (params: never) => RenderedEmail>;
