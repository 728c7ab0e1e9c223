import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import type { DeploymentMode } from '../core/model.js';
import { ConfigError } from './config-error.js';
import { readOrCreateKeyFile } from './key-files.js';

export { ConfigError };

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** The gateway's configuration, validated once at start-up and frozen. */
export interface GatewayConfig {
  readonly port: number;
  readonly host: string;
  /** Absolute. */
  readonly dataDir: string;
  readonly deploymentMode: DeploymentMode;
  readonly mongodbUrl: string | null;
  /** The HS256 key of every gateway token. */
  readonly jwtSecret: Uint8Array;
  /** The 32-byte key of the local secret store. */
  readonly secretKey: Buffer;
  /** Keys the local secret store used before a rotation: still read, never written with. */
  readonly previousSecretKeys: readonly Buffer[];
  readonly workosApiKey: string | null;
  readonly catalogEnabled: boolean;
  readonly syncMaxAttempts: number;
  readonly syncRetryBaseMs: number;
  /** How long a sync lease outlives the process holding it: the wait after a crash. */
  readonly syncLeaseTtlMs: number;
  readonly remoteTimeoutMs: number;
  readonly logLevel: LogLevel;
}

/** Environment variables as read from `process.env`. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** File names, inside DATA_DIR, of the keys generated when their variable is unset. */
export const JWT_SECRET_FILE = 'keys/gateway-jwt-secret';
export const SECRET_KEY_FILE = 'keys/secret-key';

const MIN_JWT_SECRET_LENGTH = 32;

function integer(min: number, max: number) {
  return z
    .string()
    .regex(/^[0-9]+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
}

const flag = z
  .string()
  .transform((value) => value.toLowerCase())
  .pipe(z.enum(['true', 'false', '1', '0'], 'must be true or false'))
  .transform((value) => value === 'true' || value === '1');

/**
 * One schema per variable, so that an error names exactly one of them. Secrets are checked for
 * shape only and never echoed back in a message.
 */
const VARIABLES = {
  PORT: integer(0, 65_535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATA_DIR: z.string().min(1).default('./data'),
  DEPLOYMENT_MODE: z
    .enum(['local', 'onprem', 'managed'], 'must be local, onprem or managed')
    .default('local'),
  MONGODB_URL: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\/\S+$/, 'must be a mongodb:// or mongodb+srv:// URL')
    .optional(),
  GATEWAY_JWT_SECRET: z
    .string()
    .min(MIN_JWT_SECRET_LENGTH, `must be at least ${MIN_JWT_SECRET_LENGTH} characters`)
    .optional(),
  SECRET_KEY: z
    .string()
    .refine((value) => decodeSecretKey(value) !== null, 'must be the base64 of exactly 32 bytes')
    .optional(),
  SECRET_KEY_PREVIOUS: z
    .string()
    .refine(
      (value) => value.split(',').every((key) => decodeSecretKey(key.trim()) !== null),
      'must be a comma-separated list of base64 keys of exactly 32 bytes each',
    )
    .optional(),
  WORKOS_API_KEY: z.string().min(1).optional(),
  CATALOG_ENABLED: flag.default(false),
  SYNC_MAX_ATTEMPTS: integer(1, 100).default(6),
  SYNC_RETRY_BASE_MS: integer(1, 86_400_000).default(5000),
  SYNC_LEASE_TTL_MS: integer(1000, 3_600_000).default(120_000),
  REMOTE_TIMEOUT_MS: integer(1, 600_000).default(10_000),
  LOG_LEVEL: z
    .enum(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      'must be one of fatal, error, warn, info, debug, trace, silent',
    )
    .default('info'),
} as const;

type Variable = keyof typeof VARIABLES;

/** The name of every variable the gateway reads. */
export const CONFIG_VARIABLES: readonly string[] = Object.freeze(Object.keys(VARIABLES));
type Parsed = { [K in Variable]: z.output<(typeof VARIABLES)[K]> };

function decodeSecretKey(value: string): Buffer | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return null;
  const bytes = Buffer.from(value, 'base64');
  return bytes.length === 32 ? bytes : null;
}

function parseVariable<K extends Variable>(name: K, env: Environment): Parsed[K] {
  // An empty value (`PORT=` in an env file) means "unset", as most tools read it.
  const raw = env[name] === '' ? undefined : env[name];
  const result = VARIABLES[name].safeParse(raw);
  if (!result.success) {
    const problem = result.error.issues[0]?.message ?? 'is not valid';
    throw new ConfigError(name, problem === 'Invalid input' ? 'is not valid' : problem);
  }
  return result.data as Parsed[K];
}

/** The settings read from the environment alone, before any key file is touched. */
export type EnvironmentSettings = Omit<GatewayConfig, 'jwtSecret' | 'secretKey'> & {
  readonly jwtSecret: string | null;
  readonly secretKey: Buffer | null;
};

/** Validates every variable; throws `ConfigError` naming the first bad one. Touches no file. */
export function parseEnvironment(env: Environment, cwd = process.cwd()): EnvironmentSettings {
  const values = {} as Parsed;
  for (const name of Object.keys(VARIABLES) as Variable[]) {
    (values as Record<Variable, unknown>)[name] = parseVariable(name, env);
  }

  const dataDir = isAbsolute(values.DATA_DIR) ? values.DATA_DIR : resolve(cwd, values.DATA_DIR);

  return {
    port: values.PORT,
    host: values.HOST,
    dataDir,
    deploymentMode: values.DEPLOYMENT_MODE,
    mongodbUrl: values.MONGODB_URL ?? null,
    jwtSecret: values.GATEWAY_JWT_SECRET ?? null,
    secretKey: values.SECRET_KEY === undefined ? null : decodeSecretKey(values.SECRET_KEY),
    previousSecretKeys: Object.freeze(
      (values.SECRET_KEY_PREVIOUS?.split(',') ?? []).map((key) => decodeSecretKey(key.trim())!),
    ),
    workosApiKey: values.WORKOS_API_KEY ?? null,
    catalogEnabled: values.CATALOG_ENABLED,
    syncMaxAttempts: values.SYNC_MAX_ATTEMPTS,
    syncRetryBaseMs: values.SYNC_RETRY_BASE_MS,
    syncLeaseTtlMs: values.SYNC_LEASE_TTL_MS,
    remoteTimeoutMs: values.REMOTE_TIMEOUT_MS,
    logLevel: values.LOG_LEVEL,
  };
}

/** The JWT key: `GATEWAY_JWT_SECRET`, else a random key kept in DATA_DIR (mode 0600). */
export async function resolveJwtSecret(settings: {
  dataDir: string;
  jwtSecret: string | null;
}): Promise<Uint8Array> {
  if (settings.jwtSecret !== null) return new TextEncoder().encode(settings.jwtSecret);

  const key = await readOrCreateKeyFile(
    resolve(settings.dataDir, JWT_SECRET_FILE),
    'GATEWAY_JWT_SECRET',
  );
  return new Uint8Array(key);
}

/** The secret-store key: `SECRET_KEY`, else a random key kept in DATA_DIR (mode 0600). */
export async function resolveSecretKey(settings: {
  dataDir: string;
  secretKey: Buffer | null;
}): Promise<Buffer> {
  if (settings.secretKey !== null) return settings.secretKey;

  return readOrCreateKeyFile(resolve(settings.dataDir, SECRET_KEY_FILE), 'SECRET_KEY');
}

/**
 * The whole configuration: the environment validated, then the keys that were not given read
 * from DATA_DIR or generated there once. The result is frozen.
 */
export async function loadConfig(
  env: Environment = process.env,
  cwd?: string,
): Promise<GatewayConfig> {
  const settings = parseEnvironment(env, cwd);
  const jwtSecret = await resolveJwtSecret(settings);
  const secretKey = await resolveSecretKey(settings);
  return Object.freeze({ ...settings, jwtSecret, secretKey });
}
