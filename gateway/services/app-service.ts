import { GatewayError } from '../../core/errors.js';
import { isSafeId, newId } from '../../core/ids.js';
import { disabledSourceControl, type AppRecord, type BuildRecord } from '../../core/model.js';
import type { WorkspaceReader, WorkspaceStore } from '../../adapters/store/store-port.js';

/** Longest app name, in characters, after trimming. */
export const MAX_APP_NAME_LENGTH = 200;

/** C0 controls, DEL and C1 controls: names are shown in UIs and written into manifests. */
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}

/** Trims an app name and checks it: 1 to 200 characters, no control characters. */
export function normalizeAppName(value: unknown): string {
  if (typeof value !== 'string')
    throw new GatewayError('invalid_request', 'Field name must be a string.');
  const name = value.trim();
  if (name.length === 0) throw new GatewayError('invalid_request', 'Field name must not be empty.');
  if ([...name].length > MAX_APP_NAME_LENGTH) {
    throw new GatewayError(
      'invalid_request',
      `Field name must be at most ${MAX_APP_NAME_LENGTH} characters.`,
    );
  }
  if (hasControlCharacter(name)) {
    throw new GatewayError('invalid_request', 'Field name must not contain control characters.');
  }
  return name;
}

export interface AppServiceOptions {
  /** The clock; for tests. */
  now?: () => Date;
}

/**
 * Apps of one workspace. Read methods take the workspace's read-only view, changes the
 * read-write one: which view a route holds decides what it can do.
 */
export interface AppService {
  create(workspace: WorkspaceStore, input: { name: unknown }): Promise<AppRecord>;
  list(reader: WorkspaceReader): Promise<AppRecord[]>;
  /** The app, or `not_found` (a malformed id and another workspace's id answer the same). */
  get(reader: WorkspaceReader, appId: string): Promise<AppRecord>;
  /** The app's builds, newest first. */
  listBuilds(reader: WorkspaceReader, appId: string): Promise<BuildRecord[]>;
}

export function createAppService(options: AppServiceOptions = {}): AppService {
  const now = options.now ?? (() => new Date());

  const get = async (reader: WorkspaceReader, appId: string): Promise<AppRecord> => {
    if (!isSafeId(appId)) throw new GatewayError('not_found');
    const app = await reader.getApp(appId);
    if (app === null) throw new GatewayError('not_found');
    return app;
  };

  return {
    async create(workspace, input) {
      const name = normalizeAppName(input.name);
      const at = now().toISOString();
      const app: AppRecord = {
        workspaceId: workspace.workspaceId,
        id: newId(),
        name,
        createdAt: at,
        updatedAt: at,
        draft: null,
        sourceControl: disabledSourceControl(),
        installedFrom: null,
      };
      await workspace.createApp(app);
      return app;
    },

    list: (reader) => reader.listApps(),

    get,

    async listBuilds(reader, appId) {
      await get(reader, appId);
      return reader.listBuilds(appId);
    },
  };
}
