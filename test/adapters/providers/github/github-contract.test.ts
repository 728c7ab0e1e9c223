import { createGitHubAdapter } from '../../../../adapters/providers/github/github-adapter.js';
import { startGitHubDouble, type GitHubDouble } from '../../../doubles/github/github-double.js';
import { describeProviderContract } from '../provider-contract.js';

// github.com: the connection has no baseUrl, so the adapter is told where the double's
// stand-ins for api.github.com and github.com are.
describeProviderContract('GitHub (github.com)', {
  startDouble: () => startGitHubDouble('dotcom'),
  makeAdapter: (conn, options, double) =>
    createGitHubAdapter(conn, {
      ...options,
      dotComEndpoints: { api: (double as GitHubDouble).urls.api, web: double.gitOrigin },
    }),
});

// GitHub Enterprise Server: the admin types the API root, `<host>/api/v3`, and nothing else.
describeProviderContract('GitHub Enterprise Server', {
  startDouble: () => startGitHubDouble('ghes'),
  makeAdapter: (conn, options) => createGitHubAdapter(conn, options),
});
