import { configDefaults, defineConfig } from 'vitest/config';

const roots = '{protocol,remote,agent,electron,renderer,test,build}';

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // End-to-end suites start daemons and agents; two cores run two files at a time well.
    // The pool is one for the run (vitest reads maxWorkers at the root): `npm run test:unit` asks for 4.
    maxWorkers: 2,
    projects: [
      // Fast tests: in-process daemons on temporary sockets, no sshd, browser or CLI child processes.
      { extends: true, test: { name: 'unit', include: [`${roots}/**/*.test.ts`], exclude: [...configDefaults.exclude, `${roots}/**/*.e2e.test.ts`] } },
      // Real processes: built bundles, the CLIs, sshd, Chromium, the packaged app.
      { extends: true, test: { name: 'e2e', include: [`${roots}/**/*.e2e.test.ts`] } },
    ],
  },
});
