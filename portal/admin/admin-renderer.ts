import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Eta, type TemplateFunction } from 'eta';
import type { Role } from '../../appliance/domain/model.js';
import { ADMIN_MESSAGES, type AdminMessages } from '../i18n/admin-messages.js';
import { LANGUAGES, MESSAGES, format, type Language } from '../i18n/messages.js';
import { formatBytes, formatDuration, formatMoney } from '../pages/formatting.js';

export const ADMIN_VIEWS = [
  'login',
  'code',
  'password',
  'enrol',
  'recovery',
  'message',
  'dashboard',
  'sessions',
  'session',
  'people',
  'person',
  'plans',
  'plan-form',
  'vouchers',
  'batch',
  'nas',
  'nas-edit',
  'audit',
  'payments',
  'settings',
  'reports',
] as const;
export type AdminView = (typeof ADMIN_VIEWS)[number];

/** Pieces several views share, called from a view as `it.partial(name, data)` (output with `<%~`). */
export const ADMIN_PARTIALS = ['usage-chart'] as const;
export type AdminPartial = (typeof ADMIN_PARTIALS)[number];

const VIEWS = fileURLToPath(new URL('../views/admin/', import.meta.url));

/** Formatting in the reader's language, for templates. */
export interface Formatters {
  date(ms: number | null): string;
  bytes(bytes: number | null): string;
  duration(seconds: number | null): string;
  money(amountMinor: number, currency: string): string;
  text(template: string, values: Readonly<Record<string, string | number>>): string;
}

export interface NavItem {
  href: string;
  label: string;
  current: boolean;
}

/** What the console's frame needs besides a page's own data. */
export interface AdminFrame {
  lang: Language;
  title: string;
  csrf: string;
  user: { email: string; role: Role } | null;
  nav: NavItem[];
  notice: string | null;
  error: string | null;
  /** The current path without `lang`, for the language links. */
  path: string;
}

function formattersOf(lang: Language): Formatters {
  const t = MESSAGES[lang];
  // Staff read when things happened to the minute; guests' pages show dates only.
  const dateTime = new Intl.DateTimeFormat(t.locale, {
    dateStyle: 'medium',
    timeStyle: 'medium',
  });
  return {
    date: (ms) => (ms === null ? '—' : dateTime.format(ms)),
    bytes: (bytes) => formatBytes(bytes, t),
    duration: (seconds) => formatDuration(seconds, t),
    money: (amountMinor, currency) => formatMoney(amountMinor, currency, lang),
    text: format,
  };
}

/**
 * The console's templates, compiled once at start. Eta escapes every `<%= %>`; the only raw
 * outputs are the page body inside the frame and the server-made QR code SVG.
 */
export class AdminRenderer {
  readonly #eta = new Eta({ autoEscape: true, autoTrim: false, cache: false });
  readonly #views = new Map<AdminView, TemplateFunction>();
  readonly #partials = new Map<AdminPartial, TemplateFunction>();
  readonly #layout: TemplateFunction;
  readonly #css: string;
  readonly #fmt = new Map<Language, Formatters>(LANGUAGES.map((lang) => [lang, formattersOf(lang)]));

  constructor() {
    this.#css = readFileSync(`${VIEWS}admin.css`, 'utf8').replace(/\n\s*/g, '');
    this.#layout = this.#eta.compile(readFileSync(`${VIEWS}layout.eta`, 'utf8'));
    for (const view of ADMIN_VIEWS) {
      this.#views.set(view, this.#eta.compile(readFileSync(`${VIEWS}${view}.eta`, 'utf8')));
    }
    for (const name of ADMIN_PARTIALS) {
      this.#partials.set(name, this.#eta.compile(readFileSync(`${VIEWS}${name}.eta`, 'utf8')));
    }
  }

  messages(lang: Language): AdminMessages {
    return ADMIN_MESSAGES[lang];
  }

  render(view: AdminView, frame: AdminFrame, data: Record<string, unknown>): string {
    const t = ADMIN_MESSAGES[frame.lang];
    const fmt = this.#fmt.get(frame.lang)!;
    const partial = (name: AdminPartial, values: Record<string, unknown>): string =>
      this.#partials.get(name)!.call(this.#eta, { ...values, t, fmt, lang: frame.lang });
    const body = this.#views
      .get(view)!
      .call(this.#eta, { ...data, t, fmt, csrf: frame.csrf, lang: frame.lang, partial });
    return this.#layout.call(this.#eta, { ...frame, t, css: this.#css, languages: LANGUAGES, body });
  }
}
