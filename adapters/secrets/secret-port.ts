/**
 * The secret store port. A secret is written once and read only inside the gateway process;
 * values are bound to their workspace, so a value saved for one workspace cannot be read as
 * another's.
 */
export interface SecretStore {
  put(workspaceId: string, name: string, value: string): Promise<void>;
  /** The value, or null when none is set. */
  get(workspaceId: string, name: string): Promise<string | null>;
  delete(workspaceId: string, name: string): Promise<void>;
  readonly kind: 'local' | 'workos';
}
