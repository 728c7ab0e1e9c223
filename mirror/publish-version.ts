import type { GitRemote } from '../adapters/providers/provider-port.js';
import { faultPoint } from '../core/fault-point.js';
import { summarizeSource } from '../core/source-hash.js';
import type { VersionFile } from './fast-import-commit.js';
import { fetchRemote } from './fetch-remote.js';
import type { MirrorContext } from './mirror-context.js';
import { planVersion } from './plan-version.js';
import { pushRefs } from './push-refs.js';
import { writeVersion } from './write-version.js';

export interface PublishVersionInput {
  files: readonly VersionFile[];
  readBlob: (sha256: string) => Promise<Buffer>;
  /** The bytes of `second-app.json` for the version number finally chosen. */
  manifestFor: (version: number) => Buffer;
  summary: string;
  createdAt: string;
  /** The number expected (last version + 1); a taken tag moves it up. */
  version: number;
  remote: GitRemote;
  /** Timeout of each fetch and push, in ms. */
  timeoutMs: number;
  /** Called once the version is in the mirror and before the push, to record it. */
  onWritten?: (written: PublishedVersion) => Promise<void>;
}

export interface PublishedVersion {
  version: number;
  tag: string;
  commitSha: string;
  /** False when an earlier attempt had already written this version to the mirror. */
  created: boolean;
  pushed: boolean;
  /** True when the remote's main had commits the gateway did not write. */
  outsideCommits: boolean;
}

/**
 * Publishes one version end to end: fetch the remote, choose number and parent, write to the
 * mirror, let the caller record it, push branch and tag atomically. Safe to call again after a
 * failure at any step: it converges on the same version without duplicates.
 */
export async function publishVersion(
  ctx: MirrorContext,
  input: PublishVersionInput,
): Promise<PublishedVersion> {
  const remote = await fetchRemote(ctx, { remote: input.remote, timeoutMs: input.timeoutMs });
  const plan = await planVersion(ctx, {
    version: input.version,
    sourceHash: summarizeSource(input.files).hash,
    remote,
  });

  let written: PublishedVersion;
  let refs = ['main', plan.tag];
  if (plan.action === 'adopt') {
    refs = plan.push;
    written = {
      version: plan.version,
      tag: plan.tag,
      commitSha: plan.commitSha,
      created: false,
      pushed: false,
      outsideCommits: false,
    };
  } else {
    const result = await writeVersion(ctx, {
      files: input.files,
      readBlob: input.readBlob,
      manifest: input.manifestFor(plan.version),
      summary: input.summary,
      createdAt: input.createdAt,
      version: plan.version,
      parent: plan.parent,
    });
    written = {
      version: plan.version,
      ...result,
      pushed: false,
      outsideCommits: plan.outsideCommits,
    };
  }
  faultPoint('refs-moved'); // Crash-test hook: the mirror has the version, the store not yet.
  await input.onWritten?.(written);
  faultPoint('store-updated'); // Crash-test hook: recorded in the store, not yet pushed.

  await pushRefs(ctx, { remote: input.remote, refs, timeoutMs: input.timeoutMs });
  ctx.logger.info(
    { tag: written.tag, commitSha: written.commitSha },
    `pushed ${written.tag} to the remote`,
  );
  return { ...written, pushed: true };
}
