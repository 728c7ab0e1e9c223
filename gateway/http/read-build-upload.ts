import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyRequest } from 'fastify';
import type { MultipartFile, MultipartValue } from '@fastify/multipart';
import { GatewayError } from '../../core/errors.js';
import type { SkippedEntry } from '../../core/model.js';
import { readSnapshotArchive, type ArchiveLimits } from '../ingest/read-snapshot-archive.js';
import type { StagedFile } from '../services/build-service.js';

/** Longest build summary, in bytes; the tag message of a version is capped at the same size. */
export const MAX_SUMMARY_BYTES = 16 * 1024;

/**
 * Largest snapshot upload, in bytes: the expanded cap (1 GiB) plus room for tar headers and
 * padding of 50,000 entries. Compression only makes an upload smaller.
 */
export const MAX_SNAPSHOT_UPLOAD_BYTES = 1024 * 1024 * 1024 + 64 * 1024 * 1024;

/** The whole multipart body: the snapshot, the summary and the parts' own headers. */
export const MAX_BUILD_BODY_BYTES = MAX_SNAPSHOT_UPLOAD_BYTES + 1024 * 1024;

export interface BuildUpload {
  summary: string;
  files: StagedFile[];
  skipped: SkippedEntry[];
}

/** Options handed to @fastify/multipart for the build route. */
export const BUILD_MULTIPART_LIMITS = {
  fieldSize: MAX_SUMMARY_BYTES,
  fieldNameSize: 100,
  fields: 4,
  files: 1,
  parts: 5,
  fileSize: MAX_SNAPSHOT_UPLOAD_BYTES,
  headerPairs: 20,
};

/**
 * Reads a `done_building` upload: the `summary` field and the `snapshot` file, in either order,
 * streaming the file through the archive reader into a fresh staging folder (never the whole
 * upload in memory). `use` runs while the staged files exist; the folder is removed after it,
 * whatever happened.
 */
export async function withBuildUpload<T>(
  request: FastifyRequest,
  options: { stagingRoot: string; limits?: Partial<ArchiveLimits> },
  use: (upload: BuildUpload) => Promise<T>,
): Promise<T> {
  const { stagingRoot, limits } = options;
  if (!request.isMultipart()) {
    throw new GatewayError('invalid_request', 'The body must be multipart/form-data.');
  }
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > MAX_BUILD_BODY_BYTES)
    throw new GatewayError('too_large');

  const stagingDir = await makeStagingDir(stagingRoot);

  try {
    // The iterator pipes the body into the parser on its first step, which the loop below takes
    // in this same tick, before the counting listener could set the body flowing on its own.
    const parts = request.parts();
    capBodyBytes(request);

    let summary: string | null = null;
    let archive: Awaited<ReturnType<typeof readSnapshotArchive>> | null = null;

    for await (const part of parts) {
      if (part.type === 'field') {
        if (part.fieldname === 'summary') summary = summaryOf(part);
        continue;
      }

      if (part.fieldname !== 'snapshot' || archive !== null) {
        part.file.resume();
        throw new GatewayError(
          'invalid_request',
          'The only file part accepted is one named snapshot.',
        );
      }
      archive = await readSnapshotArchive(part.file, { mode: 'worker', stagingDir, limits });
      throwIfTruncated(part);
    }

    if (archive === null)
      throw new GatewayError('invalid_request', 'The file part snapshot is missing.');
    if (summary === null)
      throw new GatewayError('invalid_request', 'The field summary is missing.');

    return await use({ summary, files: archive.files, skipped: archive.skipped });
  } catch (error) {
    throw translateMultipartError(error);
  } finally {
    await rm(stagingDir, { recursive: true, force: true });
  }
}

function summaryOf(part: MultipartValue): string {
  if (part.valueTruncated) {
    throw new GatewayError('too_large', `The summary is longer than ${MAX_SUMMARY_BYTES} bytes.`);
  }
  return String(part.value);
}

function throwIfTruncated(part: MultipartFile): void {
  if (part.file.truncated) throw new GatewayError('too_large');
}

/**
 * Counts the raw body as it streams and cuts the request off past the cap; the parser's own
 * limits bound each part, this bounds the preamble and everything between parts too.
 */
function capBodyBytes(request: FastifyRequest): void {
  let received = 0;
  request.raw.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received <= MAX_BUILD_BODY_BYTES) return;
    // Stop feeding the parser and fail its iteration; the route then answers 413.
    request.raw.unpipe();
    request.raw.pause();
    request.raw.emit('error', new GatewayError('too_large'));
  });
}

const LIMIT_CODES = new Set([
  'FST_REQ_FILE_TOO_LARGE',
  'FST_PARTS_LIMIT',
  'FST_FILES_LIMIT',
  'FST_FIELDS_LIMIT',
]);

function translateMultipartError(error: unknown): unknown {
  if (error instanceof GatewayError) return error;
  const code = (error as { code?: string }).code;
  if (code !== undefined && LIMIT_CODES.has(code))
    return new GatewayError('too_large', undefined, { cause: error });
  if (
    error instanceof Error &&
    /multipart|boundary|part terminated|unexpected end/i.test(error.message)
  ) {
    return new GatewayError('invalid_request', 'The multipart body is not valid.', {
      cause: error,
    });
  }
  return error;
}

/** A fresh staging folder; a disk with no room for one answers `storage_full`. */
async function makeStagingDir(stagingRoot: string): Promise<string> {
  try {
    await mkdir(stagingRoot, { recursive: true, mode: 0o700 });
    return await mkdtemp(join(stagingRoot, 'build-'));
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (code === 'ENOSPC' || code === 'EDQUOT')
      throw new GatewayError('storage_full', undefined, { cause: error });
    throw error;
  }
}
