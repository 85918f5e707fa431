import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry, type Counter } from 'prom-client';
import { createRadiusMetrics } from '../../radius/radius-metrics.js';
import { radiusFigures } from './radius-figures.js';

test('the dashboard’s RADIUS figures are the counters /metrics serves: accepts, rejects by reason, accounting', async () => {
  assert.equal(await radiusFigures(new Registry()), null, 'no RADIUS server, no figures');
  const registry = new Registry();
  createRadiusMetrics(registry);
  const requests = registry.getSingleMetric('turnpike_radius_requests_total') as Counter<string>;
  const rejects = registry.getSingleMetric('turnpike_radius_rejects_total') as Counter<string>;
  requests.inc({ type: 'access', code: 'Access-Accept', nas: 'lobby', outcome: 'accept' }, 5);
  requests.inc({ type: 'access', code: 'Access-Reject', nas: 'lobby', outcome: 'reject' }, 3);
  requests.inc({ type: 'accounting', code: 'Accounting-Response', nas: 'lobby', outcome: 'acknowledged' }, 7);
  rejects.inc({ reason: 'TP_ERR_VOUCHER_INVALID' }, 1);
  rejects.inc({ reason: 'TP_ERR_ENTITLEMENT_EXPIRED' }, 2);
  assert.deepEqual(await radiusFigures(registry), {
    accepts: 5,
    rejects: 3,
    accounting: 7,
    rejectsByReason: [
      { reason: 'TP_ERR_ENTITLEMENT_EXPIRED', count: 2 },
      { reason: 'TP_ERR_VOUCHER_INVALID', count: 1 },
    ],
  });
});
