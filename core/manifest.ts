import { z } from 'zod';
import type { ProviderId } from './model.js';
import type { SourceSummary } from './source-hash.js';

export const MANIFEST_TYPE = 'second.app.export.v1';
export const TAG_PREFIX = 'second-app-v';

/** The tag of version `n`. */
export function tagOf(version: number): string {
  return `${TAG_PREFIX}${version}`;
}

/** The version number of a tag name, or null when the name is not a version tag. */
export function versionOfTag(tag: string): number | null {
  const match = /^second-app-v([1-9][0-9]{0,8})$/.exec(tag);
  return match ? Number(match[1]) : null;
}

const manifestSchema = z.object({
  type: z.literal(MANIFEST_TYPE),
  schemaVersion: z.literal(1),
  app: z.object({ name: z.string().min(1).max(200) }),
  source: z.object({
    fileCount: z.number().int().nonnegative(),
    totalBytes: z.number().int().nonnegative(),
    hash: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  }),
  sourceControl: z.object({
    provider: z.string().min(1).max(40),
    owner: z.string().min(1).max(200),
    repo: z.string().min(1).max(200),
    tag: z.string().regex(/^second-app-v[1-9][0-9]{0,8}$/),
    version: z.number().int().positive(),
    commitSha: z
      .string()
      .regex(/^[0-9a-f]{40}$/)
      .nullable(),
    availableInCatalog: z.boolean(),
  }),
});

/** The root `second-app.json` of every version (DESIGN §5). */
export type AppManifest = z.infer<typeof manifestSchema>;

export interface ManifestInput {
  appName: string;
  source: SourceSummary;
  provider: ProviderId;
  owner: string;
  repo: string;
  version: number;
  availableInCatalog: boolean;
}

/** The manifest as committed: a commit cannot name its own SHA, so `commitSha` is null. */
export function buildManifest(input: ManifestInput): AppManifest {
  return {
    type: MANIFEST_TYPE,
    schemaVersion: 1,
    app: { name: input.appName },
    source: {
      fileCount: input.source.fileCount,
      totalBytes: input.source.totalBytes,
      hash: input.source.hash,
    },
    sourceControl: {
      provider: input.provider,
      owner: input.owner,
      repo: input.repo,
      tag: tagOf(input.version),
      version: input.version,
      commitSha: null,
      availableInCatalog: input.availableInCatalog,
    },
  };
}

/** The committed bytes of a manifest: two-space JSON with a final newline. */
export function serializeManifest(manifest: AppManifest): Buffer {
  return Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8');
}

/** Parses a manifest read from a repository; null when it is not valid JSON of the right shape. */
export function parseManifest(content: Buffer | string): AppManifest | null {
  let value: unknown;
  try {
    value = JSON.parse(typeof content === 'string' ? content : content.toString('utf8'));
  } catch {
    return null;
  }
  const parsed = manifestSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}
