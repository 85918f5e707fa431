import { existsSync, realpathSync } from 'node:fs';
import { delimiter, join, relative, sep } from 'node:path';

function realpathOrNull(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}

/**
 * How to run the `turnpike` command where this process runs, for messages that tell the operator
 * what to type: `turnpike` when that name on the PATH is this program (installed), `npm run
 * turnpike --` from a checkout (`npm start`, `npm run turnpike`), else node and the script.
 * `--embedded` is kept when the current command used it, so the advice reaches the same store.
 */
export function commandHere(
  options: { embedded: boolean; argv?: readonly string[]; path?: string } = { embedded: false },
): string {
  const script = (options.argv ?? process.argv)[1] ?? '';
  const self = realpathOrNull(script);
  const onPath = (options.path ?? process.env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, 'turnpike'))
    .some((candidate) => existsSync(candidate) && self !== null && realpathOrNull(candidate) === self);
  const base = onPath
    ? 'turnpike'
    : script.endsWith(`${sep}appliance${sep}cli${sep}turnpike.ts`)
      ? 'npm run turnpike --'
      : `node ${relative(process.cwd(), script) || script}`;
  return options.embedded ? `${base} --embedded` : base;
}
