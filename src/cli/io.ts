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
  /** Environment variables the command may read (default: none). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Whether stderr is a terminal (progress bars are drawn only there). Default false. */
  readonly stderrIsTTY?: boolean;
  /**
   * Aborted when the user asks a long-running command (ledgerctl watch) to stop: Ctrl-C.
   * Commands that run until stopped end cleanly on it; absent, they run until they fail.
   */
  readonly interrupt?: AbortSignal;
}

export function processIo(): CliIo {
  let interrupt: AbortController | undefined;
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    cwd: process.cwd(),
    env: process.env,
    stderrIsTTY: process.stderr.isTTY === true,
    // Ctrl-C is caught only once a command asks for this signal: every other command
    // keeps the default (the process dies at once).
    get interrupt(): AbortSignal {
      if (interrupt === undefined) {
        const controller = new AbortController();
        interrupt = controller;
        const stop = () => controller.abort();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      }
      return interrupt.signal;
    },
  };
}

/** A path from the command line, made absolute against the io's working directory. */
export function cliPath(io: CliIo, path: string): string {
  return resolve(io.cwd, path);
}
