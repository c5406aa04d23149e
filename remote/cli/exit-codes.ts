/** Exit codes of the server CLI (DESIGN.md, "What a server-side user sees"). */
export const ExitCode = {
  ok: 0,
  usage: 1,
  noLaptop: 2,
  denied: 3,
  approvalTimeout: 4,
  unknownProvider: 5,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Control API error code → exit code. */
export function exitCodeFor(code: string): ExitCode {
  switch (code) {
    case 'no-laptop':
      return ExitCode.noLaptop;
    case 'denied':
      return ExitCode.denied;
    case 'approval-timeout':
      return ExitCode.approvalTimeout;
    case 'unknown-provider':
      return ExitCode.unknownProvider;
    default:
      return ExitCode.usage;
  }
}
