import { configDefaults, defineConfig } from 'vitest/config';

const roots = '{protocol,remote,agent,electron,renderer,test,build}';

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // End-to-end suites start daemons and agents; two cores run two files at a time well.
    // Workers and isolation are the run's, not a project's (vitest reads them at the root):
    // `npm run test:unit` adds --no-isolate, so a worker loads the shared modules once for all
    // the files it runs (half the CPU); `npm test` keeps every file in a fresh process.
    maxWorkers: 2,
    projects: [
      // Fast tests: in-process daemons on temporary sockets, no sshd, browser or CLI child processes.
      { extends: true, test: { name: 'unit', include: [`${roots}/**/*.test.ts`], exclude: [...configDefaults.exclude, `${roots}/**/*.e2e.test.ts`] } },
      // Real processes: built bundles, the CLIs, sshd, Chromium, the packaged app.
      { extends: true, test: { name: 'e2e', include: [`${roots}/**/*.e2e.test.ts`] } },
    ],
  },
});
