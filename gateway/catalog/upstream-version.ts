import { GatewayError } from '../../core/errors.js';
import { parseManifest, type AppManifest } from '../../core/manifest.js';
import { MANIFEST_PATH } from '../../core/source-hash.js';
import type { ProviderAdapter } from '../../adapters/providers/provider-port.js';

/** The version a repository offers: its manifest on the default branch and the tag's commit. */
export interface UpstreamVersion {
  repo: string;
  manifest: AppManifest;
  tag: string;
  version: number;
  commitSha: string;
}

const REPO_NAME = /^[A-Za-z0-9_.-]{1,100}$/;

/** Checks a repository name sent by a client: one path segment a provider could hold. */
export function checkRepoName(value: unknown): string {
  if (typeof value !== 'string' || !REPO_NAME.test(value) || value.startsWith('.')) {
    throw new GatewayError('invalid_request', 'Field repo must be a repository name.');
  }
  return value;
}

/**
 * Reads what a repository offers in Available Apps now: the manifest on its default branch
 * (which must be valid and available) and the commit its version tag points at, from the
 * provider's tag list, since the committed manifest cannot name its own commit.
 */
export async function readUpstreamVersion(
  provider: ProviderAdapter,
  repo: string,
): Promise<UpstreamVersion> {
  const info = await provider.getRepo(repo);
  if (info === null || info.defaultBranch === null) {
    throw new GatewayError('not_found', 'The configured owner has no such app repository.');
  }

  const read = await provider.readFile(repo, MANIFEST_PATH, info.defaultBranch);
  if (read.status !== 'ok') {
    throw new GatewayError('not_found', 'The repository has no second-app.json; it is not an app.');
  }
  const manifest = parseManifest(read.content);
  if (manifest === null) throw new GatewayError('invalid_manifest');
  if (!manifest.sourceControl.availableInCatalog) {
    throw new GatewayError('not_found', 'The repository is not offered in Available Apps.');
  }

  const tag = manifest.sourceControl.tag;
  const tagged = (await provider.listTags(repo)).find((candidate) => candidate.name === tag);
  if (tagged === undefined) {
    throw new GatewayError(
      'not_found',
      `The repository has no tag ${tag}, which its manifest names.`,
    );
  }
  return {
    repo: info.name,
    manifest,
    tag,
    version: manifest.sourceControl.version,
    commitSha: tagged.commitSha,
  };
}
