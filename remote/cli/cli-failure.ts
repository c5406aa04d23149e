import { CliError } from './control-client.js';
import { ExitCode } from './exit-codes.js';

/** node:util parseArgs' errors, cut to their first sentence (the rest explains `--` for positionals). */
function parseArgsMessage(command: string, err: TypeError): string {
  const unknown = /Unknown option '([^']+)'/.exec(err.message);
  if (unknown) return `${command}: unknown option ${unknown[1]} (see \`tether ${command} --help\`)`;
  return `${command}: ${err.message.split(/\.(?: |$)/)[0]} (see \`tether ${command} --help\`)`;
}

/**
 * A command's failure as the one line on stderr and the exit code it maps to; anything else
 * (a bug) is thrown on, so it still shows its stack.
 */
export function reportCliFailure(command: string | undefined, err: unknown): number {
  if (err instanceof CliError) {
    process.stderr.write(`tether: ${err.message}\n`);
    return err.exitCode;
  }
  if (err instanceof TypeError && (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`tether ${parseArgsMessage(command ?? '', err)}\n`);
    return ExitCode.usage;
  }
  throw err;
}
