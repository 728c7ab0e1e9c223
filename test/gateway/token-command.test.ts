import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { tokenCommand, UsageError } from '../../gateway/auth/token-command.js';
import { createTokenVerifier } from '../../gateway/auth/token-verifier.js';
import { loadConfig } from '../../gateway/config.js';

let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'gateway-cli-'));
});

afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const now = () => Math.floor(Date.now() / 1000);

test('a user token is signed with the key file the server reads, valid for 12 h by default', async () => {
  const token = await tokenCommand(['--workspace', 'acme', '--role', 'owner', '--sub', 'ada'], {
    DATA_DIR: dataDir,
  });

  const config = await loadConfig({ DATA_DIR: dataDir });
  const principal = await createTokenVerifier({ secret: config.jwtSecret }).verify(token);
  expect(principal).toMatchObject({ kind: 'user', sub: 'ada', workspaceId: 'acme', role: 'owner' });
  expect(principal.exp - now()).toBeGreaterThan(12 * 3600 - 10);
  expect(principal.exp - now()).toBeLessThanOrEqual(12 * 3600);
});

test('a worker token carries its app and lasts 1 h by default; --ttl overrides', async () => {
  const env = { GATEWAY_JWT_SECRET: 's'.repeat(40), DATA_DIR: dataDir };
  const worker = decodeJwt(
    await tokenCommand(['--workspace', 'acme', '--role', 'worker', '--app', 'app1'], env),
  );
  expect(worker).toMatchObject({ ws: 'acme', role: 'worker', app: 'app1' });
  expect(worker.exp! - worker.iat!).toBe(3600);

  const short = decodeJwt(
    await tokenCommand(['--workspace', 'acme', '--role', 'viewer', '--ttl', '15m'], env),
  );
  expect(short.exp! - short.iat!).toBe(900);
});

test.each([
  [['--role', 'owner']],
  [['--workspace', '../etc', '--role', 'owner']],
  [['--workspace', 'acme', '--role', 'root']],
  [['--workspace', 'acme', '--role', 'worker']],
  [['--workspace', 'acme', '--role', 'owner', '--app', 'app1']],
  [['--workspace', 'acme', '--role', 'owner', '--ttl', 'forever']],
  [['--workspace', 'acme', '--role', 'owner', '--sub', 'two words']],
])('bad arguments %p are refused with a usage error', async (args) => {
  await expect(tokenCommand(args, { DATA_DIR: dataDir })).rejects.toBeInstanceOf(UsageError);
});

test('an unknown option is refused', async () => {
  await expect(
    tokenCommand(['--workspace', 'acme', '--role', 'owner', '--admin'], { DATA_DIR: dataDir }),
  ).rejects.toMatchObject({
    code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION',
  });
});
