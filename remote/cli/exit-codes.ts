// The server CLI's exit codes are part of the refusal table (protocol/refusals.ts, zod-free).
export { ExitCode, exitCodeFor } from '../../protocol/refusals.js';
