import type { DeploymentMode, ProviderId, Role, SyncStatus } from '../../core/model.js';
import type { AppView, BuildView, VersionView } from '../../gateway/services/views.js';

/** The JSON shapes of the gateway's HTTP API v1 that the pages read. */
export type { AppView, BuildView, VersionView, DeploymentMode, ProviderId, Role, SyncStatus };

export interface SessionView {
  sub: string;
  role: Role;
  workspaceId: string;
  mode: DeploymentMode;
}

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

export interface AuditEvent {
  id: string;
  at: string;
  actor: string;
  action: string;
  appId: string | null;
  outcome: string;
  code: string | null;
}

export type HintType =
  'app.updated' | 'source-control.status' | 'settings.updated' | 'catalog.updated';

export interface HintEvent {
  type: HintType;
  appId: string | null;
  version: number | null;
  status: SyncStatus | null;
  at: string;
}
