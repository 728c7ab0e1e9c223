import { MongoClient, type Db } from 'mongodb';
import { pino, type Logger } from 'pino';
import type { SyncJobRecord } from '../../../core/model.js';
import { listLimit } from '../list-limits.js';
import { readerView } from '../reader-view.js';
import type { Store, WorkspaceReader, WorkspaceStore } from '../store-port.js';
import { assertWorkspaceId, GuardedWorkspace } from '../workspace-guard.js';
import { collectionsOf, ensureIndexes, type GatewayCollections } from './mongo-collections.js';
import { MongoWorkspace } from './mongo-workspace.js';

/** Where and how to reach MongoDB. */
export interface MongoStoreOptions {
  /** A MongoDB connection string (`MONGODB_URL`). It may hold credentials: it is never logged. */
  url: string;
  /** The database to use; default: the one named in the URL's path (the driver's `test` if none). */
  databaseName?: string;
  logger?: Logger;
  /** How long to look for a server before `open` fails; default 10 s. */
  serverSelectionTimeoutMS?: number;
}

/**
 * True when the deployment runs multi-document transactions: a replica-set member names its set,
 * a mongos router says `isdbgrid`. A standalone server does neither.
 */
async function supportsTransactions(db: Db): Promise<boolean> {
  const hello = await db.command({ hello: 1 });
  return typeof hello.setName === 'string' || hello.msg === 'isdbgrid';
}

/** The store on MongoDB, shared by every gateway process that points at the same database. */
export class MongoStore implements Store {
  readonly kind = 'mongodb' as const;
  readonly databaseName: string;
  /** Whether `saveBuild` runs in a transaction (false on a standalone server). */
  readonly transactions: boolean;
  private readonly client: MongoClient;
  private readonly db: Db;
  private readonly collections: GatewayCollections;
  private writes = 0;

  private constructor(client: MongoClient, db: Db, transactions: boolean) {
    this.client = client;
    this.db = db;
    this.databaseName = db.databaseName;
    this.collections = collectionsOf(db);
    this.transactions = transactions;
  }

  /** Connects, checks what the deployment supports, and creates the indexes. */
  static async open(options: MongoStoreOptions): Promise<MongoStore> {
    const logger = options.logger ?? pino({ level: 'silent' });
    // The driver's parse errors describe the URL's shape without repeating it, credentials included.
    const client = new MongoClient(options.url, {
      serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 10_000,
      appName: 'second-scm-gateway',
    });

    let db: Db;
    let transactions: boolean;
    try {
      await client.connect();
      db = client.db(options.databaseName);
      transactions = await supportsTransactions(db);
    } catch (error) {
      await client.close();
      throw new Error(
        `The MongoDB server of MONGODB_URL did not answer: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }

    const store = new MongoStore(client, db, transactions);
    try {
      await ensureIndexes(store.collections);
    } catch (error) {
      await client.close();
      throw error;
    }

    logger.info(
      { database: db.databaseName, transactions },
      `store: MongoDB database ${db.databaseName} open`,
    );
    if (!transactions) {
      logger.warn(
        { database: db.databaseName },
        'store: MongoDB is a standalone server, so builds are saved without a transaction; ' +
          'a crash mid-save can leave a build whose draft never moved until it is retried. ' +
          'Run a replica set (one member is enough) to make each save atomic.',
      );
    }
    return store;
  }

  get writeCount(): number {
    return this.writes;
  }

  workspace(workspaceId: string): WorkspaceStore {
    assertWorkspaceId(workspaceId);
    const inner = new MongoWorkspace({
      client: this.client,
      collections: this.collections,
      workspaceId,
      transactions: this.transactions,
    });
    return new GuardedWorkspace(inner, () => {
      this.writes += 1;
    });
  }

  reader(workspaceId: string): WorkspaceReader {
    return readerView(this.workspace(workspaceId));
  }

  /** Crosses workspaces on purpose: start-up resumes every workspace's outbox. */
  async unfinishedJobs(limit: number): Promise<SyncJobRecord[]> {
    return this.collections.syncJobs
      .find({ state: { $in: ['queued', 'running'] } }, { projection: { _id: 0 } })
      .sort({ createdAt: 1, _id: 1 })
      .limit(listLimit(limit))
      .toArray();
  }

  async ping(): Promise<void> {
    await this.db.command({ ping: 1 });
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  /** Drops the whole database: for tests that made a database of their own. */
  async dropDatabase(): Promise<void> {
    await this.db.dropDatabase();
  }
}
