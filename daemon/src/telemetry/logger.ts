/**
 * Logging: pino, JSON lines with `-z json`, readable lines with `-z console` (flagd's default).
 * pino-pretty is not a dependency; the console format is a small synchronous formatter instead.
 */
import pino, { type Logger } from 'pino';
import type { LogFormat } from '../config/daemon-config.js';

export type { Logger };

export interface LoggerOptions {
  format: LogFormat;
  debug?: boolean;
  /** Where lines go; stdout by default. Tests pass a stream to read them. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const level = options.debug ? 'debug' : 'info';
  const dest = options.destination ?? process.stdout;
  if (options.format === 'json') {
    return pino({ level, base: { component: 'vexil' }, timestamp: pino.stdTimeFunctions.isoTime }, dest as pino.DestinationStream);
  }
  const stream = {
    write(line: string) {
      try {
        const o = JSON.parse(line) as Record<string, unknown>;
        const { level: lv, time, msg, component, pid, hostname, ...rest } = o;
        void component; void pid; void hostname;
        const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
        dest.write(`${String(time)}\t${pino.levels.labels[lv as number] ?? lv}\t${String(msg ?? '')}${extra}\n`);
      } catch {
        dest.write(line);
      }
    },
  };
  return pino({ level, timestamp: pino.stdTimeFunctions.isoTime }, stream);
}
