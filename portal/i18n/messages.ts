/** Every string a guest reads, per language. German is the second language; add one by adding a table. */
const en = {
  langName: 'English',
  /** The BCP 47 tag numbers, money and dates are written in. */
  locale: 'en-GB',
  skip: 'Skip to content',
  language: 'Language',
  plans: 'Plans',
  choosePlan: 'Choose a plan',
  free: 'Free',
  perMonth: '/ month',
  minutes: 'min',
  hours: 'h',
  day: 'day',
  days: 'days',
  unlimited: 'unlimited',
  devices: 'Devices',
  devicesUpTo: 'up to {n} devices',
  oneDevice: '1 device',
  data: 'Data',
  time: 'Time',
  buy: 'Buy',
  takeFree: 'Take the free tier',
  haveVoucher: 'Have a voucher?',
  voucherCode: 'Voucher code',
  voucherHint: 'Letters and digits as printed, dashes optional',
  redeem: 'Redeem and connect',
  terms: 'Terms of use',
  acceptTerms: 'I accept the terms of use',
  readTerms: 'Read the terms',
  signUp: 'Create account',
  signUpTitle: 'Create an account',
  logIn: 'Log in',
  logInTitle: 'Log in',
  signUpAddressTaken:
    'We could not sign you in with that password. If this address already has an account, we have sent it a message: sign in with its password, or ask for a reset link.',
  logOut: 'Log out',
  email: 'Email',
  password: 'Password',
  passwordHint: 'At least 10 characters',
  name: 'Name (optional)',
  haveAccount: 'Already have an account?',
  noAccount: 'No account yet?',
  freeTitle: 'Free tier',
  freeIntro: 'Get online for free once a day on this device.',
  freeNeedsAccount: 'Create an account or log in first to take the free tier.',
  noFreeTier: 'There is no free tier at the moment.',
  connected: 'You are connected',
  notConnected: 'You are not connected yet',
  timeLeft: 'Time remaining',
  dataLeft: 'Data remaining',
  quotaResets: 'Data allowance renews',
  plan: 'Plan',
  yourDevices: 'Your devices',
  online: 'online',
  offline: 'offline',
  thisDevice: 'this device',
  forget: 'Forget',
  connect: 'Connect this device',
  extend: 'Buy or extend',
  topUpTitle: 'Get full speed back',
  topUpIntro:
    'Your data allowance is used up, so you are online at reduced speed. Add data and full speed returns on this connection: no new login.',
  topUpAdd: 'Add {data} for {price}',
  topUpDone: 'Data added: full speed is back.',
  topUpVoucher: 'Or add the data of a voucher',
  topUpRedeem: 'Add its data',
  continueTo: 'Continue to',
  account: 'Your account',
  changePassword: 'Change password',
  currentPassword: 'Current password',
  newPassword: 'New password',
  save: 'Save',
  passwordChanged: 'Your password has been changed.',
  invoices: 'Invoices appear here once you buy a plan.',
  back: 'Back to the start',
  error: 'That did not work',
  tryAgain: 'Try again',
  notice: 'Notice',
  handoffNas: 'Connecting you to the network…',
  handoffManual: 'If nothing happens, continue here:',
  noNas: 'Your access is active. Open any website to start browsing.',
  loggedOut: 'You have been logged out.',
  logInAgain: 'Log in again',
  nasConnected: 'Your device is online. You can close this page or go on to where you were headed.',
  nasFailed: 'The network did not accept the login. Please try again; if it keeps failing, ask the staff for help.',
  sessionEnded: 'Your session has ended',
  nasTimedOut: 'Your time on the network is up. Buy or extend a plan, or log in again if you still have time left.',
  handoffBroken:
    'The Wi-Fi login page sent us an incomplete link, so we cannot sign you in from here. Open any website to get the login page again, or reconnect to the Wi-Fi.',
  welcomeBack: 'Welcome back',
  status: 'Status',
  nothingActive: 'You have no active plan. Choose one below.',
  remainingOf: '{left} of {total}',
  support: 'Help: {contact}',
  poweredBy: 'Wi-Fi access',
  mustAccept: 'Please accept the terms of use.',
  mac: 'MAC',
  lastSeen: 'last seen',
  invoicesTitle: 'Invoices',
  paymentsTitle: 'Payments',
  invoiceNumber: 'Invoice',
  date: 'Date',
  total: 'Total',
  viewInvoice: 'View',
  downloadPdf: 'PDF',
  noPayments: 'No payments yet.',
  paymentPending: 'pending',
  paymentPaid: 'paid',
  paymentFailed: 'failed',
  paymentRefunded: 'refunded',
  latestOnly: 'Showing the latest {n}.',
  sshKeysTitle: 'SSH keys',
  sshKeysIntro: 'Plans with SSH access let you log in with these keys instead of your password.',
  noSshKeys: 'No SSH keys yet.',
  addSshKey: 'Add SSH key',
  sshKeyLabel: 'Public key',
  sshKeyHint:
    'Paste the one line of your .pub file, e.g. ~/.ssh/id_ed25519.pub (ed25519, ECDSA or RSA with 2048 bits or more).',
  sshKeyAdded: 'Your SSH key has been added.',
  sshKeyRemoved: 'The SSH key has been removed.',
  sshKeyInvalid: 'That is not an SSH public key we accept',
  sshKeyDuplicate: 'This key is already on your account.',
  sshKeyLimit: 'An account holds at most {n} SSH keys; remove one first.',
  remove: 'Remove',
};

export type MessageKey = keyof typeof en;
export type Messages = Readonly<Record<MessageKey, string>>;

const de: Messages = {
  langName: 'Deutsch',
  locale: 'de-DE',
  skip: 'Zum Inhalt springen',
  language: 'Sprache',
  plans: 'Tarife',
  choosePlan: 'Tarif wählen',
  free: 'Kostenlos',
  perMonth: '/ Monat',
  minutes: 'Min.',
  hours: 'Std.',
  day: 'Tag',
  days: 'Tage',
  unlimited: 'unbegrenzt',
  devices: 'Geräte',
  devicesUpTo: 'bis zu {n} Geräte',
  oneDevice: '1 Gerät',
  data: 'Daten',
  time: 'Zeit',
  buy: 'Kaufen',
  takeFree: 'Kostenlos surfen',
  haveVoucher: 'Haben Sie einen Gutschein?',
  voucherCode: 'Gutscheincode',
  voucherHint: 'Buchstaben und Ziffern wie gedruckt, Bindestriche optional',
  redeem: 'Einlösen und verbinden',
  terms: 'Nutzungsbedingungen',
  acceptTerms: 'Ich akzeptiere die Nutzungsbedingungen',
  readTerms: 'Bedingungen lesen',
  signUp: 'Konto anlegen',
  signUpTitle: 'Konto anlegen',
  logIn: 'Anmelden',
  logInTitle: 'Anmelden',
  signUpAddressTaken:
    'Die Anmeldung mit diesem Passwort ist fehlgeschlagen. Falls diese Adresse schon ein Konto hat, haben wir ihr eine Nachricht geschickt: Melden Sie sich mit dessen Passwort an oder fordern Sie einen Link zum Zurücksetzen an.',
  logOut: 'Abmelden',
  email: 'E-Mail',
  password: 'Passwort',
  passwordHint: 'Mindestens 10 Zeichen',
  name: 'Name (freiwillig)',
  haveAccount: 'Sie haben schon ein Konto?',
  noAccount: 'Noch kein Konto?',
  freeTitle: 'Kostenloser Zugang',
  freeIntro: 'Einmal am Tag kostenlos online auf diesem Gerät.',
  freeNeedsAccount: 'Legen Sie zuerst ein Konto an oder melden Sie sich an.',
  noFreeTier: 'Zurzeit gibt es keinen kostenlosen Zugang.',
  connected: 'Sie sind verbunden',
  notConnected: 'Sie sind noch nicht verbunden',
  timeLeft: 'Verbleibende Zeit',
  dataLeft: 'Verbleibende Daten',
  quotaResets: 'Datenvolumen erneuert sich',
  plan: 'Tarif',
  yourDevices: 'Ihre Geräte',
  online: 'online',
  offline: 'offline',
  thisDevice: 'dieses Gerät',
  forget: 'Entfernen',
  connect: 'Dieses Gerät verbinden',
  extend: 'Kaufen oder verlängern',
  topUpTitle: 'Wieder volle Geschwindigkeit',
  topUpIntro:
    'Ihr Datenvolumen ist aufgebraucht, deshalb surfen Sie gedrosselt. Buchen Sie Daten nach, und diese Verbindung läuft wieder mit voller Geschwindigkeit, ohne neue Anmeldung.',
  topUpAdd: '{data} für {price} nachbuchen',
  topUpDone: 'Daten nachgebucht: volle Geschwindigkeit ist zurück.',
  topUpVoucher: 'Oder das Datenvolumen eines Gutscheins hinzufügen',
  topUpRedeem: 'Datenvolumen hinzufügen',
  continueTo: 'Weiter zu',
  account: 'Ihr Konto',
  changePassword: 'Passwort ändern',
  currentPassword: 'Aktuelles Passwort',
  newPassword: 'Neues Passwort',
  save: 'Speichern',
  passwordChanged: 'Ihr Passwort wurde geändert.',
  invoices: 'Rechnungen erscheinen hier, sobald Sie einen Tarif kaufen.',
  back: 'Zurück zum Start',
  error: 'Das hat nicht geklappt',
  tryAgain: 'Erneut versuchen',
  notice: 'Hinweis',
  handoffNas: 'Sie werden mit dem Netz verbunden …',
  handoffManual: 'Falls nichts passiert, geht es hier weiter:',
  noNas: 'Ihr Zugang ist aktiv. Öffnen Sie eine beliebige Webseite.',
  loggedOut: 'Sie wurden abgemeldet.',
  logInAgain: 'Erneut anmelden',
  nasConnected: 'Ihr Gerät ist online. Sie können diese Seite schließen oder weitersurfen.',
  nasFailed:
    'Das Netzwerk hat die Anmeldung nicht angenommen. Bitte versuchen Sie es erneut; wenn es weiter fehlschlägt, fragen Sie das Personal.',
  sessionEnded: 'Ihre Sitzung ist beendet',
  nasTimedOut:
    'Ihre Zeit im Netzwerk ist abgelaufen. Kaufen oder verlängern Sie einen Tarif, oder melden Sie sich erneut an, falls noch Zeit übrig ist.',
  handoffBroken:
    'Die WLAN-Anmeldeseite hat uns einen unvollständigen Link geschickt, daher können wir Sie hier nicht anmelden. Öffnen Sie eine beliebige Website, um die Anmeldeseite erneut zu erhalten, oder verbinden Sie sich neu mit dem WLAN.',
  welcomeBack: 'Willkommen zurück',
  status: 'Status',
  nothingActive: 'Sie haben keinen aktiven Tarif. Wählen Sie unten einen aus.',
  remainingOf: '{left} von {total}',
  support: 'Hilfe: {contact}',
  poweredBy: 'WLAN-Zugang',
  mustAccept: 'Bitte akzeptieren Sie die Nutzungsbedingungen.',
  mac: 'MAC',
  lastSeen: 'zuletzt gesehen',
  invoicesTitle: 'Rechnungen',
  paymentsTitle: 'Zahlungen',
  invoiceNumber: 'Rechnung',
  date: 'Datum',
  total: 'Summe',
  viewInvoice: 'Ansehen',
  downloadPdf: 'PDF',
  noPayments: 'Noch keine Zahlungen.',
  paymentPending: 'ausstehend',
  paymentPaid: 'bezahlt',
  paymentFailed: 'fehlgeschlagen',
  paymentRefunded: 'erstattet',
  latestOnly: 'Es werden die neuesten {n} angezeigt.',
  sshKeysTitle: 'SSH-Schlüssel',
  sshKeysIntro: 'Mit Tarifen mit SSH-Zugang melden Sie sich mit diesen Schlüsseln statt mit Ihrem Passwort an.',
  noSshKeys: 'Noch keine SSH-Schlüssel.',
  addSshKey: 'SSH-Schlüssel hinzufügen',
  sshKeyLabel: 'Öffentlicher Schlüssel',
  sshKeyHint:
    'Fügen Sie die eine Zeile Ihrer .pub-Datei ein, z. B. ~/.ssh/id_ed25519.pub (ed25519, ECDSA oder RSA mit mindestens 2048 Bit).',
  sshKeyAdded: 'Ihr SSH-Schlüssel wurde hinzugefügt.',
  sshKeyRemoved: 'Der SSH-Schlüssel wurde entfernt.',
  sshKeyInvalid: 'Diesen öffentlichen SSH-Schlüssel können wir nicht annehmen',
  sshKeyDuplicate: 'Dieser Schlüssel ist bereits in Ihrem Konto.',
  sshKeyLimit: 'Ein Konto kann höchstens {n} SSH-Schlüssel haben; entfernen Sie zuerst einen.',
  remove: 'Entfernen',
};

/** Error messages by code, so a German guest never reads an English error. */
const errorsDe: Record<string, string> = {
  TP_ERR_VALIDATION: 'Die Eingabe ist nicht gültig.',
  TP_ERR_INVALID_CREDENTIALS: 'E-Mail oder Passwort ist falsch.',
  TP_ERR_CSRF: 'Das Formular ist abgelaufen; bitte Seite neu laden.',
  TP_ERR_LOCKED_OUT: 'Zu viele Fehlversuche; bitte warten.',
  TP_ERR_RATE_LIMITED: 'Zu viele Versuche; bitte warten Sie und versuchen Sie es erneut.',
  TP_ERR_CONFLICT: 'Diese E-Mail ist bereits registriert.',
  TP_ERR_WEAK_PASSWORD: 'Bitte ein längeres, weniger verbreitetes Passwort wählen.',
  TP_ERR_ENTITLEMENT_EXPIRED: 'Ihre Zeit ist abgelaufen; bitte kaufen oder lösen Sie mehr ein.',
  TP_ERR_QUOTA_EXHAUSTED: 'Ihr Datenvolumen ist aufgebraucht.',
  TP_ERR_DEVICE_LIMIT: 'Zu viele Geräte verbunden; trennen Sie zuerst eines.',
  TP_ERR_DISCONNECT_PENDING: 'Ihre vorige Sitzung wird noch beendet; bitte in einer Minute erneut versuchen.',
  TP_ERR_DEVICE_UNSEEN:
    'Ihr Gerät ist im Netzwerk noch nicht sichtbar; verbinden Sie sich neu mit dem WLAN und öffnen Sie diese Seite erneut.',
  TP_ERR_VOUCHER_INVALID: 'Dieser Gutscheincode ist nicht gültig.',
  TP_ERR_VOUCHER_USED: 'Dieser Gutschein wurde bereits verwendet.',
  TP_ERR_FREE_TIER_USED: 'Der kostenlose Zugang wurde heute auf diesem Gerät schon genutzt.',
  TP_ERR_NAS_UNKNOWN: 'Das Netzwerkgerät ist diesem System nicht bekannt.',
  TP_ERR_NOT_FOUND: 'Nicht gefunden.',
  TP_ERR_UNAUTHENTICATED: 'Bitte melden Sie sich zuerst an.',
  TP_ERR_PAYMENT: 'Die Zahlung ist nicht durchgegangen.',
  TP_ERR_UNAVAILABLE: 'Der Dienst ist gerade nicht erreichbar; bitte gleich noch einmal versuchen.',
  TP_ERR_FORBIDDEN: 'Das ist für dieses Konto nicht erlaubt.',
};

export const LANGUAGES = ['en', 'de'] as const;
export type Language = (typeof LANGUAGES)[number];

export const MESSAGES: Readonly<Record<Language, Messages>> = { en, de };

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);
}

/**
 * Browsers send a handful of distinct Accept-Language values, and every guest
 * page asks; the parsed answer per header is kept (bounded: cleared when full).
 */
const byHeader = new Map<string, Language>();

/** The guest's language: an explicit choice (cookie) first, then the browser's preferences, then English. */
export function pickLanguage(chosen: string | undefined, acceptLanguage: string | undefined): Language {
  if (isLanguage(chosen)) return chosen;
  const header = acceptLanguage ?? '';
  let language = byHeader.get(header);
  if (language === undefined) {
    language = fromAcceptLanguage(header);
    if (byHeader.size >= 256) byHeader.clear();
    byHeader.set(header, language);
  }
  return language;
}

function fromAcceptLanguage(header: string): Language {
  const preferences = header
    .split(',')
    .map((part) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      return { base: tag.toLowerCase().split('-')[0] ?? '', q: q ? Number(q.slice(2)) || 0 : 1 };
    })
    .filter((pref) => pref.q > 0)
    .sort((a, b) => b.q - a.q);
  return preferences.map((pref) => pref.base).find(isLanguage) ?? 'en';
}

export function format(template: string, values: Readonly<Record<string, string | number>>): string {
  return template.replace(/\{(\w+)\}/g, (_, key: string) => String(values[key] ?? ''));
}

export function errorMessage(language: Language, code: string, fallback: string): string {
  return language === 'de' ? (errorsDe[code] ?? fallback) : fallback;
}
