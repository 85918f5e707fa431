import type { Registry } from 'prom-client';

/** What the RADIUS door answered since this process started, from its own counters. */
export interface RadiusFigures {
  accepts: number;
  rejects: number;
  accounting: number;
  /** Access-Rejects by TP_ERR_* reason, most frequent first. */
  rejectsByReason: Array<{ reason: string; count: number }>;
}

async function samples(
  registry: Registry,
  name: string,
): Promise<Array<{ labels: Record<string, unknown>; value: number }>> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return [];
  const { values } = await metric.get();
  return values.map((sample) => ({ labels: sample.labels as Record<string, unknown>, value: sample.value }));
}

/**
 * Read from the Prometheus registry the RADIUS server already feeds, so the dashboard and
 * `/metrics` can never disagree. Null when this process runs no RADIUS server.
 */
export async function radiusFigures(registry: Registry): Promise<RadiusFigures | null> {
  if (!registry.getSingleMetric('turnpike_radius_requests_total')) return null;
  const figures: RadiusFigures = { accepts: 0, rejects: 0, accounting: 0, rejectsByReason: [] };
  for (const { labels, value } of await samples(registry, 'turnpike_radius_requests_total')) {
    if (labels.type === 'access' && labels.outcome === 'accept') figures.accepts += value;
    else if (labels.type === 'access' && labels.outcome === 'reject') figures.rejects += value;
    else if (labels.type === 'accounting') figures.accounting += value;
  }
  figures.rejectsByReason = (await samples(registry, 'turnpike_radius_rejects_total'))
    .map(({ labels, value }) => ({ reason: String(labels.reason), count: value }))
    .sort((a, b) => b.count - a.count);
  return figures;
}
