// The tray icons tell their states apart by shape, not only by colour (colour-blind users,
// monochrome panels), and every state shows on light and on dark panels.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodePng, type Rgba } from '../test/support/png.js';

const ICONS = join(import.meta.dirname, 'icons');
const STATES = ['idle', 'lending', 'attention'] as const;
const PANELS = { light: [236, 236, 236], dark: [30, 30, 30] } as const;
/** Two states' shapes must differ in at least this share of the icon's pixels. */
const MIN_SHAPE_DIFFERENCE = 0.06;

const load = (file: string): Rgba => decodePng(readFileSync(join(ICONS, file)));

/** Where the icon is opaque: its shape with colour thrown away. */
const shape = (img: Rgba): boolean[] => Array.from({ length: img.width * img.height }, (_, i) => img.data[i * 4 + 3]! >= 128);

function luminance([r, g, b]: number[]): number {
  const lin = (c: number) => (c / 255 <= 0.04045 ? c / 255 / 12.92 : ((c / 255 + 0.055) / 1.055) ** 2.4);
  return 0.2126 * lin(r!) + 0.7152 * lin(g!) + 0.0722 * lin(b!);
}

/** What stands out from a panel once the icon is drawn on it (contrast ratio 1.6 or more). */
function ink(img: Rgba, panel: readonly number[]): boolean[] {
  const back = luminance([...panel]);
  return Array.from({ length: img.width * img.height }, (_, i) => {
    const a = img.data[i * 4 + 3]! / 255;
    const px = [0, 1, 2].map((c) => img.data[i * 4 + c]! * a + panel[c]! * (1 - a));
    const l = luminance(px);
    return (Math.max(l, back) + 0.05) / (Math.min(l, back) + 0.05) >= 1.6;
  });
}

const differing = (a: boolean[], b: boolean[]) => a.filter((v, i) => v !== b[i]).length / a.length;
const share = (m: boolean[]) => m.filter(Boolean).length / m.length;

describe('tray icons', () => {
  it('decodes as drawn: the app icon is a blue square, transparent at its rounded corner', () => {
    const app = load('16x16.png');
    expect([app.width, app.height]).toEqual([16, 16]);
    expect(app.data[3]).toBe(0);
    const at = (x: number, y: number) => Array.from(app.data.subarray((y * 16 + x) * 4, (y * 16 + x) * 4 + 4));
    expect(at(8, 2)).toEqual([0x24, 0x57, 0xd6, 255]);
  });

  for (const variant of ['', 'Template'] as const) {
    for (const scale of ['', '@2x'] as const) {
      const files = STATES.map((s) => `tray-${s}${variant}${scale}.png`);
      it(`${files.join(', ')}: every pair of states differs in shape`, () => {
        const shapes = files.map((f) => shape(load(f)));
        for (const [i, j] of [[0, 1], [0, 2], [1, 2]] as const) {
          expect(differing(shapes[i]!, shapes[j]!), `${files[i]} vs ${files[j]}`).toBeGreaterThanOrEqual(MIN_SHAPE_DIFFERENCE);
        }
      });
    }
  }

  for (const scale of ['', '@2x'] as const) {
    for (const [panel, colour] of Object.entries(PANELS)) {
      it(`tray-*${scale}.png on a ${panel} panel: each state shows, and the states still differ`, () => {
        const seen = STATES.map((s) => ink(load(`tray-${s}${scale}.png`), colour));
        for (const [k, m] of seen.entries()) expect(share(m), `${STATES[k]} on ${panel}`).toBeGreaterThanOrEqual(0.15);
        for (const [i, j] of [[0, 1], [0, 2], [1, 2]] as const) {
          expect(differing(seen[i]!, seen[j]!), `${STATES[i]} vs ${STATES[j]} on ${panel}`).toBeGreaterThanOrEqual(MIN_SHAPE_DIFFERENCE);
        }
      });
    }
  }
});
