import { ConfigError } from './config-error.js';
import { handleShutdownSignals } from './shutdown.js';
import { startGateway } from './start-gateway.js';
import { createLogger } from './logger.js';

/** The server process: start, then stop cleanly on SIGTERM or SIGINT. */
async function main(): Promise<void> {
  try {
    const { gateway } = await startGateway();
    handleShutdownSignals({
      signals: process,
      close: () => gateway.close(),
      logger: gateway.context.logger,
      exit: (status) => process.exit(status),
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`second-gateway: configuration error: ${error.message}\n`);
      process.exit(2);
    }
    createLogger().fatal({ err: error }, 'the gateway could not start');
    // Give the asynchronous log destination a moment to flush before the process ends.
    setTimeout(() => process.exit(1), 100);
  }
}

await main();
