/**
 * JSON bodies the GitHub double answers with, shaped after GitHub's published OpenAPI description
 * (`@octokit/openapi`, api.github.com): every property the schema marks required is present.
 * test/doubles/github/github-double-openapi.test.ts holds the double to that.
 */

/** Where the double's hosts are, for the URLs inside bodies. */
export interface GitHubUrls {
  /** The REST API root, e.g. `http://127.0.0.1:4000` or `http://127.0.0.1:4000/api/v3`. */
  api: string;
  /** The web and git host, e.g. `http://127.0.0.1:4001`. */
  web: string;
}

export interface AccountRecord {
  id: number;
  login: string;
  type: 'User' | 'Organization';
}

export interface RepoRecord {
  id: number;
  owner: AccountRecord;
  name: string;
  private: boolean;
  topics: string[];
  description: string;
  createdAt: string;
  /** When a push last landed: the creation time until one does (as GitHub answers it). */
  pushedAt: string;
}

const STAMP = '2024-01-01T00:00:00Z';

/** The `simple-user` schema: the owner inside repositories. */
export function simpleUser(urls: GitHubUrls, account: AccountRecord): Record<string, unknown> {
  const api = `${urls.api}/users/${account.login}`;
  return {
    login: account.login,
    id: account.id,
    node_id: nodeId('U', account.id),
    avatar_url: `${urls.web}/avatars/${account.login}`,
    gravatar_id: '',
    url: api,
    html_url: `${urls.web}/${account.login}`,
    followers_url: `${api}/followers`,
    following_url: `${api}/following{/other_user}`,
    gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/subscriptions`,
    organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`,
    events_url: `${api}/events{/privacy}`,
    received_events_url: `${api}/received_events`,
    type: account.type,
    site_admin: false,
  };
}

/** The `public-user` schema (GET /users/{username}). */
export function publicUser(urls: GitHubUrls, account: AccountRecord, publicRepos: number) {
  return {
    ...simpleUser(urls, account),
    name: account.login,
    company: null,
    blog: '',
    location: null,
    email: null,
    hireable: null,
    bio: null,
    public_repos: publicRepos,
    public_gists: 0,
    followers: 0,
    following: 0,
    created_at: STAMP,
    updated_at: STAMP,
  };
}

/** The `private-user` schema (GET /user). */
export function privateUser(urls: GitHubUrls, account: AccountRecord, repos: RepoRecord[]) {
  const privateCount = repos.filter((r) => r.private).length;
  return {
    ...publicUser(urls, account, repos.length - privateCount),
    private_gists: 0,
    total_private_repos: privateCount,
    owned_private_repos: privateCount,
    disk_usage: 0,
    collaborators: 0,
    two_factor_authentication: true,
  };
}

/** The `organization-full` schema (GET /orgs/{org}). */
export function organizationFull(urls: GitHubUrls, org: AccountRecord, publicRepos: number) {
  const api = `${urls.api}/orgs/${org.login}`;
  return {
    login: org.login,
    id: org.id,
    node_id: nodeId('O', org.id),
    url: api,
    repos_url: `${api}/repos`,
    events_url: `${api}/events`,
    hooks_url: `${api}/hooks`,
    issues_url: `${api}/issues`,
    members_url: `${api}/members{/member}`,
    public_members_url: `${api}/public_members{/member}`,
    avatar_url: `${urls.web}/avatars/${org.login}`,
    description: null,
    is_verified: false,
    html_url: `${urls.web}/${org.login}`,
    has_organization_projects: true,
    has_repository_projects: true,
    public_repos: publicRepos,
    public_gists: 0,
    followers: 0,
    following: 0,
    type: 'Organization',
    created_at: STAMP,
    updated_at: STAMP,
    archived_at: null,
  };
}

/** The `minimal-repository` schema (listings). */
export function minimalRepository(urls: GitHubUrls, repo: RepoRecord): Record<string, unknown> {
  const fullName = `${repo.owner.login}/${repo.name}`;
  const api = `${urls.api}/repos/${fullName}`;
  return {
    id: repo.id,
    node_id: nodeId('R', repo.id),
    name: repo.name,
    full_name: fullName,
    private: repo.private,
    visibility: repo.private ? 'private' : 'public',
    owner: simpleUser(urls, repo.owner),
    html_url: `${urls.web}/${fullName}`,
    description: repo.description || null,
    fork: false,
    url: api,
    archive_url: `${api}/{archive_format}{/ref}`,
    assignees_url: `${api}/assignees{/user}`,
    blobs_url: `${api}/git/blobs{/sha}`,
    branches_url: `${api}/branches{/branch}`,
    collaborators_url: `${api}/collaborators{/collaborator}`,
    comments_url: `${api}/comments{/number}`,
    commits_url: `${api}/commits{/sha}`,
    compare_url: `${api}/compare/{base}...{head}`,
    contents_url: `${api}/contents/{+path}`,
    contributors_url: `${api}/contributors`,
    deployments_url: `${api}/deployments`,
    downloads_url: `${api}/downloads`,
    events_url: `${api}/events`,
    forks_url: `${api}/forks`,
    git_commits_url: `${api}/git/commits{/sha}`,
    git_refs_url: `${api}/git/refs{/sha}`,
    git_tags_url: `${api}/git/tags{/sha}`,
    hooks_url: `${api}/hooks`,
    issue_comment_url: `${api}/issues/comments{/number}`,
    issue_events_url: `${api}/issues/events{/number}`,
    issues_url: `${api}/issues{/number}`,
    keys_url: `${api}/keys{/key_id}`,
    labels_url: `${api}/labels{/name}`,
    languages_url: `${api}/languages`,
    merges_url: `${api}/merges`,
    milestones_url: `${api}/milestones{/number}`,
    notifications_url: `${api}/notifications{?since,all,participating}`,
    pulls_url: `${api}/pulls{/number}`,
    releases_url: `${api}/releases{/id}`,
    stargazers_url: `${api}/stargazers`,
    statuses_url: `${api}/statuses/{sha}`,
    subscribers_url: `${api}/subscribers`,
    subscription_url: `${api}/subscription`,
    tags_url: `${api}/tags`,
    teams_url: `${api}/teams`,
    trees_url: `${api}/git/trees{/sha}`,
    topics: repo.topics,
    default_branch: 'main',
    created_at: repo.createdAt,
    updated_at: repo.createdAt,
    pushed_at: repo.pushedAt,
  };
}

/** The `full-repository` schema (GET /repos/{owner}/{repo}, creation answers). */
export function fullRepository(urls: GitHubUrls, repo: RepoRecord): Record<string, unknown> {
  return {
    ...repositoryExtras(urls, repo),
    network_count: 0,
    subscribers_count: 0,
  };
}

/** The `repository` schema (GET /user/repos). */
export function repository(urls: GitHubUrls, repo: RepoRecord): Record<string, unknown> {
  return repositoryExtras(urls, repo);
}

function repositoryExtras(urls: GitHubUrls, repo: RepoRecord): Record<string, unknown> {
  const fullName = `${repo.owner.login}/${repo.name}`;
  const gitHost = new URL(urls.web).host;
  return {
    ...minimalRepository(urls, repo),
    clone_url: `${urls.web}/${fullName}.git`,
    git_url: `git://${gitHost}/${fullName}.git`,
    ssh_url: `git@${gitHost}:${fullName}.git`,
    svn_url: `${urls.web}/${fullName}`,
    mirror_url: null,
    homepage: null,
    language: null,
    size: 0,
    forks: 0,
    forks_count: 0,
    stargazers_count: 0,
    watchers: 0,
    watchers_count: 0,
    open_issues: 0,
    open_issues_count: 0,
    has_issues: true,
    has_projects: true,
    has_wiki: true,
    has_pages: false,
    has_discussions: false,
    has_downloads: true,
    archived: false,
    disabled: false,
    license: null,
    allow_forking: true,
    is_template: false,
    web_commit_signoff_required: false,
  };
}

/** The `content-file` schema (GET /repos/{owner}/{repo}/contents/{path}). */
export function contentFile(
  urls: GitHubUrls,
  repo: RepoRecord,
  path: string,
  ref: string,
  file: { content: Buffer; blobSha: string },
) {
  const fullName = `${repo.owner.login}/${repo.name}`;
  const self = `${urls.api}/repos/${fullName}/contents/${path}?ref=${encodeURIComponent(ref)}`;
  const gitUrl = `${urls.api}/repos/${fullName}/git/blobs/${file.blobSha}`;
  const htmlUrl = `${urls.web}/${fullName}/blob/${ref}/${path}`;
  return {
    type: 'file',
    encoding: 'base64',
    size: file.content.length,
    name: path.split('/').pop() ?? path,
    path,
    // GitHub wraps the base64 text at 60 characters with newlines; clients must accept that.
    content: (file.content.toString('base64').match(/.{1,60}/g) ?? []).join('\n') + '\n',
    sha: file.blobSha,
    url: self,
    git_url: gitUrl,
    html_url: htmlUrl,
    download_url: `${urls.web}/raw/${fullName}/${ref}/${path}`,
    _links: { self, git: gitUrl, html: htmlUrl },
  };
}

/** The `tag` schema (GET /repos/{owner}/{repo}/tags). */
export function tag(urls: GitHubUrls, repo: RepoRecord, name: string, commitSha: string) {
  const api = `${urls.api}/repos/${repo.owner.login}/${repo.name}`;
  return {
    name,
    commit: { sha: commitSha, url: `${api}/commits/${commitSha}` },
    zipball_url: `${api}/zipball/refs/tags/${name}`,
    tarball_url: `${api}/tarball/refs/tags/${name}`,
    node_id: nodeId('T', commitSha.length + name.length),
  };
}

/** GitHub's error body: a message and the documentation page. */
export function errorBody(message: string, docs = 'https://docs.github.com/rest', extra = {}) {
  return { message, documentation_url: docs, ...extra };
}

function nodeId(kind: string, id: number): string {
  return Buffer.from(`${kind}_${id}`).toString('base64');
}
