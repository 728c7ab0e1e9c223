import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { createLogger } from '../../../gateway/logger.js';
import { observeGitSpawns, type GitSpawnRecord } from '../../../mirror/index.js';
import { makeTar, sampleApp, uploadBuild } from '../gateway-fixtures.js';
import {
  GIT_OWNER,
  startSourceControlHarness,
  type SourceControlHarness,
} from '../../support/source-control-harness.js';

/**
 * A token shaped like no provider's, so the log scrubber (which masks token-shaped strings)
 * cannot hide a leak: the canary must not reach any output in the first place.
 */
const CANARY = 'CANARY-plain-7c1f0e9a2b3d4c5e6f708192a3b4c5d6';
const FORMS = [
  CANARY,
  encodeURIComponent(CANARY),
  Buffer.from(`git:${CANARY}`).toString('base64'),
  Buffer.from(`x-access-token:${CANARY}`).toString('base64'),
  Buffer.from(CANARY).toString('base64'),
];

function findCanary(text: string): string | null {
  return FORMS.find((form) => text.includes(form)) ?? null;
}

test('the provider token reaches no response, log line, event, audit record, stored record, git argument or mirror config', async () => {
  const logLines: string[] = [];
  const logger = createLogger({
    level: 'trace',
    destination: new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString('utf8'));
        done();
      },
    }),
  });
  let accept = true;
  const h: SourceControlHarness = await startSourceControlHarness({
    env: { DEPLOYMENT_MODE: 'local', SYNC_MAX_ATTEMPTS: '2' },
    token: CANARY,
    logger,
    checkAuth: (_user, pass) => accept && pass === CANARY,
  });
  const spawns: GitSpawnRecord[] = [];
  const stopObserving = observeGitSpawns((record) => spawns.push(record));
  const answers: string[] = [];
  const remember = async (response: Response) => {
    const body = await response.text();
    answers.push(`${response.status} ${JSON.stringify([...response.headers])} ${body}`);
    return body;
  };

  try {
    await h.git.createRepo(GIT_OWNER, 'second-app-canary-app');
    const events = await h.gateway.request('/api/v1/events', {
      token: await h.gateway.userToken({ role: 'viewer' }),
    });
    const eventReader = events.body!.getReader();

    // Settings save: refused once with a wrong token, then saved.
    await remember(await h.connect({ token: `${CANARY}-wrong` }));
    await remember(await h.connect());
    await remember(
      await h.gateway.request('/api/v1/source-control', { token: await h.gateway.userToken() }),
    );

    // Publish and a synced version.
    const appId = await h.gateway.createApp('Canary App');
    const worker = await h.gateway.workerToken(appId);
    await remember(await uploadBuild(h.gateway, appId, worker, await makeTar(sampleApp())));
    const builder = await h.gateway.userToken({ role: 'builder' });
    const post = (path: string) =>
      h.gateway.request(path, {
        method: 'POST',
        token: builder,
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
    await remember(await post(`/api/v1/apps/${appId}/source-control/publish`));
    await h.settle();

    // A failure with the remote down, another with the token refused, then a retry that works.
    h.git.setMode('unavailable');
    await remember(
      await uploadBuild(h.gateway, appId, worker, await makeTar(sampleApp({ 'src/a.ts': 'a' }))),
    );
    await h.settle();
    h.git.setMode('ok');
    accept = false;
    await remember(await post(`/api/v1/apps/${appId}/source-control/retry`));
    await h.settle();
    accept = true;
    await remember(await post(`/api/v1/apps/${appId}/source-control/retry`));
    await h.settle();

    for (const path of [
      `/api/v1/apps/${appId}`,
      `/api/v1/apps/${appId}/builds`,
      `/api/v1/apps/${appId}/versions`,
      '/api/v1/audit',
    ]) {
      await remember(await h.gateway.request(path, { token: await h.gateway.userToken() }));
    }
    const app = JSON.parse(answers.at(-4)!.slice(answers.at(-4)!.indexOf(' {') + 1)) as {
      app: { sourceControl: { status: string; version: number } };
    };
    expect(app.app.sourceControl).toMatchObject({ status: 'synced', version: 2 });

    // Read until both synced versions were announced; the deadline only keeps a broken stream
    // from hanging the test, and what arrived by then is what gets searched and checked.
    let eventText = '';
    const syncedTwice = () => eventText.split('"status":"synced"').length > 2;
    let deadline: NodeJS.Timeout | undefined;
    await Promise.race([
      (async () => {
        while (!syncedTwice()) {
          const next = await eventReader.read();
          if (next.done) return;
          eventText += Buffer.from(next.value).toString('utf8');
        }
      })(),
      new Promise<void>((resolve) => (deadline = setTimeout(resolve, 30_000))),
    ]);
    clearTimeout(deadline);
    await eventReader.cancel();

    // Where the canary could have gone.
    expect(spawns.length).toBeGreaterThan(0);
    for (const spawn of spawns) expect(findCanary(spawn.argv.join(' '))).toBeNull();
    // The control: the credential does reach git, through the environment of its process only.
    expect(spawns.some((spawn) => findCanary(JSON.stringify(spawn.env)) !== null)).toBe(true);
    for (const answer of answers) expect(findCanary(answer)).toBeNull();
    expect(findCanary(logLines.join(''))).toBeNull();
    expect(logLines.join('')).toContain('sync');
    // The control: the stream carried the failures and both synced versions, so the search
    // below looks at real events.
    expect(syncedTwice()).toBe(true);
    expect(eventText).toContain('"status":"failed"');
    expect(findCanary(eventText)).toBeNull();

    const audit = await h.gateway.store.reader('acme').listAudit({ limit: 500 });
    expect(audit.some((e) => e.outcome === 'failure' && e.code === 'auth_failed')).toBe(true);
    expect(findCanary(JSON.stringify(audit))).toBeNull();

    const db = new Database(join(h.gateway.dataDir, 'gateway.sqlite'), { readonly: true });
    try {
      const tables = (
        db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
          name: string;
        }[]
      )
        .map((t) => t.name)
        .filter((name) => name !== 'secrets');
      for (const table of tables) {
        const rows = JSON.stringify(
          db.prepare(`SELECT * FROM "${table}"`).all(),
          (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('latin1') : v),
        );
        expect([table, findCanary(rows)]).toEqual([table, null]);
      }
      const secrets = JSON.stringify(db.prepare('SELECT * FROM secrets').all());
      expect(secrets).not.toContain(CANARY);
    } finally {
      db.close();
    }

    const mirrors = join(h.gateway.dataDir, 'mirrors', 'acme');
    for (const entry of await readdir(mirrors)) {
      const config = await readFile(join(mirrors, entry, 'config'), 'utf8');
      expect(findCanary(config)).toBeNull();
    }
  } finally {
    stopObserving();
    await h.close();
  }
});
