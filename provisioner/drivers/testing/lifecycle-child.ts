import { HostAccountDriver, type HostAccountOptions } from '../accounts.js';
import type { AccountSpec } from '../driver.js';

/**
 * One account-driver step in a process of its own, so a test can run it under
 * a narrowed capability set (setpriv). argv: options JSON, step, spec JSON.
 * Prints the step's result as JSON; exits 1 with the error message on failure.
 */
const [optionsJson = '{}', step = '', specJson = '{}'] = process.argv.slice(2);
const driver = new HostAccountDriver(JSON.parse(optionsJson) as HostAccountOptions);
const spec = JSON.parse(specJson) as AccountSpec;

async function main(): Promise<unknown> {
  switch (step) {
    case 'ensure':
      return driver.ensure(spec);
    case 'usage':
      return driver.usage(spec.login);
    case 'suspend':
      return driver.suspend(spec.login);
    case 'delete':
      return driver.delete(spec.login);
    case 'state':
      return driver.state();
    default:
      throw new Error(`unknown step ${step}`);
  }
}

main().then(
  (result) => process.stdout.write(`${JSON.stringify(result ?? null)}\n`),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
