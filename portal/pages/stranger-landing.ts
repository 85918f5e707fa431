import type { FastifyReply } from 'fastify';
import { frameOf, type GuestContext } from './guest-context.js';
import { sendHtml, type PageRepliesDeps } from './page-replies.js';
import { joinIntoBody } from './response-bodies.js';
import type { RowChange } from '../../appliance/store/change-record.js';
import { DOCUMENTS_TABLE } from '../../appliance/store/state-layout.js';

const CSRF_MARK = '\u0000csrf\u0000';
const NAS_MARK = '\u0000nas\u0000';
const MARKS = /(\u0000csrf\u0000|\u0000nas\u0000)/;

function escapeAttribute(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Answers a stranger (no error to show, no plan of their own) with the landing page. */
export type StrangerLanding = (reply: FastifyReply, context: GuestContext) => FastifyReply;

/**
 * A stranger's landing page differs only in its CSRF and NAS tokens: it is rendered once per
 * language with markers and then assembled per request. A change to plans or settings (branding)
 * drops the cache; the rest of the write load (accounting, sign-ups) never does.
 */
export function createStrangerLanding(
  deps: PageRepliesDeps,
  landingData: (context: GuestContext) => Record<string, unknown>,
  csrfToken: (reply: FastifyReply) => string,
): StrangerLanding {
  const byLanguage = new Map<string, Array<Buffer | string>>();
  const pieces: Buffer[] = [];
  deps.store.onChange(({ changes }) => {
    if (changes.some(changesLanding)) byLanguage.clear();
  });

  return (reply, context) => {
    let parts = byLanguage.get(context.lang);
    if (!parts) {
      const frame = frameOf(deps, context, context.t.plans, CSRF_MARK);
      const html = deps.renderer.render('landing', frame, { ...landingData(context), nas: NAS_MARK });
      // Static stretches are kept as bytes, the same buffers on every request: a reused body already
      // holds them in place (response-bodies.ts), and a request writes only its tokens.
      parts = html.split(MARKS).map((part) => (part === CSRF_MARK || part === NAS_MARK ? part : Buffer.from(part)));
      byLanguage.set(context.lang, parts);
    }
    const csrf = tokenBytes(csrfToken(reply));
    const nas = tokenBytes(context.nasToken);
    // joinIntoBody copies what it needs before returning, so one list serves every request.
    pieces.length = parts.length;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      pieces[i] = part === CSRF_MARK ? csrf : part === NAS_MARK ? nas : (part as Buffer);
    }
    return sendHtml(reply, joinIntoBody(reply.raw, pieces));
  };
}

/**
 * A token as the escaped bytes the page carries. A guest keeps one CSRF token
 * (page-replies.ts caches it per cookie), and most arrive with the same, often
 * empty, NAS token: the bytes are made once per token, not once per page.
 */
const tokenCache = new Map<string, Buffer>();
function tokenBytes(token: string): Buffer {
  let bytes = tokenCache.get(token);
  if (bytes === undefined) {
    bytes = Buffer.from(escapeAttribute(token));
    if (tokenCache.size >= 10_000) tokenCache.clear();
    tokenCache.set(token, bytes);
  }
  return bytes;
}

const changesLanding = ({ table, id }: RowChange): boolean =>
  table === 'plans' || (table === DOCUMENTS_TABLE && id === 'settings');
