import { pino, type Logger } from 'pino';
import { MongoStore } from './mongodb/mongo-store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './store-port.js';

/** The configuration that chooses and opens the store. */
export interface CreateStoreOptions {
  /** The gateway's data directory (`DATA_DIR`): the SQLite database lives in it. */
  dataDir: string;
  /** `MONGODB_URL`: when set, the store is MongoDB and nothing is written to `dataDir`. */
  mongodbUrl?: string;
  logger?: Logger;
}

/** Opens the gateway's store: MongoDB when a URL is given, the embedded SQLite file otherwise. */
export async function createStore(options: CreateStoreOptions): Promise<Store> {
  const logger = options.logger ?? pino({ level: 'silent' });

  if (options.mongodbUrl !== undefined && options.mongodbUrl !== '') {
    return MongoStore.open({ url: options.mongodbUrl, logger });
  }
  return SqliteStore.open({ dataDir: options.dataDir, logger });
}
