/**
 * The `warren` command's exit codes, the same for every subcommand so scripts and CI can branch on
 * them.
 */
export const ExitCode = {
  /** Done, nothing to report. */
  OK: 0,
  /** The command worked and found something: breaking changes, dead routes (`--strict`), topology drift. */
  FINDINGS: 1,
  /** A usage or configuration mistake, or a broker that cannot be reached: the message says what to fix. */
  USAGE: 2,
  /** A bug in warren itself: the stack trace is printed for the report. */
  INTERNAL: 70,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
