import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { TurnpikeError } from '../shared/errors.js';
import { readFileIfExists, writeFileDurably } from './store/durable-file.js';

/** Random secrets the appliance generates once and keeps beside its store (mode 0600). */
export interface ApplianceSecrets {
  /** Signs cookies: CSRF secrets, device bindings, carried NAS parameters. */
  cookieSecret: string;
}

export const SECRETS_FILE = 'secrets.json';

function isSecrets(value: unknown): value is ApplianceSecrets {
  return typeof value === 'object' && value !== null && typeof (value as ApplianceSecrets).cookieSecret === 'string';
}

/** Reads the secrets in `dataDir`, creating them on first start. */
export async function loadOrCreateSecrets(dataDir: string): Promise<ApplianceSecrets> {
  const path = join(dataDir, SECRETS_FILE);
  const text = await readFileIfExists(path);
  if (text !== null) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
    if (!isSecrets(parsed)) {
      throw new TurnpikeError(
        'TP_ERR_CONFIG',
        `${path} is damaged; remove it to generate new secrets (signed cookies reset)`,
      );
    }
    return parsed;
  }
  const secrets: ApplianceSecrets = { cookieSecret: randomBytes(32).toString('base64url') };
  await writeFileDurably(path, JSON.stringify(secrets, null, 2));
  return secrets;
}
