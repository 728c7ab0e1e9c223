import { startGitHubDouble, type GitHubDouble } from '../doubles/github/github-double.js';
import {
  startArchiveSwapProxy,
  type ArchiveSwapProxy,
} from '../gateway/catalog/archive-swap-proxy.js';
import {
  appFiles,
  connectGitHubEnterprise,
  manifestFor,
  OWNER,
  seedApp,
} from '../gateway/catalog/catalog-support.js';
import { pushAsOutsider } from '../gateway/restore/restore-support.js';
import type { UiStack } from './ui-stack.js';

/** A GitHub Enterprise double holding shared apps, with the UI stack's workspace connected to it. */
export interface GitHubCatalog {
  github: GitHubDouble;
  /** Stands between the gateway and the double, so a test can make chosen paths fail. */
  proxy: ArchiveSwapProxy;
  /** Seeds a repository holding version 1 of an app named `appName`, shared in Available Apps. */
  share(repo: string, appName: string): Promise<void>;
  /** Pushes version `version` of the app to its repository, as someone outside the gateway. */
  pushVersion(repo: string, version: number, appName: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts the double and connects the stack's workspace to it through the API, as an admin. The
 * plain git server cannot list repositories, so Available Apps needs a provider that can.
 */
export async function connectGitHubCatalog(stack: UiStack): Promise<GitHubCatalog> {
  const github = await startGitHubDouble('ghes');
  const proxy = await startArchiveSwapProxy(new URL(github.apiOrigin).origin);
  const close = async () => {
    await proxy.close();
    await github.close();
  };

  const token = 'ghp-ui-catalog-token-0123456789abcdef';
  github.addToken({ value: token, login: 'catalog-admin' });
  github.addOwner(OWNER, 'org');
  try {
    await connectGitHubEnterprise(stack.gateway, proxy.origin, token);
  } catch (error) {
    await close();
    throw error;
  }

  // The seeding helper asks only for the double of a catalog test's world.
  const world = { double: github } as Parameters<typeof seedApp>[0];
  return {
    github,
    proxy,
    share: (repo, appName) => seedApp(world, repo, { appName }),
    async pushVersion(repo, version, appName) {
      const files = appFiles(version);
      await pushAsOutsider(github.gitRepoPath(OWNER, repo), {
        write: { ...files, 'second-app.json': manifestFor(repo, files, { version, appName }) },
        tag: `second-app-v${version}`,
      });
    },
    close,
  };
}
