/**
 * The one place where failures become what the user sees: a single line on stderr and an
 * exit code (2 for usage mistakes, 1 for everything else). No stack traces reach the
 * user; set LEDGER_DEBUG=1 to see one.
 */
import { CommanderError } from 'commander';
import { KeyFileError } from '../crypto/index.js';
import { StoreError } from '../store/errors.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A failure a command reports deliberately, with its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILURE,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export function usageError(message: string): CliError {
  return new CliError(message, EXIT_USAGE);
}

export interface FormattedError {
  /** One line, without the trailing newline; empty when nothing should be printed. */
  readonly message: string;
  readonly exitCode: number;
}

/** Commander codes for help or version output, which it has already printed. */
const HELP_CODES = new Set(['commander.helpDisplayed', 'commander.help', 'commander.version']);

export function formatCliError(error: unknown): FormattedError {
  if (error instanceof CommanderError) {
    // Help was printed. A command group given no subcommand prints its help as an error.
    if (HELP_CODES.has(error.code)) return { message: '', exitCode: error.exitCode === 0 ? EXIT_OK : EXIT_USAGE };
    // Commander prefixes its own messages with "error: "; ours adds that back uniformly.
    const text = error.message.replace(/^error:\s*/, '');
    return { message: `error: ${oneLine(text)}`, exitCode: EXIT_USAGE };
  }
  if (error instanceof CliError) return { message: `error: ${oneLine(error.message)}`, exitCode: error.exitCode };
  if (error instanceof KeyFileError || error instanceof StoreError) {
    return { message: `error: ${oneLine(error.message)}`, exitCode: EXIT_FAILURE };
  }
  const errno = error as NodeJS.ErrnoException;
  if (error instanceof Error && typeof errno.code === 'string' && typeof errno.path === 'string') {
    return { message: `error: ${errno.path}: ${describeErrno(errno.code)}`, exitCode: EXIT_FAILURE };
  }
  const text = error instanceof Error ? error.message : String(error);
  return { message: `error: internal error: ${oneLine(text)}`, exitCode: EXIT_FAILURE };
}

function describeErrno(code: string): string {
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EEXIST':
      return 'already exists';
    case 'ENOTDIR':
      return 'not a directory';
    case 'EISDIR':
      return 'is a directory';
    case 'ENOSPC':
      return 'no space left on device';
    default:
      return code;
  }
}

function oneLine(text: string): string {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .join(' ');
}
