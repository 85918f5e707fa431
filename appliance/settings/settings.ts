import type { Settings } from '../domain/model.js';
import { TurnpikeError } from '../../shared/errors.js';
import { isTimeZone } from '../quotas/usage-period.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../../shared/clock.js';
import { auditIn, SYSTEM, type Actor } from '../accounts/audit.js';

export type BrandingPatch = Partial<
  Pick<
    Settings,
    | 'venueName'
    | 'logoUrl'
    | 'primaryColor'
    | 'accentColor'
    | 'welcomeText'
    | 'termsText'
    | 'supportContact'
    | 'timeZone'
  >
>;

const COLOR = /^#[0-9a-fA-F]{6}$/;
const LANGUAGE = /^[a-z]{2}$/;

function invalid(field: string, message: string): TurnpikeError {
  return new TurnpikeError('TP_ERR_VALIDATION', `${field}: ${message}`, { field });
}

/**
 * The logo must come from the appliance itself: guests behind the portal
 * cannot reach anything else, and the page's CSP allows only 'self' and data:.
 */
export function isLocalImageUrl(url: string): boolean {
  return (
    (/^\/[A-Za-z0-9/_.-]*$/.test(url) && !url.startsWith('//')) ||
    /^data:image\/(png|gif|jpeg|webp);base64,[A-Za-z0-9+/=]+$/.test(url)
  );
}

function assertTexts(field: string, texts: unknown, maxLength: number): void {
  if (typeof texts !== 'object' || texts === null || Array.isArray(texts))
    throw invalid(field, 'an object of language → text');
  for (const [language, text] of Object.entries(texts)) {
    if (!LANGUAGE.test(language)) throw invalid(field, `"${language}" is not a two-letter language code`);
    if (typeof text !== 'string' || text.length > maxLength)
      throw invalid(`${field}.${language}`, `text ≤ ${maxLength} characters`);
  }
}

export function assertBranding(patch: BrandingPatch): void {
  if (
    patch.venueName !== undefined &&
    (typeof patch.venueName !== 'string' || patch.venueName.trim() === '' || patch.venueName.length > 60)
  ) {
    throw invalid('venueName', '1–60 characters');
  }
  if (patch.logoUrl !== undefined && patch.logoUrl !== null) {
    if (typeof patch.logoUrl !== 'string' || patch.logoUrl.length > 40_000 || !isLocalImageUrl(patch.logoUrl)) {
      throw invalid('logoUrl', 'a path on this appliance (/…) or a small data:image URI');
    }
  }
  for (const field of ['primaryColor', 'accentColor'] as const) {
    const value = patch[field];
    if (value !== undefined && (typeof value !== 'string' || !COLOR.test(value)))
      throw invalid(field, 'a colour like #0b5cad');
  }
  if (patch.welcomeText !== undefined) assertTexts('welcomeText', patch.welcomeText, 500);
  if (patch.termsText !== undefined) assertTexts('termsText', patch.termsText, 20_000);
  if (
    patch.supportContact !== undefined &&
    (typeof patch.supportContact !== 'string' || patch.supportContact.length > 200)
  ) {
    throw invalid('supportContact', '≤ 200 characters');
  }
  if (patch.timeZone !== undefined && (typeof patch.timeZone !== 'string' || !isTimeZone(patch.timeZone))) {
    throw invalid('timeZone', 'an IANA time zone such as Europe/Berlin or UTC');
  }
}

export type SellerPatch = Partial<Settings['seller']>;
export type SettingsPatch = BrandingPatch & { seller?: SellerPatch };

function assertString(field: string, value: unknown, min: number, max: number): void {
  if (value !== undefined && (typeof value !== 'string' || value.trim().length < min || value.length > max))
    throw invalid(field, `${min}–${max} characters`);
}

/** The seller block is copied onto every invoice, so it must print and compute cleanly. */
export function assertSeller(patch: SellerPatch): void {
  assertString('seller.name', patch.name, 1, 200);
  assertString('seller.address', patch.address, 0, 500);
  assertString('seller.taxId', patch.taxId, 0, 64);
  const rate = patch.taxRatePercent;
  // Invoices compute tax in basis points: more than two decimals would be silently rounded.
  if (
    rate !== undefined &&
    (typeof rate !== 'number' ||
      !Number.isFinite(rate) ||
      rate < 0 ||
      rate > 100 ||
      Math.round(rate * 100) / 100 !== rate)
  ) {
    throw invalid('seller.taxRatePercent', 'a percentage from 0 to 100 with at most two decimals');
  }
}

/** A detached copy of (a draft of) the settings, so the audit line keeps the values of its moment. */
function plainCopy(settings: Readonly<Settings>): Settings {
  return JSON.parse(JSON.stringify(settings)) as Settings;
}

/** What an edit changed, field by field: the fields as they were and as they became. */
function changesOf(before: Readonly<Settings>, after: Readonly<Settings>) {
  const was: Record<string, unknown> = {};
  const now: Record<string, unknown> = {};
  for (const key of Object.keys(after) as Array<keyof Settings>) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) {
      was[key] = before[key];
      now[key] = after[key];
    }
  }
  return { before: was, after: now };
}

/** Branding and seller details in one write; nothing is changed unless every field is valid. */
export async function updateSettings(
  store: Store,
  clock: Clock,
  patch: SettingsPatch,
  actor: Actor = SYSTEM,
): Promise<Settings> {
  const { seller, ...branding } = patch;
  assertBranding(branding);
  if (seller !== undefined) assertSeller(seller);
  return store.update((db, histories) => {
    const before = plainCopy(db.settings);
    db.settings = {
      ...db.settings,
      ...branding,
      ...(seller !== undefined ? { seller: { ...db.settings.seller, ...seller } } : {}),
    };
    const after = plainCopy(db.settings);
    auditIn(histories, clock.now(), actor, {
      action: 'settings.updated',
      target: 'settings',
      ...changesOf(before, after),
    });
    return db.settings;
  });
}

export function getSettings(store: Store): Readonly<Settings> {
  return store.db.settings;
}

export function updateBranding(
  store: Store,
  clock: Clock,
  patch: BrandingPatch,
  actor: Actor = SYSTEM,
): Promise<Settings> {
  return updateSettings(store, clock, patch, actor);
}

/** A text in the guest's language, else English, else any. */
export function localizedText(texts: Readonly<Record<string, string>>, language: string): string {
  return texts[language] ?? texts.en ?? Object.values(texts)[0] ?? '';
}
