import { reportCliFailure } from './cli-failure.js';
import { tokenCommand } from './token-command.js';

// The entry of `tether token` alone: build/bundle.mjs puts it at the head of the server bundle, so
// a tool's key helper (Claude Code runs it every few minutes) compiles only this, not the daemon.
tokenCommand(process.argv.slice(3)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.exitCode = reportCliFailure('token', err);
  },
);
