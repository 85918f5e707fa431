import type { StripeObject } from './fake-ledger.js';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

export function formatAmount(minor: number, currency: string): string {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency: currency.toUpperCase() }).format(minor / 100);
  } catch {
    return `${(minor / 100).toFixed(2)} ${currency.toUpperCase()}`;
  }
}

export interface CheckoutPageView {
  session: StripeObject;
  lineItems: StripeObject[];
  error: string | null;
  email: string;
}

/** The hosted checkout page: a plain form, so it works in captive mini-browsers without JavaScript. */
export function renderCheckoutPage(view: CheckoutPageView): string {
  const { session, lineItems, error } = view;
  const total = formatAmount(session.amount_total as number, session.currency as string);
  const recurring = session.mode === 'subscription';
  const items = lineItems
    .map((item) => {
      const price = item.price as { recurring: { interval: string; interval_count: number } | null };
      const every = price.recurring ? ` every ${price.recurring.interval_count} ${price.recurring.interval}(s)` : '';
      return `<li><span class="name">${escapeHtml(String(item.description))}</span> <span class="amount">${escapeHtml(
        formatAmount(item.amount_total as number, item.currency as string),
      )}${escapeHtml(every)}</span></li>`;
    })
    .join('');
  const cancel = session.cancel_url
    ? `<p><a href="${escapeHtml(String(session.cancel_url))}">Cancel and go back</a></p>`
    : '';
  const alert = error ? `<p class="error" role="alert" id="card-error">${escapeHtml(error)}</p>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Checkout (test mode)</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem}label{display:block;margin:.6rem 0 .2rem}
input{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}.error{color:#b00020;border:1px solid #b00020;padding:.6rem;border-radius:4px}
button{margin-top:1rem;width:100%;padding:.7rem;font-size:1.05rem}.test{background:#fff3cd;padding:.4rem;font-size:.85rem}</style></head>
<body><p class="test">TEST MODE — use card 4242 4242 4242 4242 (succeeds) or 4000 0000 0000 0002 (declined).</p>
<h1>Pay ${escapeHtml(total)}${recurring ? ' (subscription)' : ''}</h1><ul class="items">${items}</ul>${alert}
<form method="post" action="/c/pay/${escapeHtml(session.id)}">
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="email" value="${escapeHtml(view.email)}">
<label for="cardnumber">Card number</label><input id="cardnumber" name="cardnumber" inputmode="numeric" autocomplete="cc-number" required placeholder="1234 1234 1234 1234">
<label for="exp">Expiry (MM / YY)</label><input id="exp" name="exp" autocomplete="cc-exp" placeholder="MM / YY" value="12 / 34">
<label for="cvc">CVC</label><input id="cvc" name="cvc" inputmode="numeric" autocomplete="cc-csc" value="123">
<button type="submit" id="pay">Pay ${escapeHtml(total)}</button></form>${cancel}</body></html>`;
}

export function renderGonePage(message: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Checkout</title></head><body><h1>Checkout</h1><p role="alert">${escapeHtml(
    message,
  )}</p></body></html>`;
}
