import type { Readable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { GatewayError } from '../../../core/errors.js';
import { TAG_PREFIX } from '../../../core/manifest.js';
import { lsRemote, type RemoteRefs } from '../../../mirror/ls-remote.js';
import type {
  FileRead,
  GitRemote,
  ProviderAdapter,
  ProviderConnection,
  ProviderOptions,
  RepoInfo,
  TagInfo,
  ValidationReport,
} from '../provider-port.js';
import { checkRemoteBaseUrl } from '../remote-url.js';
import { probeOwnerAccess } from './owner-probe.js';

/** Version tags, as refs: a repository holding one stores some app's versions. */
const VERSION_TAG_PREFIX = `refs/tags/${TAG_PREFIX}`;

/** Factory options of the plain git adapter. */
export interface GitAdapterOptions extends ProviderOptions {
  logger?: Logger;
  /** Replaces the global `fetch` of the credential check. */
  fetch?: typeof fetch;
}

/** The user name sent with the token when the token does not name one itself. */
export const DEFAULT_GIT_USERNAME = 'git';

const NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,199}$/;

/**
 * Plain git over HTTPS: no REST API. Repository `<owner>/<repo>` is `<baseUrl>/<owner>/<repo>.git`
 * and must exist already; everything is learnt with `git ls-remote`. The credential is the token
 * as password with user `git`, or `user:password` when the token holds a colon (servers that need
 * a real user name).
 */
export function createGitAdapter(
  conn: ProviderConnection,
  options: GitAdapterOptions = {},
): ProviderAdapter {
  if (!conn.baseUrl)
    throw new GatewayError('invalid_remote', 'Plain git needs the server address as its base URL.');
  const base = checkRemoteBaseUrl(conn.baseUrl);
  assertName(conn.owner, 'owner');
  const baseUrl = base.toString().replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 10_000;
  const logger = options.logger ?? pino({ level: 'silent' });
  const credential = splitCredential(conn.token);

  const remoteOf = (repo: string): GitRemote => {
    assertName(repo, 'repository');
    return { url: `${baseUrl}/${conn.owner}/${repo}.git`, ...credential };
  };

  // null when the server says the repository does not exist; other failures go up as they are.
  const refsOf = async (repo: string): Promise<RemoteRefs | null> => {
    try {
      return await lsRemote(remoteOf(repo), timeoutMs);
    } catch (err) {
      if (
        err instanceof GatewayError &&
        err.code === 'provider_error' &&
        err.providerStatus === 404
      )
        return null;
      throw err;
    }
  };

  const infoOf = (repo: string, refs: RemoteRefs): RepoInfo => ({
    owner: conn.owner,
    name: repo,
    htmlUrl: `${baseUrl}/${conn.owner}/${repo}.git`,
    defaultBranch: refs.main ? 'main' : (firstBranch(refs) ?? null),
    // A plain git server has no notion of visibility the gateway can read; it asked for a
    // credential, so the repository is treated as private.
    private: true,
    topics: null,
    // Plain git has no listing and no record of when a repository last changed.
    changedAt: null,
  });

  const unsupported = (what: string) =>
    new GatewayError('not_supported', `Plain git has no API to ${what}.`, { providerStatus: 0 });

  return {
    id: 'git',
    supportsTopics: false,
    supportsListing: false,

    async validate(): Promise<ValidationReport> {
      await probeOwnerAccess({
        url: `${baseUrl}/${conn.owner}/`,
        username: credential.username,
        password: credential.password,
        timeoutMs,
        fetch: options.fetch ?? fetch,
      });
      return { account: null, missingPermissions: [] };
    },

    // Plain git cannot create repositories: an existing one is answered as created (the
    // admin made it for this app); a missing one is a clear provider_error that a retry mends
    // once the repository exists. One that already holds app versions belongs to another app
    // (two apps of the same name): it is taken, so the gateway moves on to the next name.
    async createRepo({ name }): Promise<RepoInfo> {
      const refs = await refsOf(name);
      if (!refs) {
        throw new GatewayError(
          'provider_error',
          `Plain git cannot create repositories: create ${conn.owner}/${name}.git on the server first.`,
          { providerStatus: 404 },
        );
      }
      if ([...refs.refs.keys()].some((ref) => ref.startsWith(VERSION_TAG_PREFIX))) {
        throw new GatewayError(
          'repo_name_taken',
          `${conn.owner}/${name}.git already holds the versions of an app.`,
          { providerStatus: 0 },
        );
      }
      logger.info({ repo: `${conn.owner}/${name}` }, 'using the existing plain git repository');
      return infoOf(name, refs);
    },

    async getRepo(name: string): Promise<RepoInfo | null> {
      const refs = await refsOf(name);
      return refs ? infoOf(name, refs) : null;
    },

    async addTopic(): Promise<boolean> {
      return false;
    },

    listRepos(): AsyncIterable<RepoInfo> {
      return {
        [Symbol.asyncIterator]: () => ({
          next: () => Promise.reject(unsupported('list repositories')),
        }),
      };
    },

    async readFile(): Promise<FileRead> {
      throw unsupported('read a single file');
    },

    async downloadArchive(): Promise<Readable> {
      throw unsupported('download an archive');
    },

    async listTags(repo: string): Promise<TagInfo[]> {
      const refs = await refsOf(repo);
      if (!refs)
        throw new GatewayError(
          'not_found',
          `The git server has no repository ${conn.owner}/${repo}.`,
          { providerStatus: 404 },
        );
      const tags: TagInfo[] = [];
      for (const [ref, sha] of refs.refs) {
        if (!ref.startsWith('refs/tags/')) continue;
        tags.push({ name: ref.slice('refs/tags/'.length), commitSha: refs.peeled.get(ref) ?? sha });
      }
      return tags.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },

    gitRemote: remoteOf,
  };
}

function splitCredential(token: string): { username: string; password: string } {
  const colon = token.indexOf(':');
  if (colon <= 0) return { username: DEFAULT_GIT_USERNAME, password: token };
  return { username: token.slice(0, colon), password: token.slice(colon + 1) };
}

function assertName(value: string, what: string): void {
  if (!NAME.test(value) || value.includes('..') || value.endsWith('.git') || value.endsWith('.')) {
    throw new GatewayError('invalid_request', `The ${what} name is not a valid git path segment.`);
  }
}

function firstBranch(refs: RemoteRefs): string | undefined {
  for (const ref of refs.refs.keys()) {
    if (ref.startsWith('refs/heads/')) return ref.slice('refs/heads/'.length);
  }
  return undefined;
}
