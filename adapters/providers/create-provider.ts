import type { Logger } from 'pino';
import { createBitbucketCloudAdapter } from './bitbucket-cloud/bitbucket-cloud-adapter.js';
import { createBitbucketServerAdapter } from './bitbucket-server/bitbucket-server-adapter.js';
import { createGitAdapter } from './git/git-adapter.js';
import { createGiteaAdapter } from './gitea/gitea-adapter.js';
import { createGitHubAdapter } from './github/github-adapter.js';
import { createGitLabAdapter } from './gitlab/gitlab-adapter.js';
import type { ProviderAdapter, ProviderConnection, ProviderOptions } from './provider-port.js';

/** The adapter of a connection's provider (DESIGN §7). */
export function createProvider(
  connection: ProviderConnection,
  options: ProviderOptions & { logger?: Logger } = {},
): ProviderAdapter {
  switch (connection.provider) {
    case 'github':
      return createGitHubAdapter(connection, options);
    case 'gitlab':
      return createGitLabAdapter(connection, options);
    case 'bitbucket-cloud':
      return createBitbucketCloudAdapter(connection, options);
    case 'bitbucket-server':
      return createBitbucketServerAdapter(connection, options);
    case 'gitea':
      return createGiteaAdapter(connection, options);
    case 'git':
      return createGitAdapter(connection, options);
  }
}
