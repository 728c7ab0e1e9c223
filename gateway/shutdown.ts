import type { Logger } from 'pino';

/** Something that emits process signals; `process` in production, an emitter in tests. */
export interface SignalSource {
  on(signal: 'SIGTERM' | 'SIGINT', listener: () => void): unknown;
}

export interface ShutdownOptions {
  signals: SignalSource;
  close: () => Promise<void>;
  logger: Logger;
  /** Called with the exit status once closing ended; `process.exit` in production. */
  exit: (status: number) => void;
  /** Closing that takes longer than this ends the process anyway (default 30 s). */
  graceMs?: number;
}

/**
 * On SIGTERM or SIGINT: stop accepting, let requests in flight finish, close the store, exit 0.
 * A second signal, or a close that outlives the grace period, exits 1 at once.
 */
export function handleShutdownSignals(options: ShutdownOptions): void {
  const { logger, exit } = options;
  const graceMs = options.graceMs ?? 30_000;
  let stopping = false;

  const onSignal = (signal: string) => () => {
    if (stopping) {
      logger.warn(`${signal} received again while stopping; exiting now`);
      exit(1);
      return;
    }
    stopping = true;
    logger.info(`${signal} received: finishing requests in flight, then stopping`);

    const timer = setTimeout(() => {
      logger.error(`stopping took longer than ${graceMs} ms; exiting with requests unfinished`);
      exit(1);
    }, graceMs);
    timer.unref();

    options.close().then(
      () => {
        clearTimeout(timer);
        exit(0);
      },
      (error: unknown) => {
        clearTimeout(timer);
        logger.error({ err: error }, 'stopping failed');
        exit(1);
      },
    );
  };

  options.signals.on('SIGTERM', onSignal('SIGTERM'));
  options.signals.on('SIGINT', onSignal('SIGINT'));
}
