import type { Database, Statement } from 'better-sqlite3';
import { GatewayError } from '../../../core/errors.js';

/**
 * One open database and its prepared statements, each compiled once and reused: a statement is
 * keyed by its SQL text, and the SQL texts are constants of this adapter, so the cache stays small.
 */
export class SqliteConnection {
  readonly db: Database;
  private readonly statements = new Map<string, Statement>();

  constructor(db: Database) {
    this.db = db;
  }

  /** The prepared statement for `sql`. */
  sql(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /**
   * Runs `fn` in a transaction that takes the write lock at its start (BEGIN IMMEDIATE). A
   * deferred transaction that reads and then writes fails at once with SQLITE_BUSY when another
   * process wrote in between; an immediate one waits its turn under busy_timeout instead.
   */
  write<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn).immediate();
    } catch (error) {
      throw asDiskFull(error);
    }
  }

  /**
   * Like `write`, committed with synchronous=FULL: the commit syncs the write-ahead log, and with
   * it every frame written before (the blobs of a build among them), so what this commit
   * acknowledges survives a power cut. The connection runs at NORMAL otherwise.
   */
  durableWrite<T>(fn: () => T): T {
    this.db.pragma('synchronous = FULL');
    try {
      return this.write(fn);
    } finally {
      this.db.pragma('synchronous = NORMAL');
    }
  }
}

/**
 * SQLite's "database or disk is full" as `storage_full`, so the caller hears that the disk needs
 * room rather than that the gateway broke; the transaction was rolled back, nothing is half-written.
 * Single statements run outside `write` are not mapped and surface as they are.
 */
function asDiskFull(error: unknown): unknown {
  if ((error as { code?: unknown } | null)?.code !== 'SQLITE_FULL') return error;
  return new GatewayError('storage_full', 'The store ran out of disk space.', { cause: error });
}

/** True when SQLite refused a row because it names a parent row that does not exist. */
export function isForeignKeyFailure(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}
