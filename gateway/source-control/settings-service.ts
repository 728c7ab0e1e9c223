import { z } from 'zod';
import { GatewayError, isGatewayError } from '../../core/errors.js';
import {
  PROVIDER_IDS,
  type DeploymentMode,
  type ProviderId,
  type SettingsRecord,
} from '../../core/model.js';
import { checkRemoteBaseUrl } from '../../adapters/providers/remote-url.js';
import type { SecretStore } from '../../adapters/secrets/secret-port.js';
import type { WorkspaceReader, WorkspaceStore } from '../../adapters/store/store-port.js';
import { recordAudit } from '../audit/audit-log.js';
import type { EventHub } from '../events/event-hub.js';
import { DEFAULT_REPO_PREFIX, isValidRepoPrefix } from '../sync/repo-name.js';
import { PROVIDER_TOKEN_SECRET, type ProviderFactory } from './provider-session.js';

/** The body of `PUT /api/v1/source-control`: every field optional after the first save. */
export const settingsInputSchema = z
  .object({
    provider: z.enum(PROVIDER_IDS as [ProviderId, ...ProviderId[]]),
    baseUrl: z.string().max(2048).nullable(),
    owner: z
      .string()
      .min(1)
      .max(100)
      .regex(/^~?[A-Za-z0-9][A-Za-z0-9._-]*$/, 'owner may hold letters, digits, ".", "_" and "-"'),
    ownerType: z.enum(['user', 'org']),
    token: z
      .string()
      .min(1)
      .max(4096)
      .refine((t) => t.trim() === t, 'token must not start or end with white space')
      .refine(
        // eslint-disable-next-line no-control-regex -- control characters are what is refused
        (t) => !/[\u0000-\u001f\u007f]/.test(t),
        'token must not hold control characters',
      ),
    repoPrefix: z
      .string()
      .refine(
        (p) => p === '' || isValidRepoPrefix(p),
        'repoPrefix may hold lower-case letters, digits and single dashes',
      ),
    visibility: z.enum(['private', 'public']),
    storeAppSource: z.boolean(),
  })
  .partial()
  .strict();

export type SettingsInput = z.infer<typeof settingsInputSchema>;

/** Providers whose `baseUrl` must be given, for they have no public default host. */
const BASE_URL_REQUIRED: ReadonlySet<ProviderId> = new Set(['bitbucket-server', 'gitea', 'git']);

export interface SettingsServiceDeps {
  mode: DeploymentMode;
  secrets: SecretStore;
  providers: ProviderFactory;
  events: EventHub;
  remoteTimeoutMs: number;
}

/** The settings as the API shows them; the token itself is never part of it. */
export interface SettingsView {
  connected: boolean;
  provider: ProviderId | null;
  baseUrl: string | null;
  owner: string | null;
  ownerType: SettingsRecord['ownerType'] | null;
  repoPrefix: string | null;
  visibility: SettingsRecord['visibility'] | null;
  storeAppSource: boolean;
  token: SettingsRecord['token'];
  account: string | null;
  missingPermissions: string[];
  validatedAt: string | null;
}

export function settingsView(settings: SettingsRecord | null): SettingsView {
  if (!settings) {
    return {
      connected: false,
      provider: null,
      baseUrl: null,
      owner: null,
      ownerType: null,
      repoPrefix: null,
      visibility: null,
      storeAppSource: false,
      token: { set: false, updatedAt: null, updatedBy: null },
      account: null,
      missingPermissions: [],
      validatedAt: null,
    };
  }
  return {
    connected: true,
    provider: settings.provider,
    baseUrl: settings.baseUrl,
    owner: settings.owner,
    ownerType: settings.ownerType,
    repoPrefix: settings.repoPrefix,
    visibility: settings.visibility,
    storeAppSource: settings.storeAppSource,
    token: { ...settings.token },
    account: settings.account,
    missingPermissions: [...settings.missingPermissions],
    validatedAt: settings.validatedAt,
  };
}

export async function readSettings(reader: WorkspaceReader): Promise<SettingsView> {
  return settingsView(await reader.getSettings());
}

/**
 * Saves the workspace's connection: merges the body into what is stored, checks it, asks the
 * provider whether the token works for the owner, and only then writes the token and settings.
 * A refused token or an unknown owner writes nothing.
 */
export async function saveSettings(
  deps: SettingsServiceDeps,
  workspace: WorkspaceStore,
  actor: string,
  body: unknown,
): Promise<SettingsView> {
  const parsed = settingsInputSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || 'body';
    throw new GatewayError('invalid_request', `${field}: ${issue?.message ?? 'not valid'}`);
  }
  const input = parsed.data;
  const current = await workspace.getSettings();

  const provider = input.provider ?? current?.provider;
  const owner = input.owner ?? current?.owner;
  if (!provider || !owner) {
    throw new GatewayError('invalid_request', 'provider and owner are required on the first save.');
  }
  if (deps.mode === 'local' && input.storeAppSource === true) {
    throw new GatewayError(
      'invalid_request',
      'storeAppSource applies to onprem and managed deployments; in local mode publish apps one by one.',
    );
  }

  const providerChanged = current !== null && provider !== current.provider;
  const baseUrl = normalizeBaseUrl(
    input.baseUrl !== undefined
      ? input.baseUrl
      : providerChanged
        ? null
        : (current?.baseUrl ?? null),
  );
  if (!baseUrl && BASE_URL_REQUIRED.has(provider)) {
    throw new GatewayError('invalid_request', `baseUrl is required for provider ${provider}.`);
  }

  const token =
    input.token ??
    (providerChanged ? null : await deps.secrets.get(workspace.workspaceId, PROVIDER_TOKEN_SECRET));
  if (!token) throw new GatewayError('invalid_request', 'token is required on the first save.');

  const ownerType = input.ownerType ?? current?.ownerType ?? 'user';

  try {
    const adapter = deps.providers(
      { provider, baseUrl, owner, ownerType, token },
      { timeoutMs: deps.remoteTimeoutMs },
    );
    const report = await adapter.validate();
    const now = new Date().toISOString();
    const tokenChanged = input.token !== undefined;

    const settings: SettingsRecord = {
      workspaceId: workspace.workspaceId,
      provider,
      baseUrl,
      owner,
      ownerType,
      repoPrefix: input.repoPrefix || current?.repoPrefix || DEFAULT_REPO_PREFIX,
      visibility: input.visibility ?? current?.visibility ?? 'private',
      storeAppSource:
        deps.mode === 'local' ? false : (input.storeAppSource ?? current?.storeAppSource ?? false),
      token: tokenChanged
        ? { set: true, updatedAt: now, updatedBy: actor }
        : (current?.token ?? { set: true, updatedAt: now, updatedBy: actor }),
      account: report.account,
      missingPermissions: report.missingPermissions,
      validatedAt: now,
    };

    if (tokenChanged) await deps.secrets.put(workspace.workspaceId, PROVIDER_TOKEN_SECRET, token);
    await workspace.putSettings(settings);
    await recordAudit(workspace, { actor, action: 'settings.save', outcome: 'success' });
    deps.events.publish(workspace.workspaceId, { type: 'settings.updated' });
    return settingsView(settings);
  } catch (error) {
    const code = isGatewayError(error) ? error.code : 'internal';
    await recordAudit(workspace, { actor, action: 'settings.save', outcome: 'failure', code });
    throw error;
  }
}

/** Removes the connection and deletes the token. */
export async function deleteSettings(
  deps: Pick<SettingsServiceDeps, 'secrets' | 'events'>,
  workspace: WorkspaceStore,
  actor: string,
): Promise<void> {
  await deps.secrets.delete(workspace.workspaceId, PROVIDER_TOKEN_SECRET);
  await workspace.deleteSettings();
  await recordAudit(workspace, { actor, action: 'settings.delete', outcome: 'success' });
  deps.events.publish(workspace.workspaceId, { type: 'settings.updated' });
}

function normalizeBaseUrl(value: string | null): string | null {
  if (value === null || value === '') return null;
  const url = checkRemoteBaseUrl(value);
  return url.href.replace(/\/+$/, '');
}
