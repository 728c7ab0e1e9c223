import { join } from 'node:path';
import { GatewayError } from '../core/errors.js';
import { isSafeId } from '../core/ids.js';

/** The bare repository of one app: `<dataDir>/mirrors/<workspaceId>/<appId>.git`. */
export function mirrorPath(dataDir: string, workspaceId: string, appId: string): string {
  // Ids become path segments here, so anything but a generated id is refused before it can
  // name a folder outside the mirrors tree.
  if (!isSafeId(workspaceId) || !isSafeId(appId)) {
    throw new GatewayError('invalid_request', 'The workspace or app id is not valid.');
  }
  return join(dataDir, 'mirrors', workspaceId, `${appId}.git`);
}
