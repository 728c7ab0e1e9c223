import type { Readable } from 'node:stream';
import type { OwnerType, ProviderId, Visibility } from '../../core/model.js';

/** Where and as whom a workspace reaches its provider. */
export interface ProviderConnection {
  provider: ProviderId;
  /** DESIGN §7: the API root for GitHub Enterprise, the host for the others, a prefix for git. */
  baseUrl: string | null;
  owner: string;
  ownerType: OwnerType;
  token: string;
}

export interface ValidationReport {
  /** The login the token belongs to; null where the provider has no such notion (plain git). */
  account: string | null;
  /** Permissions the token lacks, each in words an admin can act on. Empty when all are there. */
  missingPermissions: string[];
}

/** The ref an adapter reads as the default branch when its listing does not name the branch. */
export const DEFAULT_BRANCH_REF = 'HEAD';

export interface RepoInfo {
  owner: string;
  name: string;
  /** The page a person opens in a browser. */
  htmlUrl: string;
  /**
   * The default branch; null for an empty repository. `DEFAULT_BRANCH_REF` where the provider's
   * listing does not name it: the adapter reads that ref as the repository's default branch.
   */
  defaultBranch: string | null;
  private: boolean;
  /** Topics as the listing reported them; null where the provider has none. */
  topics: string[] | null;
  /**
   * The provider's own stamp of the repository's last change, exactly as its listing gave it
   * (GitHub `pushed_at`, GitLab `last_activity_at`, Bitbucket Cloud `updated_on`, Gitea
   * `updated_at`); only compared for equality, never parsed. Null where the listing carries
   * none (Bitbucket Data Center, plain git): such a repository must be read every time.
   */
  changedAt: string | null;
}

export interface RepoListOptions {
  /** List only repositories with this topic, where the provider can filter on it. */
  topic?: string;
}

export type FileRead =
  | { status: 'ok'; content: Buffer; etag: string | null }
  | { status: 'not_modified' }
  | { status: 'not_found' };

export interface TagInfo {
  name: string;
  commitSha: string;
}

/** The remote git talks to, and the credential it offers there over HTTP Basic auth. */
export interface GitRemote {
  /** An `https://` (or loopback `http://`) URL with no credentials in it. */
  url: string;
  username: string;
  password: string;
  /**
   * How git must send the credential. Absent or `basic`: HTTP Basic with `username` and
   * `password`. `bearer`: `Authorization: Bearer <password>` (the username is unused), for tokens
   * a provider refuses in Basic auth, such as Bitbucket Data Center project and repository
   * HTTP access tokens.
   */
  authScheme?: 'basic' | 'bearer';
}

/**
 * One provider. Every failure is thrown as a `GatewayError` with a normalized code, built so
 * that no token, header, credentialed URL or response body passes through it.
 */
export interface ProviderAdapter {
  readonly id: ProviderId;
  /** Whether the provider has topics; where it has none, discovery reads manifests only. */
  readonly supportsTopics: boolean;
  /** Whether the provider has an API to list repositories (plain git has none). */
  readonly supportsListing: boolean;

  validate(): Promise<ValidationReport>;
  /** Creates a repository under the configured owner. Throws `repo_name_taken` for a taken name. */
  createRepo(input: {
    name: string;
    visibility: Visibility;
    description?: string;
  }): Promise<RepoInfo>;
  /** The repository, or null when the owner has none by that name. */
  getRepo(name: string): Promise<RepoInfo | null>;
  /** Adds the topic; answers false where the provider has no topics. */
  addTopic(repo: string, topic: string): Promise<boolean>;
  /** Every repository of the owner, page after page. */
  listRepos(options?: RepoListOptions): AsyncIterable<RepoInfo>;
  /** One file at a ref, conditional on `etag` where the provider supports it. */
  readFile(repo: string, path: string, ref: string, etag?: string | null): Promise<FileRead>;
  /** A tar.gz of the tag with exactly one top-level folder (whatever its name). */
  downloadArchive(repo: string, tag: string): Promise<Readable>;
  listTags(repo: string): Promise<TagInfo[]>;
  /** The remote of a repository and the credential form this provider expects for the token. */
  gitRemote(repo: string): GitRemote;
}

/** Options shared by every adapter's factory. */
export interface ProviderOptions {
  /** Timeout of one REST request, in ms. */
  timeoutMs?: number;
  /** Upper bound of the time spent waiting on rate limits within one call, in ms. */
  maxRateLimitWaitMs?: number;
  userAgent?: string;
}
