import { redactText, WarrenError } from '@warren/core';
import { ExitCode } from './exit-codes';

/** Every URL in a text with its password replaced by `***`. */
export function redactUrls(text: string): string {
  return redactText(text, []);
}

/**
 * True for Warren's errors, also those thrown by the service's own copy of @warren/core (another
 * class object with the same name when the CLI is installed globally).
 */
function isWarrenError(error: unknown): error is Error {
  if (error instanceof WarrenError) return true;
  for (let proto = error === null || typeof error !== 'object' ? null : Object.getPrototypeOf(error); proto; proto = Object.getPrototypeOf(proto)) {
    if (proto.constructor?.name === 'WarrenError') return true;
  }
  return false;
}

/**
 * Runs a command's action and turns its outcome into an exit code: Warren errors (user mistakes,
 * unreachable brokers) print their message alone; anything else is a bug and prints its stack.
 */
export async function runCommand(action: () => ExitCode | Promise<ExitCode>): Promise<ExitCode> {
  try {
    return await action();
  } catch (error) {
    if (isWarrenError(error)) {
      process.stderr.write(`warren: ${redactUrls(error.message)}\n`);
      return ExitCode.USAGE;
    }
    const text = error instanceof Error ? error.stack ?? error.message : String(error);
    process.stderr.write(`warren: internal error, please report it:\n${redactUrls(text)}\n`);
    return ExitCode.INTERNAL;
  }
}
