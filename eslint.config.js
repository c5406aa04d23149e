import tseslint from 'typescript-eslint';

// The layers (DESIGN.md): electron → agent → protocol ← remote; renderer sees only protocol.
const layer = (files, patterns, extra = []) => ({
  files,
  rules: { 'no-restricted-imports': ['error', { paths: extra, patterns }] },
});
const node = ['node:*', 'fs', 'path', 'os', 'crypto', 'net', 'http', 'https', 'child_process', 'stream', 'events', 'util'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tmp/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    ...layer(['protocol/**/*.ts'], [
      { group: ['**/agent/**', '**/remote/**', '**/electron/**', '**/renderer/**'], message: 'protocol/ is the shared contract: it imports no side.' },
      { group: node, message: 'protocol/ does no I/O and runs anywhere: no Node modules.' },
      { group: ['ws', 'electron', 'react', 'keytar', 'ssh2'], message: 'protocol/ is pure.' },
      { group: ['./node/*', '**/node/*'], message: 'protocol/ is pure: protocol/node/ builds on it, not the other way.' },
    ]),
    ignores: ['protocol/node/**'],
  },
  // The Node layer both sides share: Node's own modules and protocol/, nothing else.
  layer(['protocol/node/**/*.ts'], [
    { group: ['**/agent/**', '**/remote/**', '**/electron/**', '**/renderer/**'], message: 'protocol/node/ is shared by agent/ and remote/: it imports neither side.' },
    { group: ['ws', 'electron', 'react', 'keytar', 'ssh2'], message: 'protocol/node/ imports only protocol/ and node:*.' },
  ]),
  layer(['remote/**/*.ts'], [
    { group: ['**/agent/**', '**/electron/**', '**/renderer/**'], message: 'remote/ ships alone to servers: it never imports laptop code.' },
    { group: ['electron', 'react', 'keytar', 'ssh2'], message: 'remote/ ships alone to servers: no laptop packages.' },
  ]),
  layer(['agent/**/*.ts'], [
    { group: ['**/remote/**', '**/electron/**', '**/renderer/**'], message: 'agent/ depends only on protocol/ (electron → agent → protocol ← remote).' },
    { group: ['electron', 'react'], message: 'agent/ runs headless: no Electron or React.' },
  ]),
  layer(['electron/**/*.ts'], [
    { group: ['**/remote/**', '**/renderer/**'], message: 'electron/ hosts agent/; it does not import remote/ or renderer/.' },
  ]),
  layer(['renderer/**/*.ts', 'renderer/**/*.tsx'], [
    { group: ['**/agent/**', '**/remote/**', '**/electron/**'], message: 'renderer/ talks only to the preload bridge; it imports protocol/ types and its own code.' },
    { group: node, message: 'renderer/ runs in a sandboxed page: no Node modules.' },
  ]),
);
