/** Small helpers every benchmark uses to report the same figures the same way. */
export function percentile(sortedMs: number[], p: number): number {
  if (sortedMs.length === 0) return NaN;
  const index = Math.min(sortedMs.length - 1, Math.max(0, Math.ceil((p / 100) * sortedMs.length) - 1));
  return sortedMs[index]!;
}

export interface LatencySummary {
  count: number;
  perSecond: number;
  p50: number;
  p99: number;
}

export function summarize(latenciesMs: number[], elapsedMs: number): LatencySummary {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return {
    count: sorted.length,
    perSecond: (sorted.length / elapsedMs) * 1000,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
  };
}

export function formatRow(label: string, summary: LatencySummary): string {
  return `${label.padEnd(28)} ${summary.perSecond.toFixed(0).padStart(8)} /s   p50 ${summary.p50.toFixed(2).padStart(7)} ms   p99 ${summary.p99.toFixed(2).padStart(7)} ms   (n=${summary.count})`;
}
