import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../shared/clock.js';
import type { Settings } from '../../appliance/domain/model.js';
import type { Logger } from '../../shared/logger.js';
import { getSettings, updateSettings, type SettingsPatch } from '../../appliance/settings/settings.js';
import type { Store } from '../../appliance/store/store.js';
import { ADMIN, STAFF, errorResponses } from './auth-schemas.js';
import { jsonBodiesOnly } from './json-only.js';
import { requestActor } from '../auth/request-actor.js';

const tags = ['settings'];

/** Language → text; the domain checks the language codes and lengths and names the bad one. */
function texts(maxLength: number, description: string) {
  return {
    type: 'object',
    description,
    propertyNames: { pattern: '^[a-z]{2}$' },
    additionalProperties: { type: 'string', maxLength },
  } as const;
}

const sellerFields = {
  name: { type: 'string', minLength: 1, maxLength: 200 },
  address: { type: 'string', maxLength: 500 },
  taxId: { type: 'string', maxLength: 64 },
  taxRatePercent: {
    type: 'number',
    minimum: 0,
    maximum: 100,
    description: 'VAT contained in the prices, percent, at most two decimals',
  },
} as const;

const brandingFields = {
  venueName: { type: 'string', minLength: 1, maxLength: 60 },
  logoUrl: {
    type: ['string', 'null'],
    maxLength: 40_000,
    description: 'a path on this appliance (/…) or a data:image URI: guests reach nothing else, and the CSP agrees',
  },
  primaryColor: { type: 'string', pattern: '^#[0-9a-fA-F]{6}$' },
  accentColor: { type: 'string', pattern: '^#[0-9a-fA-F]{6}$' },
  welcomeText: texts(500, 'landing-page heading per language; replaces the whole map'),
  termsText: texts(20_000, 'terms of use per language; replaces the whole map'),
  supportContact: { type: 'string', maxLength: 200 },
  timeZone: {
    type: 'string',
    maxLength: 64,
    description: 'IANA time zone of the venue; usage periods anchored at a time of day follow it',
  },
} as const;

const settingsSchema = {
  type: 'object',
  additionalProperties: false,
  required: [...Object.keys(brandingFields), 'seller'],
  properties: {
    ...brandingFields,
    seller: {
      type: 'object',
      additionalProperties: false,
      required: Object.keys(sellerFields),
      properties: sellerFields,
    },
  },
} as const;

const patchSchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    ...brandingFields,
    seller: { type: 'object', additionalProperties: false, minProperties: 1, properties: sellerFields },
  },
} as const;

/** `/api/v1/settings`: the venue's branding, texts and invoice seller; staff read, admins change. */
export async function settingsApi(
  app: FastifyInstance,
  deps: { store: Store; clock: Clock; logger: Logger },
): Promise<void> {
  jsonBodiesOnly(app);

  app.get(
    '/api/v1/settings',
    {
      config: { roles: STAFF },
      schema: {
        tags,
        summary: 'Branding, texts and seller details',
        response: { 200: settingsSchema, ...errorResponses },
      },
    },
    async (): Promise<Readonly<Settings>> => getSettings(deps.store),
  );

  app.patch<{ Body: SettingsPatch }>(
    '/api/v1/settings',
    {
      config: { roles: ADMIN },
      schema: {
        tags,
        summary: 'Change some settings; the portal pages show the change on the next request',
        body: patchSchema,
        response: { 200: settingsSchema, ...errorResponses },
      },
    },
    async (request): Promise<Settings> => updateSettings(deps.store, deps.clock, request.body, requestActor(request)),
  );
}
