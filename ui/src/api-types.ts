import type { DeploymentMode, ProviderId, Role, SyncStatus } from '../../core/model.js';
import type { AppView, BuildView, VersionView } from '../../gateway/services/views.js';

/** The JSON shapes of the gateway's HTTP API v1 that the pages read. */
export type { AppView, BuildView, VersionView, DeploymentMode, ProviderId, Role, SyncStatus };

/** `GET /api/v1/session`: who is signed in, and the gateway's deployment mode. */
export interface SessionView {
  sub: string;
  role: Role;
  workspaceId: string;
  mode: DeploymentMode;
}

/** `{settings}` of `GET/PUT /api/v1/source-control`; the token itself is never in it. */
export interface SettingsView {
  connected: boolean;
  provider: ProviderId | null;
  baseUrl: string | null;
  owner: string | null;
  ownerType: 'user' | 'org' | null;
  repoPrefix: string | null;
  visibility: 'private' | 'public' | null;
  storeAppSource: boolean;
  token: { set: boolean; updatedAt: string | null; updatedBy: string | null };
  account: string | null;
  missingPermissions: string[];
  validatedAt: string | null;
}

/** The body of a settings save; an absent token keeps the stored one. */
export interface SettingsInput {
  provider?: ProviderId;
  baseUrl?: string | null;
  owner?: string;
  ownerType?: 'user' | 'org';
  token?: string;
  repoPrefix?: string;
  visibility?: 'private' | 'public';
  storeAppSource?: boolean;
}

/** One repository of Available Apps (`GET /api/v1/catalog`). */
export interface CatalogEntry {
  repo: string;
  owner: string;
  appName: string | null;
  version: number | null;
  tag: string | null;
  commitSha: string | null;
  installedAppId: string | null;
  installedVersion: number | null;
  updateAvailable: boolean;
  error: { code: string; message: string } | null;
}

/** One audit record (`GET /api/v1/audit`). */
export interface AuditEvent {
  id: string;
  at: string;
  actor: string;
  action: string;
  appId: string | null;
  outcome: string;
  code: string | null;
}

/** The kinds of realtime hints on `GET /api/v1/events`. */
export type HintType =
  'app.updated' | 'source-control.status' | 'settings.updated' | 'catalog.updated';

/** A realtime hint: what changed, never the change itself. */
export interface HintEvent {
  type: HintType;
  appId: string | null;
  version: number | null;
  status: SyncStatus | null;
  at: string;
}
