import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../gateway/config-error.js';
import {
  CONFIG_VARIABLES,
  JWT_SECRET_FILE,
  loadConfig,
  parseEnvironment,
  SECRET_KEY_FILE,
} from '../../gateway/config.js';

let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'gateway-config-'));
});

afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

test('defaults apply when nothing is set', () => {
  const settings = parseEnvironment({}, '/srv');
  expect(settings).toMatchObject({
    port: 8080,
    host: '127.0.0.1',
    dataDir: '/srv/data',
    deploymentMode: 'local',
    mongodbUrl: null,
    jwtSecret: null,
    secretKey: null,
    previousSecretKeys: [],
    workosApiKey: null,
    catalogEnabled: false,
    syncMaxAttempts: 6,
    syncRetryBaseMs: 5000,
    remoteTimeoutMs: 10_000,
    logLevel: 'info',
  });
});

test('set values are parsed and an empty value counts as unset', () => {
  const key = randomBytes(32).toString('base64');
  const settings = parseEnvironment({
    PORT: '9000',
    HOST: '0.0.0.0',
    DATA_DIR: '/var/lib/second',
    DEPLOYMENT_MODE: 'onprem',
    MONGODB_URL: 'mongodb://db:27017/second',
    GATEWAY_JWT_SECRET: 'x'.repeat(40),
    SECRET_KEY: key,
    WORKOS_API_KEY: 'sk_test_abc',
    CATALOG_ENABLED: 'true',
    SYNC_MAX_ATTEMPTS: '3',
    SYNC_RETRY_BASE_MS: '100',
    REMOTE_TIMEOUT_MS: '2500',
    LOG_LEVEL: 'debug',
    WORKOS_API_KEY_UNUSED: '',
  });
  expect(settings.port).toBe(9000);
  expect(settings.deploymentMode).toBe('onprem');
  expect(settings.secretKey?.equals(Buffer.from(key, 'base64'))).toBe(true);
  const previous = [randomBytes(32), randomBytes(32)];
  expect(
    parseEnvironment({
      SECRET_KEY_PREVIOUS: previous.map((k) => k.toString('base64')).join(', '),
    }).previousSecretKeys,
  ).toEqual(previous);
  expect(settings.catalogEnabled).toBe(true);
  expect(settings.remoteTimeoutMs).toBe(2500);
  expect(parseEnvironment({ PORT: '', MONGODB_URL: '' }).port).toBe(8080);
  expect(parseEnvironment({ MONGODB_URL: '' }).mongodbUrl).toBeNull();
});

test.each([
  ['PORT', 'eighty'],
  ['PORT', '70000'],
  ['PORT', '-1'],
  ['DEPLOYMENT_MODE', 'cloud'],
  ['MONGODB_URL', 'postgres://db/x'],
  ['GATEWAY_JWT_SECRET', 'short'],
  ['SECRET_KEY', 'not base64!'],
  ['SECRET_KEY', randomBytes(16).toString('base64')],
  ['SECRET_KEY_PREVIOUS', `${randomBytes(32).toString('base64')},short`],
  ['CATALOG_ENABLED', 'maybe'],
  ['SYNC_MAX_ATTEMPTS', '0'],
  ['SYNC_RETRY_BASE_MS', '1.5'],
  ['REMOTE_TIMEOUT_MS', 'soon'],
  ['LOG_LEVEL', 'loud'],
])('a bad %s (%s) stops the start with a message naming it', (variable, value) => {
  const error = configError(() => parseEnvironment({ [variable]: value }));
  expect(error.variable).toBe(variable);
  expect(error.message.startsWith(`${variable} `)).toBe(true);
});

test('a bad secret is never echoed in the message', () => {
  const error = configError(() => parseEnvironment({ GATEWAY_JWT_SECRET: 'hunter2-secret' }));
  expect(error.message).not.toContain('hunter2');
});

test('unset keys are generated into DATA_DIR with mode 0600 and reused', async () => {
  const first = await loadConfig({ DATA_DIR: dataDir });
  expect(Object.isFrozen(first)).toBe(true);
  expect(first.jwtSecret.length).toBe(32);
  expect(first.secretKey.length).toBe(32);

  for (const file of [JWT_SECRET_FILE, SECRET_KEY_FILE]) {
    expect((await stat(join(dataDir, file))).mode & 0o777).toBe(0o600);
  }
  expect((await stat(join(dataDir, 'keys'))).mode & 0o777).toBe(0o700);

  const second = await loadConfig({ DATA_DIR: dataDir });
  expect(Buffer.from(second.jwtSecret).equals(Buffer.from(first.jwtSecret))).toBe(true);
  expect(second.secretKey.equals(first.secretKey)).toBe(true);
  expect(Buffer.from(first.jwtSecret).equals(first.secretKey)).toBe(false);
});

test('given keys win and no key file is written', async () => {
  const key = randomBytes(32);
  const config = await loadConfig({
    DATA_DIR: dataDir,
    GATEWAY_JWT_SECRET: 'j'.repeat(32),
    SECRET_KEY: key.toString('base64'),
  });
  expect(Buffer.from(config.jwtSecret).toString()).toBe('j'.repeat(32));
  expect(config.secretKey.equals(key)).toBe(true);
  await expect(stat(join(dataDir, JWT_SECRET_FILE))).rejects.toThrow();
  await expect(stat(join(dataDir, SECRET_KEY_FILE))).rejects.toThrow();
});

test('a key file readable by others or not holding a key is refused, naming the variable', async () => {
  await loadConfig({ DATA_DIR: dataDir });
  const jwtFile = join(dataDir, JWT_SECRET_FILE);

  await chmod(jwtFile, 0o644);
  await expect(loadConfig({ DATA_DIR: dataDir })).rejects.toMatchObject({
    variable: 'GATEWAY_JWT_SECRET',
    message: expect.stringContaining('chmod 600'),
  });

  await chmod(jwtFile, 0o600);
  await writeFile(jwtFile, 'too short');
  await expect(loadConfig({ DATA_DIR: dataDir })).rejects.toMatchObject({
    variable: 'GATEWAY_JWT_SECRET',
  });

  const keyFile = join(dataDir, SECRET_KEY_FILE);
  expect((await readFile(keyFile, 'utf8')).length).toBeGreaterThan(0);
});

test('the README table and .env.example name every variable the gateway reads, and no other', async () => {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const readme = await readFile(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('### MongoDB'));
  const inTable = [...section.matchAll(/^\| `([A-Z_]+)`/gm)].map((match) => match[1]);
  const example = await readFile(join(root, '.env.example'), 'utf8');
  const inExample = [...example.matchAll(/^([A-Z_]+)=/gm)].map((match) => match[1]);

  expect([...inTable].sort()).toEqual([...CONFIG_VARIABLES].sort());
  expect([...inExample].sort()).toEqual([...CONFIG_VARIABLES].sort());
});
