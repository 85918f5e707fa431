/**
 * Payment records kept in `db.json` under `db.payments`. Full provider event
 * payloads go to the 'payment-events' history, never here. Money is integer
 * minor units; times are ms since the epoch.
 */

export type PaymentStatus = 'pending' | 'paid' | 'failed' | 'refunded';

/** One attempt to take money: a checkout, or one invoice of a recurring plan. */
export interface Payment {
  id: string;
  userId: string;
  planId: string;
  kind: 'one-off' | 'recurring';
  amountMinor: number;
  currency: string;
  status: PaymentStatus;
  stripe: {
    customerId: string | null;
    checkoutSessionId: string | null;
    paymentIntentId: string | null;
    invoiceId: string | null;
    subscriptionId: string | null;
  };
  /** Our Subscription this payment created or extended. */
  subscriptionId: string | null;
  /** Seconds of access this payment added (taken back on refund). */
  grantedSeconds: number;
  /** A top-up: the running subscription whose data this payment adds to (not a new subscription). */
  topUpOf?: string;
  /** Bytes of data a top-up added (taken back on refund). */
  grantedBytes?: number;
  invoiceNumber: string | null;
  failureMessage: string | null;
  createdAt: number;
  updatedAt: number;
}

/** One account ↔ one provider customer. */
export interface CustomerLink {
  userId: string;
  stripeCustomerId: string;
  createdAt: number;
}

export interface InvoiceLine {
  description: string;
  quantity: number;
  unitAmountMinor: number;
  amountMinor: number;
}

export interface Invoice {
  /** `YYYY-NNNNNN`, gap-free within the year. */
  number: string;
  year: number;
  paymentId: string;
  userId: string;
  issuedAt: number;
  /** Copied at issue time: a later settings change never rewrites an issued invoice. */
  seller: { name: string; address: string; taxId: string; taxRatePercent: number };
  buyer: { name: string; email: string };
  lines: InvoiceLine[];
  currency: string;
  /** Prices are gross; the tax contained in them is shown. */
  subtotalMinor: number;
  taxMinor: number;
  totalMinor: number;
  status: 'paid' | 'refunded';
}

/** The provider's catalogue objects mirroring one plan. */
export interface StripeSync {
  planId: string;
  productId: string;
  priceId: string;
  /** amount|currency|interval of `priceId`; a plan change creates a new price. */
  priceKey: string;
  /** Prices replaced by later plan changes (deactivated at the provider). */
  retiredPriceIds: string[];
  syncedAt: number;
}

/** A provider subscription and the Subscription record it drives. */
export interface RecurringLink {
  stripeSubscriptionId: string;
  subscriptionId: string;
  userId: string;
  planId: string;
  /** When the provider first reported a failed renewal; grace runs from here. */
  pastDueSince: number | null;
}

export interface ProcessedEvents {
  /** Recently applied event ids, newest last, bounded by MAX_RECENT_EVENT_IDS. */
  recentIds: string[];
  /** The provider event up to which recovery has walked the event list. */
  cursorEventId: string | null;
  /** Recovery without a cursor starts from events created at or after this time (s). */
  sinceSeconds: number | null;
}

export const MAX_RECENT_EVENT_IDS = 2000;

export interface PaymentsState {
  customers: Record<string, CustomerLink>;
  payments: Record<string, Payment>;
  invoices: Record<string, Invoice>;
  stripeSync: Record<string, StripeSync>;
  recurring: Record<string, RecurringLink>;
  processedEvents: ProcessedEvents;
}

export function emptyPaymentsState(): PaymentsState {
  return {
    customers: {},
    payments: {},
    invoices: {},
    stripeSync: {},
    recurring: {},
    processedEvents: { recentIds: [], cursorEventId: null, sinceSeconds: null },
  };
}
