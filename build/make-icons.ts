// Renders the app and tray icons from SVG with headless Chromium (no image library needed):
// `npx tsx build/make-icons.ts`. The PNGs are committed; re-run after changing a drawing.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launchChromium } from '../test/support/ui-bridge.js';

const OUT = join(import.meta.dirname, 'icons');
const KNOT = (stroke: string, width: number) =>
  `<circle cx="11" cy="16" r="6" fill="none" stroke="${stroke}" stroke-width="${width}"/><circle cx="21" cy="16" r="6" fill="none" stroke="${stroke}" stroke-width="${width}"/>`;

/**
 * Each state has its own shape, so it reads without colour (colour-blind users, monochrome
 * panels): idle is the bare knot; lending adds a round badge with a tick; attention adds a
 * triangle with "!". The knot is cut away around a badge, and each badge has a dark rim and a
 * light mark, so both show on light and on dark panels (build/icons.test.ts checks all of it).
 */
const BADGE: Record<string, { cut: string; colour: string; template: string }> = {
  idle: { cut: '', colour: '', template: '' },
  lending: {
    cut: '<circle cx="24.5" cy="8" r="8.5" fill="#000"/>',
    colour: '<circle cx="24.5" cy="8" r="6.6" fill="#1f9d55" stroke="#0b4d27" stroke-width="1.4"/><path d="M21.2 8.2 L23.6 10.6 L28 5.8" fill="none" stroke="#fff" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"/>',
    // Template images are alpha only: the tick is cut out of the disc.
    template: '<mask id="tick"><rect width="32" height="32" fill="#fff"/><path d="M21.2 8.2 L23.6 10.6 L28 5.8" fill="none" stroke="#000" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"/></mask><circle cx="24.5" cy="8" r="6.6" fill="#000" mask="url(#tick)"/>',
  },
  attention: {
    cut: '<path d="M24.5 -2.5 L33 15 L16 15 Z" fill="#000"/>',
    colour: '<path d="M24.5 0.8 L31.3 13.6 L17.7 13.6 Z" fill="#f0b429" stroke="#6b4500" stroke-width="1.4" stroke-linejoin="round"/><path d="M24.5 4.6 L24.5 9.2" stroke="#2b1c00" stroke-width="2.2" stroke-linecap="round"/><circle cx="24.5" cy="11.6" r="1.2" fill="#2b1c00"/>',
    template: '<mask id="bang"><rect width="32" height="32" fill="#fff"/><path d="M24.5 4.6 L24.5 9.2" stroke="#000" stroke-width="2.2" stroke-linecap="round"/><circle cx="24.5" cy="11.6" r="1.2" fill="#000"/></mask><path d="M24.5 0.8 L31.3 13.6 L17.7 13.6 Z" fill="#000" stroke="#000" stroke-width="1.4" stroke-linejoin="round" mask="url(#bang)"/>',
  },
};

/** The knot with the badge's area (and a gap around it) cut out, then the badge on top. */
function trayBody(state: string, knot: string, badge: string): string {
  const { cut } = BADGE[state]!;
  if (!cut) return knot;
  const id = `cut-${state}`;
  return `<mask id="${id}"><rect width="32" height="32" fill="#fff"/>${cut}</mask><g mask="url(#${id})">${knot}</g>${badge}`;
}

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
    await render(`tray-${state}${suffix}.png`, trayBody(state, KNOT('#6b7280', 2.8), BADGE[state]!.colour), 16 * scale);
    await render(`tray-${state}Template${suffix}.png`, trayBody(state, KNOT('#000', 2.8), BADGE[state]!.template), 16 * scale);
  }
}
await browser.close();
