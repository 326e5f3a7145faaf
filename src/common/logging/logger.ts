import type { LoggerService } from '@nestjs/common';
import { pino, type Logger, type DestinationStream } from 'pino';
import { redactSecrets } from './redact.js';
import type { LogLevel } from '../../app/app.config.js';

/** Structured JSON logs; request lines carry their request id (see requestContextMiddleware). */
export function createRootLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'rmi-identity-backend' },
      timestamp: pino.stdTimeFunctions.isoTime,
      messageKey: 'msg',
      // Errors are serialised (and stripped of query parameters) by redactSecrets, which pino runs first.
      serializers: { err: (value: unknown) => value },
      formatters: {
        level: (label) => ({ level: label }),
        log: (record) => redactSecrets(record) as Record<string, unknown>,
      },
    },
    destination,
  );
}

/** Nest's start-up chatter (a line per module and per route): debug, so a start says only what matters. */
const BOOTSTRAP_CONTEXTS = new Set([
  'NestFactory',
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestApplication',
]);

/** Routes Nest's own logging (bootstrap, exceptions) into the same pino stream. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string) {
    this.write(context && BOOTSTRAP_CONTEXTS.has(context) ? 'debug' : 'info', message, context);
  }
  error(message: unknown, traceOrContext?: string, context?: string) {
    const stack = context ? traceOrContext : undefined;
    this.write('error', message, context ?? traceOrContext, stack);
  }
  warn(message: unknown, context?: string) {
    this.write('warn', message, context);
  }
  debug(message: unknown, context?: string) {
    this.write('debug', message, context);
  }
  verbose(message: unknown, context?: string) {
    this.write('trace', message, context);
  }
  fatal(message: unknown, context?: string) {
    this.write('fatal', message, context);
  }

  private write(
    level: 'info' | 'error' | 'warn' | 'debug' | 'trace' | 'fatal',
    message: unknown,
    context?: string,
    stack?: string,
  ) {
    const fields: Record<string, unknown> = { context };
    if (stack) fields.stack = stack;
    if (message instanceof Error) this.logger[level]({ ...fields, err: message }, message.message);
    else if (typeof message === 'object' && message !== null) this.logger[level]({ ...fields, ...message });
    else this.logger[level](fields, String(message));
  }
}
