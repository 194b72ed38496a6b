/**
 * Log format of the long-running commands: JSON lines (pino) by default — what compose, systemd and
 * log shippers read — and a human format (pino-pretty) when stdout is a terminal.
 * `--log-format json|pretty` or SIEVE_LOG_FORMAT overrides. The CLI resolves the format once and
 * puts it in SIEVE_LOG_FORMAT, so the loader thread and receiver workers (whose stdout is not the
 * terminal itself) log the same way.
 */
import { isatty } from 'node:tty';
import pino from 'pino';
import pretty from 'pino-pretty';

export type LogFormat = 'json' | 'pretty';

export function resolveLogFormat(flag: string | undefined, env: NodeJS.ProcessEnv, stdoutIsTTY: boolean): LogFormat {
  const chosen = flag ?? env.SIEVE_LOG_FORMAT;
  if (chosen === undefined || chosen === '') return stdoutIsTTY ? 'pretty' : 'json';
  if (chosen === 'json' || chosen === 'pretty') return chosen;
  const from = flag !== undefined ? '--log-format' : 'SIEVE_LOG_FORMAT';
  throw new Error(`${from} must be json or pretty, got ${JSON.stringify(chosen)}`);
}

/** Resolves the format for this process and the threads and workers it starts. */
export function useLogFormat(flag: string | undefined): LogFormat {
  const format = resolveLogFormat(flag, process.env, process.stdout.isTTY === true);
  process.env.SIEVE_LOG_FORMAT = format;
  return format;
}

export function logFormat(): LogFormat {
  return resolveLogFormat(undefined, process.env, process.stdout.isTTY === true);
}

/** "receiver", "loader", "loader · kafka-exporter": who logged, without the JSON plumbing. */
function origin(log: Record<string, unknown>): string {
  const service = typeof log.service === 'string' ? log.service.replace(/^sieve-/, '') : '';
  const worker = log.worker !== undefined ? ` #${String(log.worker)}` : '';
  const component = typeof log.component === 'string' ? ` · ${log.component}` : '';
  return `${service}${worker}${component}`;
}

const NOT_FIELDS = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'service', 'worker', 'component']);

function fieldValue(v: unknown): string {
  if (v instanceof Object && 'message' in v && typeof v.message === 'string') return fieldValue(v.message);
  if (Array.isArray(v)) return v.map(fieldValue).join(',');
  const s = typeof v === 'string' ? v : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
  return /[\s"=]/.test(s) || s === '' ? JSON.stringify(s) : s;
}

/** One line per record: `origin: message  key=value …` (logfmt-style fields, not JSON). */
export function prettyLine(log: Record<string, unknown>, messageKey = 'msg'): string {
  const fields = Object.entries(log)
    .filter(([k, v]) => !NOT_FIELDS.has(k) && k !== messageKey && v !== undefined)
    .map(([k, v]) => `${k}=${fieldValue(v)}`);
  const message = `${origin(log)}: ${String(log[messageKey] ?? '')}`;
  return fields.length > 0 ? `${message}  ${fields.join(' ')}` : message;
}

export function createLogger(options: pino.LoggerOptions, format: LogFormat = logFormat()): pino.Logger {
  if (format === 'json') return pino(options);
  const stream = pretty({
    colorize: isatty(1) && !process.env.NO_COLOR,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname',
    messageFormat: (log, messageKey) => prettyLine(log, messageKey),
    hideObject: true,
    sync: true,
  });
  return pino(options, stream);
}
