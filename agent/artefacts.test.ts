import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AgentError } from './errors.js';
import { artefactPath, artefactsDir, requireArtefact } from './artefacts.js';

const ROOT = join(import.meta.dirname, '..');
const url = (p: string) => pathToFileURL(p).href;

describe('where the shipped files are', () => {
  it('beside the running bundle: dist/ for dist/tether.js, the app folder for main.mjs and tether.mjs, in app.asar too', () => {
    expect(artefactPath('server-bundle', {}, url('/usr/lib/node_modules/tether/dist/tether.js'))).toBe('/usr/lib/node_modules/tether/dist/remote/tether.cjs');
    expect(artefactPath('server-bundle', {}, url('/opt/Tether/resources/app.asar/main.mjs'))).toBe('/opt/Tether/resources/app.asar/remote/tether.cjs');
    expect(artefactPath('node-runtimes', {}, url('/opt/Tether/resources/app.asar/tether.mjs'))).toBe('/opt/Tether/resources/app.asar/runtimes');
  });

  it('from source, in the checkout\'s dist/ (what `npm run build` writes); $TETHER_REMOTE_BUNDLE wins', () => {
    expect(artefactsDir()).toBe(join(ROOT, 'dist'));
    expect(artefactPath('server-bundle', { TETHER_REMOTE_BUNDLE: '/tmp/old.cjs' })).toBe('/tmp/old.cjs');
    expect(artefactPath('node-runtimes', { TETHER_REMOTE_BUNDLE: '/tmp/old.cjs' })).toBe(join(ROOT, 'dist/runtimes'));
  });

  it('a missing one is one line naming the file, with code server-setup', () => {
    let err: unknown;
    try {
      requireArtefact('server-bundle', { TETHER_REMOTE_BUNDLE: '/nonexistent/tether.cjs' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AgentError);
    expect((err as AgentError).code).toBe('server-setup');
    expect((err as AgentError).message).toMatch(/^\/nonexistent\/tether\.cjs is missing .*[^\n]$/);
  });
});
