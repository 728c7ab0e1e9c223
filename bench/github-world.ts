import { startGitHubDouble, type GitHubDouble } from '../test/doubles/github/github-double.js';
import {
  startSourceControlHarness,
  type SourceControlHarness,
} from '../test/support/source-control-harness.js';

/**
 * A gateway in `local` mode connected, as an admin would connect it, to a GitHub Enterprise
 * double whose organization `owner` accepts `token`.
 */
export async function startGitHubWorld(
  owner: string,
  token: string,
): Promise<{ h: SourceControlHarness; double: GitHubDouble }> {
  const double = await startGitHubDouble('ghes');
  double.addOwner(owner, 'org');
  double.addToken({ value: token, login: 'bench-admin' });
  const h = await startSourceControlHarness({ env: { DEPLOYMENT_MODE: 'local' } });
  const saved = await h.gateway.request('/api/v1/source-control', {
    method: 'PUT',
    token: await h.gateway.userToken({ role: 'admin' }),
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      provider: 'github',
      baseUrl: double.urls.api,
      owner,
      ownerType: 'org',
      token,
    }),
  });
  if (saved.status !== 200) {
    await h.close();
    await double.close();
    throw new Error(`connecting the double answered ${saved.status}: ${await saved.text()}`);
  }
  return { h, double };
}
