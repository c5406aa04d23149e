import { expect } from 'vitest';
import type { World } from './world.js';

/** Tears a world down and proves nothing secret reached the server's disk or any log. */
export async function retire(world: World | undefined): Promise<void> {
  if (!world) return;
  await world.stop();
  expect(world.leaks()).toEqual([]);
  await world.dispose();
}
