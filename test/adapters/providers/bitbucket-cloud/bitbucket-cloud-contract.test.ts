import { createBitbucketCloudAdapter } from '../../../../adapters/providers/bitbucket-cloud/bitbucket-cloud-adapter.js';
import {
  startBitbucketCloudDouble,
  type BitbucketCloudDouble,
} from '../../../doubles/bitbucket-cloud/bitbucket-cloud-double.js';
import { describeProviderContract } from '../provider-contract.js';

// The suite hands every adapter the bare secret. A Bitbucket Cloud admin saves an API token as
// `email:token` (REST needs the account email), so the harness turns the secret into that form;
// git still gets the bare secret as its password, which the suite checks.
describeProviderContract('bitbucket-cloud', {
  startDouble: startBitbucketCloudDouble,
  makeAdapter(conn, options, double) {
    const cloud = double as BitbucketCloudDouble;
    return createBitbucketCloudAdapter(
      { ...conn, token: cloud.connectionToken(conn.token) },
      { ...options, apiUrl: cloud.apiUrl, webUrl: cloud.webUrl },
    );
  },
});
