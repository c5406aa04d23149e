import { join } from 'node:path';
import type { ElectronMain } from './electron-api.js';
import { startTrayApp } from './tray-app.js';

// The Electron entry, bundled to main.mjs in the app folder (build/app.mjs). electron is imported
// at run time only: the binary is fetched for `npm run dist` alone, and tests resolve the name to
// test/support/electron-double. Everything it opens sits beside it in the app folder.
const electronModule = 'electron';
const electron = (await import(electronModule)) as { default?: ElectronMain } & ElectronMain;
const here = import.meta.dirname;
await startTrayApp(electron.default ?? electron, {
  rendererDir: join(here, 'renderer'),
  preload: join(here, 'preload.cjs'),
  iconsDir: join(here, 'icons'),
  cli: join(here, 'tether.mjs'),
});
