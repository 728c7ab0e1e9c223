/** The longest tag message kept, in bytes (DESIGN §5). */
export const TAG_MESSAGE_MAX_BYTES = 16 * 1024;

/**
 * A build summary as a tag message: control characters other than newline and tab removed,
 * cut to 16 KiB on a character boundary.
 */
export function tagMessageOf(summary: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  const clean = summary.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '');
  const bytes = Buffer.from(clean, 'utf8');
  if (bytes.length <= TAG_MESSAGE_MAX_BYTES) return clean;

  // Decoding a cut buffer may end in a partial character; drop it rather than emit U+FFFD.
  let cut = bytes.subarray(0, TAG_MESSAGE_MAX_BYTES).toString('utf8');
  if (cut.endsWith('\ufffd')) cut = cut.slice(0, -1);
  return cut;
}

/** The first line of a summary for a commit subject, at most 72 characters. */
export function commitSubjectOf(summary: string, version: number): string {
  const first =
    tagMessageOf(summary)
      .split('\n')
      .find((line) => line.trim() !== '') ?? '';
  const subject = first.replace(/\t/g, ' ').trim();
  if (!subject) return `Version ${version}`;
  return subject.length > 72 ? `${subject.slice(0, 71)}…` : subject;
}
