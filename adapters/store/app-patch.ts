import { disabledSourceControl, type AppRecord } from '../../core/model.js';
import type { AppPatch } from './store-port.js';

/** The fields of an app's source-control block; a patch may set any of them and no other. */
export const SOURCE_CONTROL_FIELDS: ReadonlySet<string> = new Set(
  Object.keys(disabledSourceControl()),
);

/** The fields an `AppPatch` may carry. */
export const APP_PATCH_FIELDS: ReadonlySet<string> = new Set([
  'name',
  'draft',
  'installedFrom',
  'sourceControl',
]);

/**
 * The app as it is after the patch: whole fields are replaced, the source-control block is merged
 * field by field so two writers that set different fields do not undo each other.
 */
export function applyAppPatch(app: AppRecord, patch: AppPatch, now: string): AppRecord {
  const next: AppRecord = { ...app, updatedAt: now };
  if (patch.name !== undefined) next.name = patch.name;
  if (patch.draft !== undefined) next.draft = patch.draft;
  if (patch.installedFrom !== undefined) next.installedFrom = patch.installedFrom;
  if (patch.sourceControl !== undefined) {
    next.sourceControl = { ...app.sourceControl, ...definedFields(patch.sourceControl) };
  }
  return next;
}

/** The fields of a partial record that are present (an absent field leaves the stored one). */
export function definedFields<T extends object>(partial: Partial<T>): Partial<T> {
  return Object.fromEntries(
    Object.entries(partial).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}
