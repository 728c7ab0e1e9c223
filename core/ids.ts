import { randomBytes } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/**
 * A new random id of 20 lower-case letters and digits (about 103 bits). Ids are used as path
 * segments of mirrors, so they contain nothing a file system or git could read twice.
 */
export function newId(): string {
  const bytes = randomBytes(20);
  let id = '';
  for (const byte of bytes) id += ALPHABET[byte % ALPHABET.length];
  return id;
}

/** True when `value` may stand as a workspace or app id, and so as one path segment. */
export function isSafeId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}
