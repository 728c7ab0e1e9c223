import { pino, type DestinationStream, type Logger } from 'pino';
import { scrubLogValue, scrubSecrets } from './log-scrubber.js';

/**
 * Paths masked by pino before a line is written: headers that carry credentials, and any field
 * named like a credential at the first three levels.
 */
export const REDACTED_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  ...['token', 'password', 'secret', 'authorization', 'cookie', 'jwtSecret', 'secretKey'].flatMap(
    (name) => [name, `*.${name}`, `*.*.${name}`],
  ),
];

export interface LoggerOptions {
  level?: string;
  /** Where lines go; standard output when absent. */
  destination?: DestinationStream;
}

interface RequestLike {
  method?: string;
  url?: string;
}

interface ReplyLike {
  statusCode?: number;
}

/**
 * The gateway's pino logger: JSON lines; credentials masked by path, then scrubbed by shape
 * (log-scrubber.ts) in the message, in every logged field and in serialized errors. Requests
 * are written as method and URL only, never their headers.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'second-gateway' },
      redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
      hooks: {
        logMethod(args, method) {
          const scrubbed = args.map((arg) => (typeof arg === 'string' ? scrubSecrets(arg) : arg));
          method.apply(this, scrubbed as Parameters<typeof method>);
        },
      },
      formatters: {
        log: (object) => scrubLogValue(object) as Record<string, unknown>,
      },
      serializers: {
        err: (error: unknown) => scrubLogValue(error),
        error: (error: unknown) => scrubLogValue(error),
        req: (request: RequestLike) => ({
          method: request.method,
          url: request.url === undefined ? undefined : scrubSecrets(request.url),
        }),
        res: (reply: ReplyLike) => ({ statusCode: reply.statusCode }),
      },
    },
    options.destination ?? pino.destination({ sync: false }),
  );
}

/** A logger that writes nothing: the default wherever a logger is optional. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
