import { GatewayError } from '../core/errors.js';
import { localGitError } from './git-failure.js';
import { runGit } from './git-runner.js';
import { signatureAt } from './identity.js';
import { tagMessageOf } from './tag-message.js';

export interface TagObjectInput {
  gitDir: string;
  commitSha: string;
  tag: string;
  summary: string;
  createdAt: string;
  timeoutMs: number;
}

/** The bytes of an annotated tag object; the same input always gives the same object. */
export function tagObjectText(input: Omit<TagObjectInput, 'gitDir' | 'timeoutMs'>): string {
  const message = tagMessageOf(input.summary);
  const body = message === '' || message.endsWith('\n') ? message : `${message}\n`;
  return [
    `object ${input.commitSha}`,
    'type commit',
    `tag ${input.tag}`,
    `tagger ${signatureAt(input.createdAt)}`,
    '',
    body,
  ].join('\n');
}

/** Writes the annotated tag object with `git mktag` (which checks it) and answers its SHA. */
export async function writeTagObject(input: TagObjectInput): Promise<string> {
  const exit = await runGit({
    gitDir: input.gitDir,
    args: ['mktag'],
    input: tagObjectText(input),
    timeoutMs: input.timeoutMs,
  });
  if (exit.code !== 0) throw localGitError('writing the version tag', exit);

  const sha = exit.stdout.toString('utf8').trim();
  if (!/^[0-9a-f]{40}$/.test(sha))
    throw new GatewayError('internal', 'git mktag gave no object id.');
  return sha;
}
