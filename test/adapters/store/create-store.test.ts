import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStore } from '../../../adapters/store/create-store.js';

const MONGODB_URL = process.env.MONGODB_URL;
const SKIP_REASON =
  'createStore with MongoDB skipped: MONGODB_URL is not set (no MongoDB server on this machine)';

describe('createStore', () => {
  let dataDir: string;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'create-store-'));
  });

  afterEach(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('opens SQLite in the data directory when no MongoDB URL is given', async () => {
    for (const mongodbUrl of [undefined, '']) {
      const store = await createStore({ dataDir, mongodbUrl });
      try {
        expect(store.kind).toBe('sqlite');
        await store.ping();
      } finally {
        await store.close();
      }
    }

    expect(existsSync(join(dataDir, 'gateway.sqlite'))).toBe(true);
  });

  if (MONGODB_URL !== undefined && MONGODB_URL !== '') {
    test('opens MongoDB when a URL is given, and writes nothing to the data directory', async () => {
      const store = await createStore({ dataDir, mongodbUrl: MONGODB_URL });
      try {
        expect(store.kind).toBe('mongodb');
        await store.ping();
      } finally {
        await store.close();
      }

      expect(existsSync(join(dataDir, 'gateway.sqlite'))).toBe(false);
    });
  } else {
    console.warn(SKIP_REASON);
    test.skip(SKIP_REASON, () => {});
  }
});
