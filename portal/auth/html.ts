import { readFileSync } from 'node:fs';
import { emptyDb } from '../../appliance/store/migrations.js';

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]!);
}

/** The guest pages' stylesheet and default colours, so the pages an emailed link opens look like the portal. */
const CSS = readFileSync(new URL('../views/portal.css', import.meta.url), 'utf8').replace(/\n/g, '');
const { primaryColor, accentColor } = emptyDb().settings;

/**
 * A script-free page for the account forms and the pages emailed links open, in the portal's
 * style and with a way back to it; `body` must already be escaped markup.
 */
export function simplePage(title: string, body: string): string {
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title>` +
    `<style>:root{--p:${primaryColor};--a:${accentColor}}${CSS}</style>` +
    `</head><body><header><a class="venue" href="/portal">Wi-Fi portal</a></header>` +
    `<main id="main"><h1>${escapeHtml(title)}</h1>${body}<p><a href="/portal">Back to the portal</a></p></main></body></html>`
  );
}
