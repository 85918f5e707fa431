import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../../shared/clock.js';
import type { Config } from '../../appliance/config/schema.js';
import type { Device } from '../../appliance/domain/model.js';
import { deviceById } from '../../appliance/devices/devices.js';
import { normalizeCode } from '../../appliance/vouchers/codes.js';
import { localizedText } from '../../appliance/settings/settings.js';
import type { Store } from '../../appliance/store/store.js';
import { format, isLanguage, MESSAGES, pickLanguage, type Language, type Messages } from '../i18n/messages.js';
import { openHandoff, sealHandoff } from '../handoff/handoff-token.js';
import type { Handoff } from '../handoff/handoff-params.js';
import type { FrameData } from './renderer.js';

export const COOKIE_DEVICE = 'tp_device';
export const COOKIE_VOUCHER = 'tp_voucher';
export const COOKIE_LANG = 'tp_lang';
export const COOKIE_NAS = 'tp_nas';

const YEAR_SECONDS = 365 * 86_400;

export interface ContextDeps {
  store: Store;
  clock: Clock;
  config: Config;
  /** Signs the NAS hand-off context. */
  secret: string;
  /** Gateway mode: the MAC behind a client address (the box's ARP table). */
  macOfAddress?: ((ip: string) => string | null) | undefined;
}

/** Everything a guest page knows about who is asking, read once per request. */
export interface GuestContext {
  lang: Language;
  t: Messages;
  /** `user:<id>` or `voucher:<code>`, or null for a stranger. */
  ownerKey: string | null;
  userId: string | null;
  device: Device | null;
  deviceId: string | null;
  handoff: Handoff | null;
  /** The sealed hand-off, for hidden form fields; '' when none. */
  nasToken: string;
  ip: string;
  /** The device's MAC as the network reported it. */
  mac: string | null;
  /** A name for the device list, from the browser's User-Agent ("iPhone", "Android", …). */
  deviceLabel: string;
}

const DEVICE_KINDS: ReadonlyArray<[RegExp, string]> = [
  [/iPhone/, 'iPhone'],
  [/iPad/, 'iPad'],
  [/Android/, 'Android'],
  [/CrOS/, 'Chromebook'],
  [/Windows/, 'Windows'],
  [/Macintosh/, 'Mac'],
  [/Linux/, 'Linux'],
];

export function deviceLabelOf(userAgent: string | undefined): string {
  return DEVICE_KINDS.find(([pattern]) => pattern.test(userAgent ?? ''))?.[1] ?? '';
}

function unsigned(request: FastifyRequest, name: string): string | null {
  const raw = request.cookies[name];
  if (!raw) return null;
  const result = request.unsignCookie(raw);
  return result.valid ? result.value : null;
}

function cookieOptions(deps: ContextDeps, maxAge: number) {
  return { path: '/', httpOnly: true, sameSite: 'lax' as const, secure: deps.config.portal.secureCookies, maxAge };
}

export function readContext(deps: ContextDeps, request: FastifyRequest, reply: FastifyReply): GuestContext {
  const query = request.query as Record<string, unknown>;
  const queryLang = query.lang;
  if (isLanguage(queryLang)) void reply.setCookie(COOKIE_LANG, queryLang, cookieOptions(deps, YEAR_SECONDS));
  const lang = pickLanguage(
    isLanguage(queryLang) ? queryLang : request.cookies[COOKIE_LANG],
    request.headers['accept-language'],
  );
  const db = deps.store.db;
  const now = deps.clock.now();
  const body = (request.body ?? {}) as Record<string, unknown>;
  const fromForm = openHandoff(deps.secret, body.nas, now, db);
  const handoff = fromForm ?? openHandoff(deps.secret, request.cookies[COOKIE_NAS], now, db);
  const deviceId = unsigned(request, COOKIE_DEVICE);
  const device = deviceById(db, deviceId);
  const userId = request.principal?.userId ?? null;
  const voucher = unsigned(request, COOKIE_VOUCHER);
  const ownerKey = userId ? `user:${userId}` : voucher ? `voucher:${normalizeCode(voucher)}` : null;
  return {
    lang,
    t: MESSAGES[lang],
    ownerKey,
    userId,
    device,
    deviceId: device ? device.id : null,
    handoff,
    nasToken: handoff
      ? typeof body.nas === 'string' && fromForm
        ? body.nas
        : (request.cookies[COOKIE_NAS] ?? '')
      : '',
    ip: request.ip,
    deviceLabel: deviceLabelOf(request.headers['user-agent']),
    mac: handoff?.mac ?? deps.macOfAddress?.(request.ip) ?? (device && device.mac !== '' ? device.mac : null),
  };
}

/** Remembers the NAS context for the rest of the journey (cookie) and returns its sealed form. */
export function rememberHandoff(deps: ContextDeps, reply: FastifyReply, handoff: Handoff): string {
  const token = sealHandoff(deps.secret, handoff, deps.clock.now());
  void reply.setCookie(COOKIE_NAS, token, cookieOptions(deps, 3600));
  return token;
}

export function rememberDevice(deps: ContextDeps, reply: FastifyReply, deviceId: string): void {
  void reply.setCookie(COOKIE_DEVICE, deviceId, { ...cookieOptions(deps, YEAR_SECONDS), signed: true });
}

export function rememberVoucher(deps: ContextDeps, reply: FastifyReply, code: string): void {
  void reply.setCookie(COOKIE_VOUCHER, code, { ...cookieOptions(deps, 30 * 86_400), signed: true });
}

export function forgetGuest(reply: FastifyReply): void {
  void reply.clearCookie(COOKIE_VOUCHER, { path: '/' });
  void reply.clearCookie(COOKIE_NAS, { path: '/' });
}

export function frameOf(deps: ContextDeps, context: GuestContext, title: string, csrf: string): FrameData {
  const settings = deps.store.db.settings;
  return {
    lang: context.lang,
    title,
    venue: settings.venueName,
    primary: settings.primaryColor,
    accent: settings.accentColor,
    logoUrl: settings.logoUrl,
    signedIn: context.ownerKey !== null,
    csrf,
    support: format(context.t.support, { contact: settings.supportContact }),
  };
}

export function termsOf(deps: ContextDeps, lang: Language): string {
  return localizedText(deps.store.db.settings.termsText, lang);
}

export function welcomeOf(deps: ContextDeps, lang: Language): string {
  return localizedText(deps.store.db.settings.welcomeText, lang);
}
