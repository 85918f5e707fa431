import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { accountingCsv, instantsOf, isReportCsv, reportCsv } from '../../appliance/console/report-csv.js';
import { reportRangeOf, reportsOf } from '../../appliance/console/report-figures.js';
import { TurnpikeError } from '../../shared/errors.js';
import { ADMIN, STAFF } from '../api/auth-schemas.js';
import { pageRoute, type AdminPagesDeps, type AdminReplies } from './admin-replies.js';

const require = createRequire(import.meta.url);
const VIEWS = fileURLToPath(new URL('../views/admin/', import.meta.url));

/**
 * The console's own scripts and styles, read once at start and served from the box (the CSP
 * admits scripts from 'self' only): uPlot, and the script that draws charts from the tables.
 */
function consoleAssets(): Map<string, { type: string; body: Buffer }> {
  const uplot = require.resolve('uplot/dist/uPlot.iife.min.js');
  return new Map([
    ['uplot.min.js', { type: 'text/javascript; charset=utf-8', body: readFileSync(uplot) }],
    [
      'uplot.min.css',
      { type: 'text/css; charset=utf-8', body: readFileSync(uplot.replace(/uPlot\.iife\.min\.js$/, 'uPlot.min.css')) },
    ],
    ['console-charts.js', { type: 'text/javascript; charset=utf-8', body: readFileSync(`${VIEWS}console-charts.js`) }],
  ]);
}

function queryOf(range: { from: string; to: string }): string {
  return `?from=${range.from}&to=${range.to}`;
}

/** Reports (admin): usage, revenue, redemptions and top guests from the rollups, each as a chart, a table and CSV. */
export function reportsPages(app: FastifyInstance, deps: AdminPagesDeps, replies: AdminReplies): void {
  const { store, clock } = deps;
  const assets = consoleAssets();

  app.get('/admin/assets/:file', pageRoute(STAFF), async (request, reply) => {
    const asset = assets.get((request.params as { file: string }).file);
    if (!asset) throw new TurnpikeError('TP_ERR_NOT_FOUND', 'no such asset');
    return reply.type(asset.type).header('cache-control', 'private, max-age=3600').send(asset.body);
  });

  app.get('/admin/reports', pageRoute(ADMIN), async (request, reply) => {
    const t = replies.t(request, reply);
    const query = request.query as Record<string, unknown>;
    const range = reportRangeOf(query, clock.now(), store.db.settings.timeZone);
    const reports = reportsOf(store.db, range, typeof query.day === 'string' ? query.day : undefined);
    return replies.page(request, reply, 'reports', t.reports, { reports, query: queryOf(range) });
  });

  app.get('/admin/reports/export/:name', pageRoute(ADMIN), async (request, reply) => {
    const { name } = request.params as { name: string };
    const query = request.query as Record<string, unknown>;
    const zone = store.db.settings.timeZone;
    const range = reportRangeOf(query, clock.now(), zone);
    const filename = `${name}-${range.from}-${range.to}.csv`;
    void reply
      .type('text/csv; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('content-disposition', `attachment; filename="${filename}"`);
    if (name === 'accounting') {
      const { fromMs, toMs } = instantsOf(range, zone);
      return reply.send(Readable.from(accountingCsv(store, fromMs, toMs)));
    }
    if (!isReportCsv(name)) throw new TurnpikeError('TP_ERR_NOT_FOUND', `no report ${name}`);
    const reports = reportsOf(store.db, range, typeof query.day === 'string' ? query.day : undefined);
    return reply.send(reportCsv(reports, name));
  });
}
