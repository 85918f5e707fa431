/**
 * Stripe's test cards, as far as Turnpike depends on them. Any other number
 * that passes the Luhn check is accepted, like test mode's generic cards.
 */
export const TEST_CARDS = {
  success: '4242424242424242',
  declined: '4000000000000002',
  insufficientFunds: '4000000000009995',
} as const;

/** Stripe's magic payment method ids, usable with `paymentMethods.attach`. */
export const MAGIC_PAYMENT_METHODS: Readonly<Record<string, string>> = {
  pm_card_visa: TEST_CARDS.success,
  pm_card_chargeDeclined: TEST_CARDS.declined,
  pm_card_chargeDeclinedInsufficientFunds: TEST_CARDS.insufficientFunds,
};

export type CardOutcome =
  { ok: true; brand: string; last4: string } | { ok: false; code: string; declineCode: string | null; message: string };

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let digit = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

export function normalizeCardNumber(raw: string): string {
  return raw.replace(/[\s-]/g, '');
}

export function cardOutcome(rawNumber: string): CardOutcome {
  const number = normalizeCardNumber(rawNumber);
  if (!/^\d{12,19}$/.test(number) || !luhn(number)) {
    return { ok: false, code: 'incorrect_number', declineCode: null, message: 'Your card number is incorrect.' };
  }
  if (number === TEST_CARDS.declined) {
    return { ok: false, code: 'card_declined', declineCode: 'generic_decline', message: 'Your card was declined.' };
  }
  if (number === TEST_CARDS.insufficientFunds) {
    return {
      ok: false,
      code: 'card_declined',
      declineCode: 'insufficient_funds',
      message: 'Your card has insufficient funds.',
    };
  }
  const brand = number.startsWith('4') ? 'visa' : number.startsWith('5') ? 'mastercard' : 'unknown';
  return { ok: true, brand, last4: number.slice(-4) };
}
