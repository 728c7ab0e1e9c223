import { createGitLabAdapter } from '../../../../adapters/providers/gitlab/gitlab-adapter.js';
import { startGitLabDouble } from '../../../doubles/gitlab/gitlab-double.js';
import { describeProviderContract } from '../provider-contract.js';

// A self-managed instance: the admin types the host, and the double is one.
describeProviderContract('GitLab', {
  startDouble: () => startGitLabDouble(),
  makeAdapter: (conn, options) => createGitLabAdapter(conn, options),
});
