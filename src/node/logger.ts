/**
 * Structured logs (pino): JSON lines on stdout, one object per event, with a level.
 * Library code takes a Logger; only the entry point decides where lines go.
 */
import { pino } from 'pino';
import type { LogLevel } from './config.js';

export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

export function createLogger(level: LogLevel, bindings: Record<string, unknown> = {}): Logger {
  return pino({ level, base: bindings, timestamp: pino.stdTimeFunctions.isoTime });
}

/** A logger that drops everything (tests, library defaults). */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};
