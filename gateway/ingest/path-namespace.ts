import { collisionKey, printablePath } from '../../core/path-safety.js';
import { GatewayError } from '../../core/errors.js';

type Kind = 'file' | 'directory' | 'symlink';

interface Claim {
  spelling: string;
  kind: Kind;
  /** A name the gateway writes itself; the upload may send it once, spelled the same. */
  reserved: boolean;
}

function refuse(reason: string): GatewayError {
  return new GatewayError(
    'unsafe_path',
    `The archive holds a path the gateway refuses: ${reason}.`,
  );
}

/**
 * The names an archive has used, keyed as a case-insensitive, normalizing file system would see
 * them. Refuses a second entry on the same name (twins by case or Unicode form included), a
 * file that is also a directory, and one directory spelled two ways.
 */
export class PathNamespace {
  readonly #claims = new Map<string, Claim>();
  // Directories whose whole ancestry is checked already, spelled as sent: the common case of
  // many files in one folder then costs a single set look-up.
  readonly #checkedDirectories = new Set<string>();

  /** Marks a name the gateway writes (the root manifest). */
  reserve(path: string): void {
    this.#claims.set(collisionKey(path), { spelling: path, kind: 'file', reserved: true });
  }

  /** Records an entry, or refuses it when it collides with one recorded before. */
  add(path: string, kind: Kind): void {
    const slash = path.lastIndexOf('/');
    if (slash > 0) this.#addAncestors(path.slice(0, slash));

    const key = collisionKey(path);
    const claim = this.#claims.get(key);

    if (claim === undefined) {
      this.#claims.set(key, { spelling: path, kind, reserved: false });
      if (kind === 'directory') this.#checkedDirectories.add(path);
      return;
    }

    if (claim.spelling !== path)
      throw refuse(`${printablePath(claim.spelling)} and another spelling of it`);
    if (claim.kind === 'directory' && kind === 'directory') return;
    if (claim.reserved && kind !== 'directory') {
      claim.reserved = false;
      return;
    }
    throw refuse(`${printablePath(path)} twice, or as a file and a folder`);
  }

  #addAncestors(directory: string): void {
    if (this.#checkedDirectories.has(directory)) return;

    let end = directory.indexOf('/');
    for (;;) {
      const prefix = end === -1 ? directory : directory.slice(0, end);
      const key = collisionKey(prefix);
      const claim = this.#claims.get(key);

      if (claim === undefined) {
        this.#claims.set(key, { spelling: prefix, kind: 'directory', reserved: false });
      } else if (claim.spelling !== prefix) {
        throw refuse(`${printablePath(claim.spelling)} and another spelling of it`);
      } else if (claim.kind !== 'directory') {
        throw refuse(`a path that runs through the file ${printablePath(prefix)}`);
      }

      if (end === -1) break;
      end = directory.indexOf('/', end + 1);
    }

    this.#checkedDirectories.add(directory);
  }
}
