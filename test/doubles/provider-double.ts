import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import type { OwnerType, ProviderId } from '../../core/model.js';
import { createBareRepo, type GitRequestLogEntry } from '../support/git-http-backend.js';

/**
 * How the double answers the next API requests.
 * - `ok`: normally.
 * - `down`: every API and git request answers 503, as a provider in an outage does.
 * - `unreachable`: every connection is dropped without an answer (the adapter sees status 0).
 * - `rate_limited_once`: the next API request gets the provider's own rate-limit answer (status
 *   and headers as documented, reset one second ahead), then the double goes back to `ok`.
 */
export type DoubleMode = 'ok' | 'down' | 'unreachable' | 'rate_limited_once';

/** A token the double accepts. */
export interface DoubleToken {
  /** The secret itself, as the adapter will send it. */
  value: string;
  /** The account the token acts as (created on first use). For bot tokens, the bot's login. */
  login: string;
  /**
   * Provider-specific token kind. GitHub: `classic` (default) or `fine-grained`. GitLab:
   * `personal` (default), `group` or `project`. Bitbucket, Gitea: their own names.
   */
  kind?: string;
  /**
   * `write` (default): every permission the gateway needs (create, push, topics, read).
   * `read`: can read repositories but not create them or push; validate must name what is
   * missing.
   */
  access?: 'write' | 'read';
  /** Exact scopes or permissions, replacing what `kind` and `access` imply (provider words). */
  scopes?: string[];
  /** GitLab group/project tokens, Bitbucket workspace tokens: the one owner or repo they belong to. */
  resource?: string;
}

export interface SeedRepoOptions {
  /** Default true, as the gateway creates them. */
  private?: boolean;
  topics?: string[];
  /** Files of one commit on `main`. Without files and tags the repository is empty. */
  files?: Record<string, string | Buffer>;
  /** Annotated tags on that commit (real git tags). */
  tags?: string[];
  description?: string;
}

/** A repository as the double holds it, for assertions. */
export interface DoubleRepoState {
  owner: string;
  name: string;
  private: boolean;
  topics: string[];
  description: string;
  /**
   * The change stamp the repository listing reports (GitHub `pushed_at`, GitLab
   * `last_activity_at`, Bitbucket Cloud `updated_on`, Gitea `updated_at`), as the listing writes
   * it; null where the provider's listing has none (Bitbucket Data Center).
   */
  changedAt: string | null;
}

/** One request the double answered, API or git, in arrival order. */
export interface DoubleRequest {
  method: string;
  /** Path without the query, e.g. `/api/v3/user/repos`. */
  path: string;
  /** The raw query string without `?`, empty when none. */
  query: string;
  status: number;
  /** Which server answered: the API, git smart HTTP, or a second host (archives, codeload). */
  kind: 'api' | 'git' | 'archive';
  /** The Basic-auth user name of a git request, null otherwise. */
  gitUser: string | null;
}

/** Records the git requests of `url` in `requests` as the double saw them from outside. */
export function gitRequestLog(
  requests: DoubleRequest[],
  url: URL,
): (entry: GitRequestLogEntry) => void {
  return (entry) =>
    requests.push({
      method: entry.method,
      path: url.pathname,
      query: url.search.replace(/^\?/, ''),
      status: entry.status,
      kind: 'git',
      gitUser: entry.user,
    });
}

/**
 * A provider's REST API and git hosting, faked by real HTTP servers on 127.0.0.1 with real bare
 * repositories behind. Every provider double implements this, so one contract suite drives them
 * all the same way.
 */
export interface ProviderDouble {
  readonly provider: ProviderId;
  /**
   * What an admin types as `baseUrl` for this provider (DESIGN §7): null where the provider is
   * only the public SaaS (the adapter then needs the double's hosts through its factory options;
   * see each provider's test for how), the host or the API root otherwise.
   */
  readonly baseUrl: string | null;
  /** The origin of the REST API, e.g. `http://127.0.0.1:4567`. */
  readonly apiOrigin: string;
  /** The origin git clones from (may equal `apiOrigin`). */
  readonly gitOrigin: string;

  addToken(token: DoubleToken): void;
  /** Registers a user or an organization (group, workspace, project). */
  addOwner(name: string, type: OwnerType): void;
  /** Creates a repository with real git content under an existing owner. */
  seedRepo(owner: string, name: string, options?: SeedRepoOptions): Promise<void>;
  /** The repository's API-side state, or null when there is none. */
  repoState(owner: string, name: string): DoubleRepoState | null;
  /** Caps the page size of every listing (the double honours `per_page`/`limit` up to it). */
  setMaxPageSize(size: number): void;
  setMode(mode: DoubleMode): void;
  /**
   * Moves the double's clock forward, as if that much time had passed: what changes afterwards
   * (a repository created, a push landed) is stamped that much later. Tests use it instead of
   * waiting for a stamp of whole seconds, or GitLab's hourly one, to move.
   */
  advanceClock(ms: number): void;
  readonly requests: DoubleRequest[];
  /** The bare repository on disk, for `git --git-dir` assertions. */
  gitRepoPath(owner: string, name: string): string;
  /** Stops every server, ends open connections and removes the repositories. */
  close(): Promise<void>;
}

/** The time a double stamps changes with: the machine's, plus however far a test moved it. */
export interface DoubleClock {
  now(): Date;
  /** The time in whole seconds, as GitHub and Gitea write theirs: `2024-01-01T00:00:00Z`. */
  wholeSeconds(): string;
  advance(ms: number): void;
}

/** A clock that starts at the machine's time. */
export function createDoubleClock(): DoubleClock {
  let offsetMs = 0;
  const now = () => new Date(Date.now() + offsetMs);
  return {
    now,
    wholeSeconds: () =>
      now()
        .toISOString()
        .replace(/\.\d+Z$/, 'Z'),
    advance(ms) {
      offsetMs += ms;
    },
  };
}

/**
 * Serves one git smart-HTTP request with `serve` and, when it is a push that moved a ref of the
 * bare repository at `gitDir`, calls `landed` before the answer reaches the client, as a
 * provider records a push before acknowledging it: a listing asked right after the push already
 * shows its stamp. A push that changed nothing (every ref refused) lands nothing.
 */
export async function serveTrackingPush(
  req: IncomingMessage,
  res: ServerResponse,
  gitDir: string,
  landed: () => void,
  serve: () => void,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method !== 'POST' || !url.pathname.endsWith('/git-receive-pack')) {
    serve();
    return;
  }

  // Refs that cannot be read count as changed: a stamp that moves once too often costs the
  // gateway one read, one that stays put would hide a push. The body waits in the request
  // stream meanwhile; `serve` pipes it on.
  const before = await refSnapshot(gitDir).catch(() => null);
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  res.end = ((...args: unknown[]) => {
    void refSnapshot(gitDir)
      .then(
        (after) => after !== before,
        () => true,
      )
      .then((moved) => {
        if (moved) landed();
        end(...args);
      });
    return res;
  }) as typeof res.end;
  serve();
}

async function refSnapshot(gitDir: string): Promise<string> {
  const out = await runGit([
    '--git-dir',
    gitDir,
    'for-each-ref',
    '--format=%(objectname) %(refname)',
  ]);
  return out.toString();
}

/** What the shared contract suite needs to start a double of one provider. */
export type StartDouble = () => Promise<ProviderDouble>;

// Git run by the doubles reads no config of the machine or the user, so a developer's global
// settings cannot change what the tests see.
const GIT_ENV = {
  PATH: process.env.PATH,
  HOME: '/nonexistent',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_TERMINAL_PROMPT: '0',
  GIT_AUTHOR_NAME: 'Double',
  GIT_AUTHOR_EMAIL: 'double@example.test',
  GIT_COMMITTER_NAME: 'Double',
  GIT_COMMITTER_EMAIL: 'double@example.test',
  GIT_AUTHOR_DATE: '2024-01-01T00:00:00Z',
  GIT_COMMITTER_DATE: '2024-01-01T00:00:00Z',
};

/** Runs git with the doubles' hardened environment and answers its stdout. */
export function runGit(args: string[], input?: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { env: GIT_ENV, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(Buffer.concat(out))
        : reject(new Error(`git ${args.join(' ')} failed: ${err.trim()}`)),
    );
    child.stdin.end(input);
  });
}

/**
 * Creates a bare repository at `path` and, when files or tags are given, one commit on `main`
 * with those files and an annotated tag per name on it.
 */
export async function createSeededRepo(path: string, options: SeedRepoOptions = {}): Promise<void> {
  await createBareRepo(path);
  const files = options.files ?? {};
  const tags = options.tags ?? [];
  if (Object.keys(files).length === 0 && tags.length === 0) return;

  const work = await mkdtemp(join(tmpdir(), 'double-seed-'));
  try {
    for (const [name, content] of Object.entries(files)) {
      await mkdir(dirname(join(work, name)), { recursive: true });
      await writeFile(join(work, name), content);
    }
    const gitArgs = ['--git-dir', path, '--work-tree', work];
    await runGit([...gitArgs, 'add', '-A']);
    await runGit([...gitArgs, 'commit', '-q', '--allow-empty', '-m', 'seed']);
    for (const tag of tags) await runGit(['--git-dir', path, 'tag', '-a', tag, '-m', tag, 'main']);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Tags of a bare repository with the commit each points at, sorted by name. */
export async function listGitTags(path: string): Promise<{ name: string; commitSha: string }[]> {
  const out = await runGit([
    '--git-dir',
    path,
    'for-each-ref',
    '--sort=refname',
    '--format=%(refname:short) %(*objectname) %(objectname)',
    'refs/tags',
  ]);
  return out
    .toString()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [name, peeled, direct] = line.split(' ');
      // An annotated tag peels to its commit; a lightweight one has no peeled value.
      return { name, commitSha: peeled || direct };
    });
}

/** The commit a ref points at, or null when the ref does not exist. */
export async function resolveCommit(path: string, ref: string): Promise<string | null> {
  try {
    const out = await runGit(['--git-dir', path, 'rev-parse', '--verify', '-q', `${ref}^{commit}`]);
    return out.toString().trim();
  } catch {
    return null;
  }
}

/** The content and blob SHA of one file at a ref, or null when either does not exist. */
export async function readGitFile(
  path: string,
  ref: string,
  file: string,
): Promise<{ content: Buffer; blobSha: string } | null> {
  const commit = await resolveCommit(path, ref);
  if (!commit) return null;

  try {
    const blobSha = (await runGit(['--git-dir', path, 'rev-parse', `${commit}:${file}`]))
      .toString()
      .trim();
    const content = await runGit(['--git-dir', path, 'cat-file', 'blob', blobSha]);
    return { content, blobSha };
  } catch {
    return null;
  }
}

/** A real `git archive` tar.gz of `ref`, every entry under `prefix/`. */
export function gitArchiveStream(path: string, ref: string, prefix: string): Readable {
  const child = spawn(
    'git',
    ['--git-dir', path, 'archive', '--format=tar.gz', `--prefix=${prefix}/`, ref],
    { env: GIT_ENV, stdio: ['ignore', 'pipe', 'ignore'] },
  );
  return child.stdout;
}

/** The user and password of an HTTP Basic `Authorization` header, or null. */
export function parseBasicAuth(header: string | undefined): { user: string; pass: string } | null {
  if (!header?.startsWith('Basic ')) return null;
  const decoded = Buffer.from(header.slice('Basic '.length).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { user: decoded.slice(0, colon), pass: decoded.slice(colon + 1) };
}

/** Reads a request body as JSON; an empty body is `{}`, anything unparsable is null. */
export async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown> | null> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
