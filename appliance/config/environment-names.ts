import { TurnpikeError } from '../../shared/errors.js';

/**
 * `TURNPIKE_*` variables that are not configuration keys: the config file's location and the
 * variables read by the installer, the packaging scripts and the unit files. Everything else
 * under the prefix must name a key, so a misspelt override stops the start instead of being
 * silently ignored — the same as an unknown key in the file.
 */
export const NON_CONFIG_VARIABLES: ReadonlySet<string> = new Set([
  'TURNPIKE_CONFIG',
  'TURNPIKE_PREFIX',
  'TURNPIKE_ETC_DIR',
  'TURNPIKE_STATE_DIR',
  'TURNPIKE_UNIT_DIR',
  'TURNPIKE_SRV_DIR',
  'TURNPIKE_KEYS_DIR',
  'TURNPIKE_PAM_DIR',
  'TURNPIKE_SSHD_DIR',
  'TURNPIKE_USER',
  'TURNPIKE_GUEST_GROUP',
  'TURNPIKE_SSH_GROUP',
  'TURNPIKE_NODE',
  'TURNPIKE_RUN_INIT',
  'TURNPIKE_BUILD',
  'TURNPIKE_BUILD_DIR',
  'TURNPIKE_VERSION',
  'TURNPIKE_DEB_OUT',
]);

/** Edit distance (insertions, deletions, substitutions, adjacent swaps), for "did you mean". */
function distance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j += 1) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i += 1) {
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}

/** The known name closest to `name`, when it is close enough to be what was meant. */
export function nearestName(name: string, known: Iterable<string>): string | null {
  let best: { name: string; distance: number } | null = null;
  for (const candidate of known) {
    const d = distance(name, candidate);
    if (!best || d < best.distance) best = { name: candidate, distance: d };
  }
  return best && best.distance <= Math.max(3, Math.floor(name.length / 4)) ? best.name : null;
}

/** Throws TP_ERR_CONFIG naming every `TURNPIKE_*` variable that is neither a key nor a known tool variable. */
export function assertKnownEnvironment(env: NodeJS.ProcessEnv, keyNames: ReadonlySet<string>): void {
  const unknown = Object.keys(env)
    .filter((name) => name.startsWith('TURNPIKE_') && !keyNames.has(name) && !NON_CONFIG_VARIABLES.has(name))
    .sort();
  if (unknown.length === 0) return;
  const lines = unknown.map((name) => {
    const near = nearestName(name, keyNames);
    return near ? `${name}: not a configuration key; did you mean ${near}?` : `${name}: not a configuration key`;
  });
  throw new TurnpikeError(
    'TP_ERR_CONFIG',
    `${lines.join('\n')}\nEnvironment overrides are TURNPIKE_ and the key path in capitals, words joined by _ ` +
      `(portal.publicUrl → TURNPIKE_PORTAL_PUBLIC_URL); unset the variable or fix its name.`,
  );
}
