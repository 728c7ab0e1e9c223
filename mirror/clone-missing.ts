import { randomBytes } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { GitRemote } from '../adapters/providers/provider-port.js';
import { GatewayError } from '../core/errors.js';
import { versionOfTag } from '../core/manifest.js';
import { ensureMirror, mirrorExists } from './create-mirror.js';
import { remoteGitError } from './git-failure.js';
import { runGit } from './git-runner.js';
import type { MirrorContext } from './mirror-context.js';
import { remoteAccess } from './remote-access.js';

export interface CloneMissingInput {
  remote: GitRemote;
  /** Fetch only this version tag, one commit deep; absent: `main` and every version tag. */
  tag?: string;
  timeoutMs: number;
}

/**
 * Rebuilds a missing mirror from the remote. It is fetched under a temporary name and renamed
 * into place, so a crash leaves no mirror rather than an empty one. Answers false when the
 * mirror was there already.
 */
export async function cloneMissing(ctx: MirrorContext, input: CloneMissingInput): Promise<boolean> {
  if (await mirrorExists(ctx.gitDir)) return false;
  if (input.tag !== undefined && versionOfTag(input.tag) === null) {
    throw new GatewayError('invalid_request', 'Only version tags are fetched on their own.');
  }
  const access = remoteAccess(input.remote, input.timeoutMs);

  const staging = join(
    dirname(ctx.gitDir),
    `.${basename(ctx.gitDir)}.clone-${randomBytes(6).toString('hex')}`,
  );
  try {
    await ensureMirror(staging);
    const fetch = (specs: string[], extra: string[] = []) =>
      runGit({
        gitDir: staging,
        args: [
          'fetch',
          '--quiet',
          '--no-tags',
          '--no-write-fetch-head',
          ...extra,
          '--',
          access.url,
          ...specs,
        ],
        env: access.env,
        allowHttp: access.allowHttp,
        timeoutMs: input.timeoutMs,
      });

    const tagsSpec = 'refs/tags/second-app-v*:refs/tags/second-app-v*';
    let exit = input.tag
      ? await fetch([`refs/tags/${input.tag}:refs/tags/${input.tag}`], ['--depth=1'])
      : await fetch(['refs/heads/main:refs/heads/main', tagsSpec]);
    if (
      !input.tag &&
      exit.code !== 0 &&
      /couldn't find remote ref refs\/heads\/main/i.test(exit.stderr)
    ) {
      exit = await fetch([tagsSpec]);
    }
    if (exit.code !== 0 && /couldn't find remote ref/i.test(exit.stderr)) {
      throw new GatewayError('not_found', `The remote has no ${input.tag ?? 'main branch'}.`);
    }
    if (exit.code !== 0)
      throw remoteGitError('rebuilding the mirror from the remote', exit, access.secrets);

    await rename(staging, ctx.gitDir);
    ctx.logger.info({ tag: input.tag ?? null }, 'rebuilt the missing app mirror from the remote');
    return true;
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    if (await mirrorExists(ctx.gitDir)) return false;
    throw err;
  }
}
