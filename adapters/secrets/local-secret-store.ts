import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { GatewayError } from '../../core/errors.js';
import type { Store } from '../store/store-port.js';
import type { SecretStore } from './secret-port.js';

const FORMAT = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface LocalSecretStoreOptions {
  store: Store;
  /** The current 32-byte key: new values are sealed with it. */
  key: Buffer;
  /** Keys of earlier rotations, still accepted for reading. */
  previousKeys?: Buffer[];
}

/** A short, stable id of a key, written beside each value so a rotation knows which key sealed it. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 12);
}

/**
 * Binds a value to where it belongs: a sealed value copied to another workspace or another name
 * fails authentication instead of decrypting.
 */
function associatedData(workspaceId: string, name: string): Buffer {
  return Buffer.from(`second-gateway/secret/${FORMAT}\0${workspaceId}\0${name}`, 'utf8');
}

/** Secrets sealed with AES-256-GCM (a random IV per write) and kept in the gateway's store. */
export class LocalSecretStore implements SecretStore {
  readonly kind = 'local' as const;
  private readonly store: Store;
  private readonly current: { id: string; key: Buffer };
  private readonly keys: Map<string, Buffer>;

  constructor(options: LocalSecretStoreOptions) {
    for (const key of [options.key, ...(options.previousKeys ?? [])]) {
      if (key.length !== 32) throw new Error('A secret key must be 32 bytes long.');
    }
    this.store = options.store;
    this.current = { id: keyIdOf(options.key), key: options.key };
    this.keys = new Map([options.key, ...(options.previousKeys ?? [])].map((k) => [keyIdOf(k), k]));
  }

  async put(workspaceId: string, name: string, value: string): Promise<void> {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    cipher.setAAD(associatedData(workspaceId, name));
    const ciphertext = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    const sealed = [
      FORMAT,
      this.current.id,
      iv.toString('base64'),
      ciphertext.toString('base64'),
      cipher.getAuthTag().toString('base64'),
    ].join('.');

    await this.store.workspace(workspaceId).putSecret(name, sealed);
  }

  async get(workspaceId: string, name: string): Promise<string | null> {
    const sealed = await this.store.reader(workspaceId).getSecret(name);
    if (sealed === null) return null;
    return this.open(workspaceId, name, sealed);
  }

  async delete(workspaceId: string, name: string): Promise<void> {
    await this.store.workspace(workspaceId).deleteSecret(name);
  }

  /** Whether a stored value was sealed with an older key and should be written again. */
  async needsRotation(workspaceId: string, name: string): Promise<boolean> {
    const sealed = await this.store.reader(workspaceId).getSecret(name);
    return sealed !== null && sealed.split('.')[1] !== this.current.id;
  }

  private open(workspaceId: string, name: string, sealed: string): string {
    const [format, keyId, iv, ciphertext, tag] = sealed.split('.');
    const key = keyId === undefined ? undefined : this.keys.get(keyId);

    // The message names neither value nor key: it only says what an operator must fix.
    if (format !== FORMAT || key === undefined || !iv || ciphertext === undefined || !tag) {
      throw new GatewayError(
        'internal',
        `The stored secret "${name}" was sealed with a key this gateway does not have: if SECRET_KEY changed, set the old key in SECRET_KEY_PREVIOUS.`,
      );
    }

    try {
      // GCM accepts truncated tags; only a full-length one is taken, so a forged short tag fails.
      const authTag = Buffer.from(tag, 'base64');
      if (authTag.length !== TAG_BYTES) throw new Error('truncated authentication tag');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(associatedData(workspaceId, name));
      decipher.setAuthTag(authTag);
      const plain = Buffer.concat([
        decipher.update(Buffer.from(ciphertext, 'base64')),
        decipher.final(),
      ]);
      return plain.toString('utf8');
    } catch (cause) {
      throw new GatewayError(
        'internal',
        `The stored secret "${name}" failed its integrity check.`,
        {
          cause,
        },
      );
    }
  }
}
