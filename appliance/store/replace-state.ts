import { childPath, kindOf } from './state-layout.js';

/**
 * Makes a mutation's `draft` hold `next`, key by key, descending into namespaces (which cannot be
 * assigned whole). Rows identical to the current ones are not changes, so only what differs is
 * written. For migrations and imports, which produce a whole state.
 */
export function replaceState(draft: object, next: Record<string, unknown>, path = ''): void {
  const target = draft as Record<string, unknown>;
  for (const key of new Set([...Object.keys(target), ...Object.keys(next)])) {
    const child = childPath(path, key);
    if (kindOf(child) === 'namespace') {
      replaceState(target[key] as object, (next[key] ?? {}) as Record<string, unknown>, child);
    } else if (!Object.hasOwn(next, key)) {
      delete target[key];
    } else {
      target[key] = next[key];
    }
  }
}
