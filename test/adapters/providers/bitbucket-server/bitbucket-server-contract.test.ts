import { createBitbucketServerAdapter } from '../../../../adapters/providers/bitbucket-server/bitbucket-server-adapter.js';
import {
  startBitbucketServerDouble,
  type BitbucketServerDouble,
} from '../../../doubles/bitbucket-server/bitbucket-server-double.js';
import { describeProviderContract } from '../provider-contract.js';

// The suite hands every adapter the bare secret. A personal HTTP access token goes to git as the
// Basic password of its own user, so an admin saves it as `username:token`; the harness turns
// the secret into that form, and the suite still checks git gets the bare secret as password.
// Bitbucket's raw file endpoint answers no conditional requests, and its repository listing
// carries no time of any kind.
describeProviderContract('bitbucket-server', {
  startDouble: startBitbucketServerDouble,
  makeAdapter(conn, options, double) {
    const server = double as BitbucketServerDouble;
    return createBitbucketServerAdapter(
      { ...conn, token: server.connectionToken(conn.token) },
      options,
    );
  },
  conditionalReads: false,
  changeStamps: false,
});
