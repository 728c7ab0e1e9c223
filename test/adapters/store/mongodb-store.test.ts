import { createServer } from 'node:net';
import { MongoClient } from 'mongodb';
import { newId } from '../../../core/ids.js';
import { MongoStore } from '../../../adapters/store/mongodb/mongo-store.js';
import type { Store } from '../../../adapters/store/store-port.js';
import { describeStoreContract, type StoreHarness } from './store-contract.js';

const MONGODB_URL = process.env.MONGODB_URL;
const SKIP_REASON =
  'MongoDB store contract suite skipped: MONGODB_URL is not set (no MongoDB server on this machine)';

/** A database of its own for every store opened, each dropped at the end. */
function mongoHarness(url: string): StoreHarness {
  const stores: MongoStore[] = [];
  const run = `gateway_test_${process.pid}_${newId().slice(0, 8)}`;
  let peek: MongoClient | null = null;

  return {
    async open() {
      const store = await MongoStore.open({ url, databaseName: `${run}_${stores.length}` });
      stores.push(store);
      return store;
    },
    async storedChunkCount(store: Store, workspaceId: string, sha256: string) {
      peek ??= await new MongoClient(url).connect();
      return peek
        .db((store as MongoStore).databaseName)
        .collection('blobChunks')
        .countDocuments({ workspaceId, sha256 });
    },
    async dispose() {
      const cleaner = await new MongoClient(url).connect();
      try {
        for (const store of stores) await cleaner.db(store.databaseName).dropDatabase();
      } finally {
        await cleaner.close();
        await peek?.close();
        for (const store of stores) await store.close();
      }
    },
  };
}

if (MONGODB_URL !== undefined && MONGODB_URL !== '') {
  describeStoreContract('MongoDB', mongoHarness(MONGODB_URL));
} else {
  // Printed while the file loads: jest runs no hook of a block whose tests are all skipped.
  console.warn(SKIP_REASON);
  describe('MongoDB store contract', () => {
    test.skip(SKIP_REASON, () => {});
  });
}

describe('MongoDB store without a server', () => {
  /** A loopback port that nothing listens on. */
  async function closedPort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    return port;
  }

  test('open fails with a message that names MONGODB_URL and not its credentials', async () => {
    const port = await closedPort();
    const url = `mongodb://gateway:s3cret-pass@127.0.0.1:${port}/gateway`;

    const error = await MongoStore.open({ url, serverSelectionTimeoutMS: 300 }).then(
      () => null,
      (caught: unknown) => caught as Error,
    );

    expect(error).toBeInstanceOf(Error);
    expect(error?.message).toMatch(/MONGODB_URL did not answer/);
    expect(error?.message).not.toContain('s3cret-pass');
  });

  test('a URL that is not a MongoDB connection string is refused at once', async () => {
    await expect(MongoStore.open({ url: 'https://user:pw@example.invalid/db' })).rejects.toThrow(
      /mongodb/i,
    );
  });
});
