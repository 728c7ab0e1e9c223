import { createGiteaAdapter } from '../../../../adapters/providers/gitea/gitea-adapter.js';
import { startGiteaDouble } from '../../../doubles/gitea/gitea-double.js';
import { describeProviderContract } from '../provider-contract.js';

describeProviderContract('gitea', {
  startDouble: startGiteaDouble,
  makeAdapter: (conn, options) => createGiteaAdapter(conn, options),
});
