import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ConfigError } from './config-error.js';

const KEY_BYTES = 32;

/**
 * Reads a 32-byte key kept in a file, or creates the file with a fresh random key. The file is
 * written with mode 0600 in a 0700 folder and created exclusively, so two processes starting at
 * once agree on one key. `variable` is the environment variable that would replace the file,
 * named in every error.
 */
export async function readOrCreateKeyFile(path: string, variable: string): Promise<Buffer> {
  const existing = await readKey(path, variable);
  if (existing !== null) return existing;

  await mkdir(dirname(path), { recursive: true, mode: 0o700 }).catch((cause: unknown) => {
    throw new ConfigError(
      variable,
      `is unset and ${dirname(path)} cannot be created: ${describe(cause)}`,
    );
  });

  const key = randomBytes(KEY_BYTES);
  try {
    const handle = await open(path, 'wx', 0o600);
    try {
      await handle.writeFile(key.toString('base64'));
    } finally {
      await handle.close();
    }
  } catch (cause) {
    // Another process created it between our read and our write: use theirs.
    if ((cause as NodeJS.ErrnoException).code === 'EEXIST') {
      const theirs = await readKey(path, variable);
      if (theirs !== null) return theirs;
    }
    throw new ConfigError(
      variable,
      `is unset and the key file ${path} cannot be written: ${describe(cause)}`,
    );
  }

  // The umask may have narrowed the mode further; never widen it, but make sure it is 0600.
  await chmod(path, 0o600);
  return key;
}

async function readKey(path: string, variable: string): Promise<Buffer | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ConfigError(
      variable,
      `is unset and the key file ${path} cannot be read: ${describe(cause)}`,
    );
  }

  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== KEY_BYTES) {
    throw new ConfigError(
      variable,
      `is unset and the key file ${path} does not hold a 32-byte base64 key`,
    );
  }

  const mode = (await stat(path)).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new ConfigError(
      variable,
      `is unset and the key file ${path} is readable by others (mode ${mode.toString(8)}); chmod 600 it`,
    );
  }
  return key;
}

function describe(cause: unknown): string {
  return (cause as NodeJS.ErrnoException).code ?? String(cause);
}
