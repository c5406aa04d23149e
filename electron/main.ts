import { join } from 'node:path';
import type { ElectronMain } from './electron-api.js';
import { startTrayApp } from './tray-app.js';

// The real Electron entry (bundled to dist/electron/main.cjs). electron is imported at run
// time only: it is an optional dependency, and nothing else in the project needs it.
const electronModule = 'electron';
const electron = (await import(electronModule)) as { default?: ElectronMain } & ElectronMain;
const here = import.meta.dirname;
await startTrayApp(electron.default ?? electron, {
  rendererDir: join(here, '../renderer'),
  preload: join(here, 'preload.cjs'),
  iconsDir: join(here, '../../build/icons'),
});
