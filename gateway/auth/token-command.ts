import { parseArgs } from 'node:util';
import { isSafeId } from '../../core/ids.js';
import { parseEnvironment, resolveJwtSecret, type Environment } from '../config.js';
import { mintToken, parseTtl } from './mint-token.js';
import { isUserRole } from './principal.js';

/** Thrown for a wrong command line; printed with the usage. */
export class UsageError extends Error {}

/** Mints a token from command-line arguments; answers the token. */
export async function tokenCommand(args: string[], env: Environment): Promise<string> {
  const { values } = parseArgs({
    args,
    options: {
      workspace: { type: 'string' },
      role: { type: 'string' },
      sub: { type: 'string' },
      app: { type: 'string' },
      ttl: { type: 'string' },
    },
    strict: true,
  });

  if (!isSafeId(values.workspace))
    throw new UsageError('--workspace must be a workspace id (a-z, 0-9, _ and -)');
  const role = values.role;
  if (role !== 'worker' && !isUserRole(role))
    throw new UsageError('--role must be owner, admin, builder, viewer or worker');
  if (role === 'worker' && !isSafeId(values.app))
    throw new UsageError('a worker token needs --app <appId>');
  if (role !== 'worker' && values.app !== undefined)
    throw new UsageError('--app is for worker tokens only');
  if (values.sub !== undefined && !/^[\x21-\x7e]{1,200}$/.test(values.sub)) {
    throw new UsageError('--sub must be 1 to 200 printable characters without spaces');
  }

  let ttlSeconds: number | undefined;
  if (values.ttl !== undefined) {
    const parsed = parseTtl(values.ttl);
    if (parsed === null) throw new UsageError('--ttl must look like 90s, 15m, 12h or 7d');
    ttlSeconds = parsed;
  }

  const settings = parseEnvironment(env);
  const secret = await resolveJwtSecret(settings);
  return mintToken({
    secret,
    workspaceId: values.workspace,
    role,
    sub: values.sub,
    appId: role === 'worker' ? values.app : undefined,
    ttlSeconds,
  });
}
