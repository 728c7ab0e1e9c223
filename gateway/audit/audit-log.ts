import { newId } from '../../core/ids.js';
import type { AuditRecord } from '../../core/model.js';
import type { WorkspaceStore } from '../../adapters/store/store-port.js';

export interface AuditEntry {
  /** The caller's `sub`, or `system` for work the gateway did on its own. */
  actor: string;
  action: string;
  appId?: string | null;
  outcome: AuditRecord['outcome'];
  /** The error code of a failure; never a message, a provider answer or a secret. */
  code?: string | null;
}

/** Records one mutation. The record holds ids, an action and a code: nothing else can leak. */
export async function recordAudit(workspace: WorkspaceStore, entry: AuditEntry): Promise<void> {
  await workspace.appendAudit({
    workspaceId: workspace.workspaceId,
    id: newId(),
    at: new Date().toISOString(),
    actor: entry.actor,
    action: entry.action,
    appId: entry.appId ?? null,
    outcome: entry.outcome,
    code: entry.code ?? null,
  });
}
