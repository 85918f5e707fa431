import { sep } from 'node:path';

/**
 * How to run the `turnpike` command where this process runs, for messages that tell the operator
 * what to type: from a checkout (`npm start`, `npm run turnpike`, which run the TypeScript source)
 * `npm run turnpike --`; installed (the package's /usr/bin/turnpike runs the compiled CLI, a
 * linked bin/turnpike.js is on the PATH) plain `turnpike`. `--embedded` is kept when the current
 * command used it, so the advice reaches the same store.
 */
export function commandHere(options: { embedded: boolean; argv?: readonly string[] }): string {
  const script = (options.argv ?? process.argv)[1] ?? '';
  const base = script.endsWith(`${sep}appliance${sep}cli${sep}turnpike.ts`) ? 'npm run turnpike --' : 'turnpike';
  return options.embedded ? `${base} --embedded` : base;
}
