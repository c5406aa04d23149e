import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentError } from './errors.js';

/**
 * Files the laptop side ships beside its code and opens at run time. Each sits at the same place
 * relative to the laptop bundle that runs: `dist/` for `dist/tether.js` (a checkout, the npm
 * package), the app folder for the tray app's `main.mjs` and `tether.mjs` (`dist/electron/`,
 * inside `resources/app.asar` once packaged). `build/bundle.mjs` and `build/app.mjs` put them
 * there; the CLI, the tray app and the tests all ask this module, so they cannot disagree.
 */
export const ARTEFACTS = {
  /** The one-file server bundle uploaded over SSH (`remote/cli/bin.ts`). */
  'server-bundle': 'remote/tether.cjs',
  /** Node runtimes for servers without node (`node-vX.Y.Z-linux-ARCH.gz` + a manifest), when built. */
  'node-runtimes': 'runtimes',
} as const;
export type Artefact = keyof typeof ARTEFACTS;

/**
 * The folder the artefacts are in. Bundled, this module is part of the running bundle, so its own
 * folder is the bundle's; from source (tsx, vitest) it is agent/, and `npm run build` writes dist/.
 */
export function artefactsDir(moduleUrl: string = import.meta.url): string {
  const here = dirname(fileURLToPath(moduleUrl));
  return moduleUrl.endsWith('.ts') ? join(here, '../dist') : here;
}

/** Where an artefact is; `$TETHER_REMOTE_BUNDLE` overrides the server bundle (tests of upgrades). */
export function artefactPath(name: Artefact, env: NodeJS.ProcessEnv = process.env, moduleUrl?: string): string {
  if (name === 'server-bundle' && env.TETHER_REMOTE_BUNDLE) return env.TETHER_REMOTE_BUNDLE;
  return join(artefactsDir(moduleUrl), ARTEFACTS[name]);
}

/** The artefact's path, or one line saying it is missing and how to make it. */
export function requireArtefact(name: Artefact, env: NodeJS.ProcessEnv = process.env): string {
  const file = artefactPath(name, env);
  if (!existsSync(file)) {
    throw new AgentError('server-setup', `${file} is missing (the ${name.replace('-', ' ')} this tether ships with): run \`npm run build\` in a checkout, or reinstall`);
  }
  return file;
}
