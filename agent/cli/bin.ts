// The laptop commands alone, for development and tests; the real bin is build/entries/tether.ts.
import { runAgentCli } from './main.js';

process.exitCode = await runAgentCli(process.argv.slice(2));
