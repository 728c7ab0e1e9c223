/**
 * A second gateway process for the SQLite tests: it opens the same database file and obeys one
 * command per line on stdin, answering one line on stdout.
 *   write <n> <action>   append n audit events with that action and put n blobs  → "wrote <n>"
 *   count <action>       count the audit events with that action it can see       → "count <k>"
 *   exit                 close the store and exit                                 → (none)
 * Arguments: <dataDir> <workspaceId>.
 */
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { SqliteStore } from '../../../adapters/store/sqlite/sqlite-store.js';
import { auditRecord, sha256Of } from './store-fixtures.js';

const [dataDir, workspaceId] = process.argv.slice(2);
const store = SqliteStore.open({ dataDir });
const ws = store.workspace(workspaceId);

async function run(line: string): Promise<string | null> {
  const [command, arg1, arg2] = line.trim().split(' ');

  if (command === 'write') {
    const n = Number(arg1);
    for (let i = 0; i < n; i += 1) {
      await ws.appendAudit(auditRecord(workspaceId, { action: arg2, actor: 'child' }));
      const blob = randomBytes(256);
      await ws.putBlob(sha256Of(blob), blob);
    }
    return `wrote ${n}`;
  }

  if (command === 'count') {
    const events = await ws.listAudit({ limit: 100_000 });
    return `count ${events.filter((event) => event.action === arg1).length}`;
  }

  await store.close();
  process.exit(0);
}

// No top-level await: the test bundles this file as CommonJS to load better-sqlite3 from the
// project's node_modules through NODE_PATH.
async function main(): Promise<void> {
  const lines = createInterface({ input: process.stdin });
  process.stdout.write('ready\n');
  for await (const line of lines) {
    const answer = await run(line);
    if (answer !== null) process.stdout.write(`${answer}\n`);
  }
}

void main();
