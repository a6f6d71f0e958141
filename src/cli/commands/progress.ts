/**
 * Progress of a long count (blocks verified) on stderr, so stdout keeps only the result:
 * - on a terminal, one bar redrawn in place (at most every 100 ms), erased when done; only
 *   for runs of at least `minTotal` items (a short run is over before a bar helps);
 * - elsewhere (a log file, a CI job), a plain line every `every` items, since carriage
 *   returns make a mess of logs.
 */
import { performance } from 'node:perf_hooks';
import type { CliIo } from '../io.js';

export interface Progress {
  /** `done` items of the total are finished. */
  update(done: number): void;
  /** Erases the bar (terminal); nothing otherwise. */
  finish(): void;
}

export interface ProgressOptions {
  /** What is counted, plural: "blocks". */
  readonly unit: string;
  /** What happened to them, for the plain lines: "verified" ("verified 2000/9000 blocks"). */
  readonly label: string;
  /** Plain mode: a line every this many items. Default 1000. */
  readonly every?: number;
  /** Terminal mode: no bar for fewer items than this. Default 100. */
  readonly minTotal?: number;
  /** Terminal mode: the bar's width in characters. Default 30. */
  readonly width?: number;
}

const REDRAW_MS = 100;

export function progress(io: CliIo, total: number, options: ProgressOptions): Progress {
  const { unit } = options;
  if (io.stderrIsTTY !== true) {
    const every = Math.max(1, options.every ?? 1000);
    let next = every;
    return {
      update(done) {
        if (done < next) return;
        io.stderr(`${options.label} ${done}/${total} ${unit}\n`);
        next = (Math.floor(done / every) + 1) * every;
      },
      finish() {},
    };
  }
  if (total < (options.minTotal ?? 100)) return { update() {}, finish() {} };
  const width = options.width ?? 30;
  const started = performance.now();
  let lastDraw = Number.NEGATIVE_INFINITY;
  let drawn = false;
  const draw = (done: number) => {
    const now = performance.now();
    const filled = Math.round((width * done) / total);
    const rate = done / Math.max((now - started) / 1000, 1e-3);
    const percent = Math.floor((100 * done) / total);
    io.stderr(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(percent).padStart(3)}% ${done}/${total} ${unit}, ${Math.round(rate)}/s `);
    lastDraw = now;
    drawn = true;
  };
  return {
    update(done) {
      if (done >= total || performance.now() - lastDraw >= REDRAW_MS) draw(done);
    },
    finish() {
      // Erase the line: what follows on stdout/stderr starts at column 0 of a clean line.
      if (drawn) io.stderr('\r\u001b[2K');
    },
  };
}
