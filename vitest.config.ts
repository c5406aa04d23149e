import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{protocol,remote,agent,electron,renderer,test,build}/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // End-to-end suites start daemons and agents; two cores run two files at a time well.
    maxWorkers: 2,
  },
});
