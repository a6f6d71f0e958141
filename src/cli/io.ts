import { resolve } from 'node:path';

/**
 * Where a command writes and what it resolves relative paths against. Commands take this
 * instead of touching `process`, so tests run them in-process and read their output.
 */
export interface CliIo {
  /** Writes text to standard output (the caller adds newlines). */
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly cwd: string;
}

export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    cwd: process.cwd(),
  };
}

/** A path from the command line, made absolute against the io's working directory. */
export function cliPath(io: CliIo, path: string): string {
  return resolve(io.cwd, path);
}
