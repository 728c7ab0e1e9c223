import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { inspect } from 'node:util';
import { Parser } from 'tar';
import { GatewayError, type ErrorCode } from '../../../core/errors.js';
import type {
  GitRemote,
  ProviderAdapter,
  ProviderConnection,
  ProviderOptions,
} from '../../../adapters/providers/provider-port.js';
import type { OwnerType } from '../../../core/model.js';
import type { ProviderDouble } from '../../doubles/provider-double.js';

/** How one provider plugs into the shared contract suite. */
export interface ProviderContractHarness {
  startDouble(): Promise<ProviderDouble>;
  /** Builds the adapter under test; the double is there for options only it knows (its hosts). */
  makeAdapter(
    conn: ProviderConnection,
    options: ProviderOptions,
    double: ProviderDouble,
  ): ProviderAdapter;
  /**
   * Set false only for a provider whose API has no conditional file reads; the suite then checks
   * that the adapter reports no ETag instead, and says so.
   */
  conditionalReads?: boolean;
  /**
   * Set false only for a provider whose repository listing carries no change stamp; the suite
   * then checks that the adapter reports none instead of inventing one.
   */
  changeStamps?: boolean;
}

// Names every double accepts. The tokens carry a canary so a leak is easy to find in any text.
export const CONTRACT_USER = 'octo-user';
export const CONTRACT_ORG = 'acme-org';
export const CANARY = 'CANARYx9f3q';
export const WRITE_TOKEN = `tok-write-${CANARY}-0001`;
export const READ_TOKEN = `tok-read-${CANARY}-0002`;
export const UNKNOWN_TOKEN = `tok-unknown-${CANARY}-0003`;

const MANIFEST = JSON.stringify({ type: 'second.app.export.v1', schemaVersion: 1 });

/** Options the suite gives every adapter: short, so a wrong wait shows as a failure, not a hang. */
export const CONTRACT_OPTIONS: ProviderOptions = { timeoutMs: 10_000, maxRateLimitWaitMs: 5_000 };

/**
 * The behaviour every provider adapter shares, run against that provider's double: validation,
 * creation, topics, listing with pagination, conditional reads, archives, tags, git push and
 * fetch with the provider's credential form, rate limits and outages, and no secret in any error.
 */
export function describeProviderContract(name: string, harness: ProviderContractHarness): void {
  describe(`${name} provider contract`, () => {
    let double: ProviderDouble;

    const connect = (
      overrides: Partial<ProviderConnection> = {},
      options: ProviderOptions = CONTRACT_OPTIONS,
    ): ProviderAdapter =>
      harness.makeAdapter(
        {
          provider: double.provider,
          baseUrl: double.baseUrl,
          owner: CONTRACT_ORG,
          ownerType: 'org' as OwnerType,
          token: WRITE_TOKEN,
          ...overrides,
        },
        options,
        double,
      );

    beforeEach(async () => {
      double = await harness.startDouble();
      double.addToken({ value: WRITE_TOKEN, login: CONTRACT_USER });
      double.addToken({ value: READ_TOKEN, login: 'reader-user', access: 'read' });
      double.addOwner(CONTRACT_USER, 'user');
      double.addOwner(CONTRACT_ORG, 'org');
    });

    afterEach(async () => {
      await double.close();
    });

    describe('validate', () => {
      it('reports the account and no missing permission for a token with every permission', async () => {
        const report = await connect().validate();

        expect(report.account).toBe(CONTRACT_USER);
        expect(report.missingPermissions).toEqual([]);
      });

      it('refuses an unknown token with auth_failed and never repeats the token', async () => {
        const error = await failure(connect({ token: UNKNOWN_TOKEN }).validate());

        expectSafeError(error, 'auth_failed');
        expect(error.providerStatus).toBe(401);
      });

      it('lists what a read-only token lacks, in words an admin can act on', async () => {
        const report = await connect({ token: READ_TOKEN }).validate();

        expect(report.account).toBe('reader-user');
        expect(report.missingPermissions.length).toBeGreaterThan(0);
        for (const missing of report.missingPermissions) {
          expect(missing).toMatch(/\w+ \w+/);
          expect(missing).not.toContain(CANARY);
        }
      });

      it('refuses an organization that does not exist with owner_not_found', async () => {
        const error = await failure(connect({ owner: 'no-such-org' }).validate());

        expectSafeError(error, 'owner_not_found');
      });
    });

    describe('createRepo and getRepo', () => {
      it('creates a private repository under an organization', async () => {
        const repo = await connect().createRepo({ name: 'second-app-one', visibility: 'private' });

        expect(repo).toMatchObject({ owner: CONTRACT_ORG, name: 'second-app-one', private: true });
        expect(repo.htmlUrl).toMatch(/^https?:\/\//);
        expect(double.repoState(CONTRACT_ORG, 'second-app-one')?.private).toBe(true);
      });

      it('creates a repository under the token user', async () => {
        const adapter = connect({ owner: CONTRACT_USER, ownerType: 'user' });

        const repo = await adapter.createRepo({ name: 'second-app-mine', visibility: 'private' });

        expect(repo).toMatchObject({
          owner: CONTRACT_USER,
          name: 'second-app-mine',
          private: true,
        });
        expect(double.repoState(CONTRACT_USER, 'second-app-mine')?.private).toBe(true);
      });

      it('creates a public repository when asked to', async () => {
        await connect().createRepo({ name: 'second-app-open', visibility: 'public' });

        expect(double.repoState(CONTRACT_ORG, 'second-app-open')?.private).toBe(false);
      });

      it('answers repo_name_taken for a name the owner already has', async () => {
        await double.seedRepo(CONTRACT_ORG, 'second-app-taken');

        const error = await failure(
          connect().createRepo({ name: 'second-app-taken', visibility: 'private' }),
        );

        expectSafeError(error, 'repo_name_taken');
      });

      it('answers owner_not_found when the organization does not exist', async () => {
        const error = await failure(
          connect({ owner: 'no-such-org' }).createRepo({ name: 'x', visibility: 'private' }),
        );

        expectSafeError(error, 'owner_not_found');
      });

      it('finds an existing repository and answers null for a missing one', async () => {
        await double.seedRepo(CONTRACT_ORG, 'second-app-here', { private: false });
        const adapter = connect();

        expect(await adapter.getRepo('second-app-here')).toMatchObject({
          owner: CONTRACT_ORG,
          name: 'second-app-here',
          private: false,
        });
        expect(await adapter.getRepo('second-app-absent')).toBeNull();
      });
    });

    describe('addTopic', () => {
      it('adds the topic and keeps the topics already there, where the provider has topics', async () => {
        await double.seedRepo(CONTRACT_ORG, 'second-app-topic', { topics: ['existing'] });
        const adapter = connect();

        const added = await adapter.addTopic('second-app-topic', 'second-app');

        expect(added).toBe(adapter.supportsTopics);
        const topics = double.repoState(CONTRACT_ORG, 'second-app-topic')?.topics ?? [];
        if (adapter.supportsTopics) {
          expect([...topics].sort()).toEqual(['existing', 'second-app']);
        } else {
          expect(topics).not.toContain('second-app');
        }
      });
    });

    describe('listRepos', () => {
      it('walks every page of a listing larger than one page', async () => {
        double.setMaxPageSize(10);
        const names = Array.from(
          { length: 35 },
          (_, i) => `second-app-${String(i).padStart(2, '0')}`,
        );
        for (const repo of names) await double.seedRepo(CONTRACT_ORG, repo);
        const adapter = connect();

        const listed: string[] = [];
        for await (const repo of adapter.listRepos()) listed.push(repo.name);

        expect(listed.sort()).toEqual(names);
        const apiCalls = double.requests.filter((r) => r.kind === 'api' && r.method === 'GET');
        expect(apiCalls.length).toBeGreaterThanOrEqual(4);
      });

      it('lists the user owner repositories when the owner is a user', async () => {
        await double.seedRepo(CONTRACT_USER, 'second-app-u1');
        await double.seedRepo(CONTRACT_ORG, 'second-app-o1');
        const adapter = connect({ owner: CONTRACT_USER, ownerType: 'user' });

        const listed: string[] = [];
        for await (const repo of adapter.listRepos()) listed.push(`${repo.owner}/${repo.name}`);

        expect(listed).toEqual([`${CONTRACT_USER}/second-app-u1`]);
      });

      it('narrows to the topic where the provider can filter, and never drops a tagged repo', async () => {
        double.setMaxPageSize(3);
        const tagged = ['second-app-t1', 'second-app-t2', 'second-app-t3', 'second-app-t4'];
        for (const repo of tagged)
          await double.seedRepo(CONTRACT_ORG, repo, { topics: ['second-app'] });
        await double.seedRepo(CONTRACT_ORG, 'plain-repo', { topics: ['other'] });
        const adapter = connect();

        const listed: string[] = [];
        for await (const repo of adapter.listRepos({ topic: 'second-app' })) listed.push(repo.name);

        if (adapter.supportsTopics) expect(listed.sort()).toEqual(tagged);
        else expect(listed.sort()).toEqual([...tagged, 'plain-repo'].sort());
      });
    });

    describe('readFile', () => {
      beforeEach(async () => {
        await double.seedRepo(CONTRACT_ORG, 'second-app-read', {
          files: { 'second-app.json': MANIFEST, 'dist/index.html': '<p>hi</p>' },
          tags: ['second-app-v1'],
        });
      });

      it('reads a file at a tag, then answers not_modified when given its ETag', async () => {
        const adapter = connect();

        const first = await adapter.readFile('second-app-read', 'second-app.json', 'second-app-v1');

        expect(first.status).toBe('ok');
        if (first.status !== 'ok') return;
        expect(first.content.toString('utf8')).toBe(MANIFEST);
        if (harness.conditionalReads === false) {
          console.info(`${name}: the provider has no conditional file reads; checking no ETag`);
          expect(first.etag).toBeNull();
          return;
        }
        expect(first.etag).toBeTruthy();

        const again = await adapter.readFile(
          'second-app-read',
          'second-app.json',
          'second-app-v1',
          first.etag,
        );
        expect(again).toEqual({ status: 'not_modified' });

        const stale = await adapter.readFile(
          'second-app-read',
          'second-app.json',
          'second-app-v1',
          '"not-the-etag"',
        );
        expect(stale.status).toBe('ok');
      });

      it('answers not_found for a missing file, ref or repository', async () => {
        const adapter = connect();

        expect(await adapter.readFile('second-app-read', 'nope.json', 'second-app-v1')).toEqual({
          status: 'not_found',
        });
        expect(await adapter.readFile('second-app-read', 'second-app.json', 'no-such-tag')).toEqual(
          { status: 'not_found' },
        );
        expect(await adapter.readFile('no-such-repo', 'second-app.json', 'main')).toEqual({
          status: 'not_found',
        });
      });
    });

    describe('downloadArchive and listTags', () => {
      it('streams a tar.gz of the tag with exactly one top-level folder', async () => {
        await double.seedRepo(CONTRACT_ORG, 'second-app-arch', {
          files: { 'second-app.json': MANIFEST, 'dist/index.html': '<p>hi</p>', 'a/b/c.txt': 'c' },
          tags: ['second-app-v1'],
        });

        const stream = await connect().downloadArchive('second-app-arch', 'second-app-v1');
        const body = await collect(stream);

        expect(body.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
        const entries = await listTarGz(body);
        const tops = new Set(entries.map((path) => path.split('/')[0]));
        expect(tops.size).toBe(1);
        const inside = entries
          .map((path) => path.split('/').slice(1).join('/'))
          .filter((path) => path && !path.endsWith('/'));
        expect(inside.sort()).toEqual(['a/b/c.txt', 'dist/index.html', 'second-app.json']);
      });

      it('fails with a safe error for an archive of a tag that does not exist', async () => {
        await double.seedRepo(CONTRACT_ORG, 'second-app-arch2', {
          files: { a: 'a' },
          tags: ['v1'],
        });

        const error = await failure(
          connect()
            .downloadArchive('second-app-arch2', 'second-app-v9')
            .then((stream) => collect(stream)),
        );

        expectSafeError(error);
      });

      it('lists every tag with the commit it points at', async () => {
        double.setMaxPageSize(2);
        const tags = [
          'second-app-v1',
          'second-app-v2',
          'second-app-v3',
          'second-app-v4',
          'second-app-v5',
        ];
        await double.seedRepo(CONTRACT_ORG, 'second-app-tags', { files: { a: '1' }, tags });
        const commit = await gitOutput([
          '--git-dir',
          double.gitRepoPath(CONTRACT_ORG, 'second-app-tags'),
          'rev-parse',
          'main',
        ]);

        const listed = await connect().listTags('second-app-tags');

        expect(listed.map((t) => t.name).sort()).toEqual(tags);
        for (const tag of listed) expect(tag.commitSha).toBe(commit.trim());
      });
    });

    describe('git over HTTPS', () => {
      let work: string;

      beforeEach(async () => {
        work = await mkdtemp(join(tmpdir(), 'provider-contract-git-'));
      });

      afterEach(async () => {
        await rm(work, { recursive: true, force: true });
      });

      it('gives a remote without credentials and the token as the password', async () => {
        const remote = connect().gitRemote('second-app-x');

        expect(remote.url).toMatch(/^https?:\/\//);
        expect(remote.url).not.toContain(WRITE_TOKEN);
        expect(new URL(remote.url).username).toBe('');
        expect(new URL(remote.url).password).toBe('');
        expect(remote.username.length).toBeGreaterThan(0);
        expect(remote.password).toBe(WRITE_TOKEN);
      });

      it('pushes to a created repository and fetches it back with the credential form it gives', async () => {
        const adapter = connect();
        await adapter.createRepo({ name: 'second-app-push', visibility: 'private' });
        const remote = adapter.gitRemote('second-app-push');
        const sha = await makeCommit(join(work, 'src'));

        await pushSourceMain(remote, work);

        const onServer = await gitOutput([
          '--git-dir',
          double.gitRepoPath(CONTRACT_ORG, 'second-app-push'),
          'rev-parse',
          'main',
        ]);
        expect(onServer.trim()).toBe(sha);
        const listed = await gitWithCredential(remote, work, ['ls-remote', remote.url]);
        expect(listed).toContain(`${sha}\trefs/heads/main`);
        await gitOutput(['init', '-q', '--bare', join(work, 'copy.git')]);
        await gitWithCredential(remote, work, [
          '--git-dir',
          join(work, 'copy.git'),
          'fetch',
          '-q',
          remote.url,
          'main:refs/heads/main',
        ]);
        const fetched = await gitOutput(['--git-dir', join(work, 'copy.git'), 'rev-parse', 'main']);
        expect(fetched.trim()).toBe(sha);

        const gitRequests = double.requests.filter((r) => r.kind === 'git' && r.status < 400);
        expect(gitRequests.length).toBeGreaterThan(0);
        for (const request of gitRequests) expect(request.gitUser).toBe(remote.username);
      });

      it('lists the change stamp the provider gives, and a landed push moves it', async () => {
        await double.seedRepo(CONTRACT_ORG, 'second-app-stamp');
        const adapter = connect();
        const listedStamp = async () => {
          for await (const repo of adapter.listRepos()) {
            if (repo.name === 'second-app-stamp') return repo.changedAt;
          }
          throw new Error('the listing lost second-app-stamp');
        };

        const before = await listedStamp();
        // Past GitLab's hour of throttling, so every provider with a stamp has moved it.
        double.advanceClock(2 * 60 * 60 * 1000);
        const remote = adapter.gitRemote('second-app-stamp');
        await makeCommit(join(work, 'src'));
        await pushSourceMain(remote, work);
        const after = await listedStamp();

        expect(after).toBe(double.repoState(CONTRACT_ORG, 'second-app-stamp')?.changedAt);
        if (harness.changeStamps === false) {
          console.info(`${name}: the listing has no change stamp; checking none is reported`);
          expect([before, after]).toEqual([null, null]);
          return;
        }
        expect(before).toEqual(expect.any(String));
        expect(after).toEqual(expect.any(String));
        expect(after).not.toBe(before);
      });

      it('refuses a push with a wrong password', async () => {
        const adapter = connect();
        await adapter.createRepo({ name: 'second-app-deny', visibility: 'private' });
        const remote = { ...adapter.gitRemote('second-app-deny'), password: 'wrong-password' };

        await expect(gitWithCredential(remote, work, ['ls-remote', remote.url])).rejects.toThrow();
      });
    });

    describe('rate limits and outages', () => {
      it('waits out a rate limit that resets within the bound, then succeeds', async () => {
        await double.seedRepo(CONTRACT_ORG, 'second-app-rl');
        double.setMode('rate_limited_once');

        const repo = await connect().getRepo('second-app-rl');

        expect(repo?.name).toBe('second-app-rl');
        const api = double.requests.filter((r) => r.kind === 'api');
        expect(api.some((r) => r.status === 429 || r.status === 403)).toBe(true);
        expect(api[api.length - 1].status).toBe(200);
      });

      it('answers rate_limited with the retry time when the wait would pass the bound', async () => {
        await double.seedRepo(CONTRACT_ORG, 'second-app-rl2');
        double.setMode('rate_limited_once');
        const before = Date.now();

        const error = await failure(
          connect({}, { ...CONTRACT_OPTIONS, maxRateLimitWaitMs: 0 }).getRepo('second-app-rl2'),
        );

        expectSafeError(error, 'rate_limited');
        expect([403, 429]).toContain(error.providerStatus);
        expect(error.retryAt).toBeGreaterThan(before);
        expect(error.retryAt).toBeLessThan(before + 120_000);
      });

      it('answers provider_unavailable when the provider answers 5xx', async () => {
        double.setMode('down');

        const error = await failure(connect().validate());

        expectSafeError(error, 'provider_unavailable');
        expect(error.providerStatus).toBeGreaterThanOrEqual(500);
      });

      it('answers provider_unavailable with status 0 when nothing answers', async () => {
        double.setMode('unreachable');

        const error = await failure(connect().getRepo('anything'));

        expectSafeError(error, 'provider_unavailable');
        expect(error.providerStatus).toBe(0);
      });
    });
  });
}

/** Awaits a promise that must reject with a GatewayError, and answers that error. */
export async function failure(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (error) {
    if (!(error instanceof GatewayError)) {
      throw new Error(`expected a GatewayError, got ${inspect(error, { depth: 1 })}`);
    }
    return error;
  }
  throw new Error('expected a failure, but the call succeeded');
}

/**
 * Checks the code and that nothing secret is anywhere in the error: message, JSON, details or
 * any cause down the chain (util.inspect walks them all).
 */
export function expectSafeError(error: GatewayError, code?: ErrorCode): void {
  if (code) expect(error.code).toBe(code);
  const everything = [error.message, JSON.stringify(error), inspect(error, { depth: 8 })].join(
    '\n',
  );
  expect(everything).not.toContain(CANARY);
  expect(everything).not.toMatch(/authorization['"]?\s*[:=]/i);
}

function collect(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', reject);
    stream.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

function listTarGz(body: Buffer): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const paths: string[] = [];
    const parser = new Parser({
      onReadEntry: (entry) => {
        // git archive writes a pax global header carrying the commit id; it is not an entry.
        if (entry.type !== 'GlobalExtendedHeader') paths.push(entry.path);
        entry.resume();
      },
    });
    parser.on('error', reject);
    parser.on('end', () => resolve(paths));
    parser.end(body);
  });
}

// Git in the suite reads no machine or user config and never prompts.
const GIT_ENV = {
  PATH: process.env.PATH,
  HOME: '/nonexistent',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_TERMINAL_PROMPT: '0',
  GIT_AUTHOR_NAME: 'Contract',
  GIT_AUTHOR_EMAIL: 'contract@example.test',
  GIT_COMMITTER_NAME: 'Contract',
  GIT_COMMITTER_EMAIL: 'contract@example.test',
};

function runGitProcess(args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(out)
        : reject(new Error(`git ${args[0]} failed (${code}): ${err.trim()}`)),
    );
  });
}

function gitOutput(args: string[], cwd?: string): Promise<string> {
  return runGitProcess(args, GIT_ENV, cwd);
}

/** Pushes `main` of the clone at `<work>/src` to the remote, with the adapter's credential form. */
export function pushSourceMain(remote: GitRemote, work: string): Promise<string> {
  return gitWithCredential(remote, work, [
    '--git-dir',
    join(work, 'src', '.git'),
    'push',
    remote.url,
    'main:refs/heads/main',
  ]);
}

/**
 * Runs git the way the gateway must: the credential reaches git only through the environment
 * of this one process, read by an askpass script; argv, the URL and config never hold it.
 */
export async function gitWithCredential(
  remote: GitRemote,
  work: string,
  args: string[],
): Promise<string> {
  const askpass = join(work, 'askpass.sh');
  await writeFile(
    askpass,
    '#!/bin/sh\ncase "$1" in\n  Username*) printf "%s" "$CONTRACT_GIT_USERNAME" ;;\n  *) printf "%s" "$CONTRACT_GIT_PASSWORD" ;;\nesac\n',
  );
  await chmod(askpass, 0o700);
  const hardening = [
    ['protocol.allow', 'never'],
    ['protocol.https.allow', 'always'],
    ['protocol.http.allow', 'always'],
    ['credential.helper', ''],
    ['core.hooksPath', '/dev/null'],
    ['transfer.fsckObjects', 'true'],
  ];
  const env: NodeJS.ProcessEnv = {
    ...GIT_ENV,
    GIT_ASKPASS: askpass,
    CONTRACT_GIT_USERNAME: remote.username,
    CONTRACT_GIT_PASSWORD: remote.password,
    GIT_CONFIG_COUNT: String(hardening.length),
  };
  hardening.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  return runGitProcess(args, env, work);
}

async function makeCommit(dir: string): Promise<string> {
  await gitOutput(['init', '-q', '-b', 'main', dir]);
  await writeFile(join(dir, 'second-app.json'), MANIFEST);
  await gitOutput(['add', 'second-app.json'], dir);
  await gitOutput(['commit', '-q', '-m', 'first version'], dir);
  return (await gitOutput(['rev-parse', 'HEAD'], dir)).trim();
}
