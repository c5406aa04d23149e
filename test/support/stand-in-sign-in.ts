import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A vendor CLI's sign-in as seen from outside: the browser step needs the vendor's real
 * service, so this stand-in only does what the CLI does once signed in — it saves the login
 * in the folder named by `homeVar` — and records how it was run (arguments, that folder,
 * its mode and contents at start) for the test to check. `exitCode` other than 0: a sign-in
 * the user gave up on (nothing saved).
 */
export function standInSignIn(root: string, program: string, homeVar: string, file: string, login: string, exitCode = 0): { bin: string; record: string } {
  const bin = join(root, `stand-in-${program}`);
  mkdirSync(bin, { recursive: true });
  const record = join(bin, 'run.json');
  const script = `#!${process.execPath}
const fs = require('fs');
const home = process.env[${JSON.stringify(homeVar)}];
fs.writeFileSync(${JSON.stringify(record)}, JSON.stringify({ args: process.argv.slice(2), home, mode: (fs.statSync(home).mode & 0o777).toString(8), entries: fs.readdirSync(home) }));
if (${exitCode} !== 0) process.exit(${exitCode});
fs.writeFileSync(require('path').join(home, ${JSON.stringify(file)}), ${JSON.stringify(login)}, { mode: 0o600 });
console.log('Successfully logged in');
`;
  writeFileSync(join(bin, program), script);
  chmodSync(join(bin, program), 0o755);
  return { bin, record };
}
