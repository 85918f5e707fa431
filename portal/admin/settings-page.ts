import type { FastifyInstance } from 'fastify';
import { requestActor } from '../auth/request-actor.js';
import type { Settings } from '../../appliance/domain/model.js';
import { TurnpikeError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { updateSettings, type SettingsPatch } from '../../appliance/settings/settings.js';
import { ADMIN } from '../api/auth-schemas.js';
import { LANGUAGES } from '../i18n/messages.js';
import { field, type FormBody } from '../pages/guest-forms.js';
import { formRoute, pageRoute, type AdminPagesDeps, type AdminReplies } from './admin-replies.js';

type Request = Parameters<AdminReplies['page']>[0];
type Reply = Parameters<AdminReplies['page']>[1];

/** The form's fields as a settings patch; the domain checks every value before anything is written. */
function patchOf(body: FormBody): SettingsPatch {
  const texts = (name: string, max: number) =>
    Object.fromEntries(LANGUAGES.map((lang) => [lang, field(body, `${name}_${lang}`, max)]));
  const rate = Number(field(body, 'taxRatePercent', 10).replace(',', '.'));
  if (!Number.isFinite(rate)) {
    throw new TurnpikeError('TP_ERR_VALIDATION', 'seller.taxRatePercent: a number', { field: 'taxRatePercent' });
  }
  return {
    venueName: field(body, 'venueName', 60),
    primaryColor: field(body, 'primaryColor', 7),
    accentColor: field(body, 'accentColor', 7),
    supportContact: field(body, 'supportContact', 200),
    timeZone: field(body, 'timeZone', 64),
    welcomeText: texts('welcome', 500),
    termsText: texts('terms', 20_000),
    seller: {
      name: field(body, 'sellerName', 200),
      address: field(body, 'sellerAddress', 500),
      taxId: field(body, 'taxId', 64),
      taxRatePercent: rate,
    },
  };
}

function formOf(settings: Readonly<Settings>) {
  return {
    venueName: settings.venueName,
    primaryColor: settings.primaryColor,
    accentColor: settings.accentColor,
    supportContact: settings.supportContact,
    timeZone: settings.timeZone,
    welcome: Object.fromEntries(LANGUAGES.map((lang) => [lang, settings.welcomeText[lang] ?? ''])),
    terms: Object.fromEntries(LANGUAGES.map((lang) => [lang, settings.termsText[lang] ?? ''])),
    sellerName: settings.seller.name,
    sellerAddress: settings.seller.address,
    taxId: settings.seller.taxId,
    taxRatePercent: String(settings.seller.taxRatePercent),
  };
}

/** Branding and seller details (admin), with a preview of how the guest landing will greet people. */
export function settingsPage(app: FastifyInstance, deps: AdminPagesDeps & { logger: Logger }, replies: AdminReplies) {
  const { store } = deps;

  function page(request: Request, reply: Reply, options: { notice?: string; error?: string } = {}) {
    const t = replies.t(request, reply);
    const lang = replies.lang(request, reply);
    const form = formOf(store.db.settings);
    return replies.page(
      request,
      reply,
      'settings',
      t.settings,
      { form, languages: LANGUAGES, previewWelcome: form.welcome[lang] || form.welcome.en || '' },
      options,
    );
  }

  app.get('/admin/settings', pageRoute(ADMIN), async (request, reply) => page(request, reply));

  app.post('/admin/settings', formRoute(app, ADMIN), async (request, reply) => {
    const t = replies.t(request, reply);
    try {
      await updateSettings(store, deps.clock, patchOf(request.body as FormBody), requestActor(request));
      return page(request, reply, { notice: t.saved });
    } catch (err) {
      return page(request, reply, { error: replies.failureText(request, reply, err) });
    }
  });
}
