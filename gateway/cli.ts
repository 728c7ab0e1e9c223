#!/usr/bin/env node
import { tokenCommand, UsageError } from './auth/token-command.js';
import { ConfigError } from './config-error.js';

const USAGE = `usage:
  second-gateway serve
      start the gateway (configured by environment variables, see .env.example)
  second-gateway token --workspace <id> --role <owner|admin|builder|viewer|worker>
                       [--sub <subject>] [--app <appId>] [--ttl <90s|15m|12h|7d>]
      print a signed token; workers need --app. The key is GATEWAY_JWT_SECRET, or the key file
      in DATA_DIR that the server uses. Default lifetime: 12h for users, 1h for workers.
`;

async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;

  if (command === 'serve') {
    await import('./main.js');
    return -1;
  }

  if (command === 'token') {
    process.stdout.write(`${await tokenCommand(rest, process.env)}\n`);
    return 0;
  }

  process.stderr.write(USAGE);
  return command === undefined || command === 'help' || command === '--help' ? 0 : 2;
}

try {
  const status = await run(process.argv.slice(2));
  if (status >= 0) process.exitCode = status;
} catch (error) {
  if (
    error instanceof UsageError ||
    (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
  ) {
    process.stderr.write(`second-gateway: ${(error as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
  } else if (error instanceof ConfigError) {
    process.stderr.write(`second-gateway: configuration error: ${error.message}\n`);
    process.exitCode = 2;
  } else {
    throw error;
  }
}
