// Renders the app and tray icons from SVG with headless Chromium (no image library needed):
// `npx tsx build/make-icons.ts`. The PNGs are committed; re-run after changing a drawing.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launchChromium } from '../test/support/ui-bridge.js';

const OUT = join(import.meta.dirname, 'icons');
const KNOT = (stroke: string, width: number) =>
  `<circle cx="11" cy="16" r="6" fill="none" stroke="${stroke}" stroke-width="${width}"/><circle cx="21" cy="16" r="6" fill="none" stroke="${stroke}" stroke-width="${width}"/>`;
const DOT: Record<string, string> = { idle: '', lending: '<circle cx="26" cy="7" r="5" fill="#1f9d55"/>', attention: '<circle cx="26" cy="7" r="5" fill="#e8a317"/>' };
const DOT_TEMPLATE: Record<string, string> = { idle: '', lending: '<circle cx="26" cy="7" r="4.5" fill="#000"/>', attention: '<path d="M26 1 L31.5 12 L20.5 12 Z" fill="#000"/>' };

const svg = (body: string, size: number) => `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 32 32">${body}</svg>`;
const app = `<rect x="1" y="1" width="30" height="30" rx="7" fill="#2457d6"/>${KNOT('#fff', 2.6)}`;

const browser = await launchChromium();
const page = await browser.newPage();
async function render(file: string, body: string, size: number): Promise<void> {
  await page.setViewportSize({ width: size, height: size });
  await page.setContent(`<html><body style="margin:0;background:transparent">${svg(body, size)}</body></html>`);
  await page.screenshot({ path: join(OUT, file), omitBackground: true, clip: { x: 0, y: 0, width: size, height: size } });
}
mkdirSync(OUT, { recursive: true });
for (const size of [16, 32, 48, 64, 128, 256, 512, 1024]) await render(`${size}x${size}.png`, app, size);
await render('icon.png', app, 1024);
for (const state of ['idle', 'lending', 'attention']) {
  for (const [suffix, scale] of [['', 1], ['@2x', 2]] as const) {
    // Linux/Windows: colour on any panel; macOS: black + alpha "template" images the menu bar tints.
    await render(`tray-${state}${suffix}.png`, `${KNOT('#6b7280', 2.8)}${DOT[state]}`, 16 * scale);
    await render(`tray-${state}Template${suffix}.png`, `${KNOT('#000', 2.8)}${DOT_TEMPLATE[state]}`, 16 * scale);
  }
}
await browser.close();
