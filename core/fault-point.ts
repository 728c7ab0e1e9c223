/**
 * A test hook for crash testing, off unless the environment variable
 * `SECOND_GATEWAY_FAULT_POINT` is set. When it names the point a running gateway reaches, the
 * process kills itself with SIGKILL right there, so a test can prove that the next start finishes
 * the work with nothing lost and nothing doubled. Points: `objects-written` (the version's objects
 * are in the mirror, its refs are not), `refs-moved` (main and the tag moved in the mirror, the
 * store not yet told), `store-updated` (the version is recorded in the store, not yet pushed).
 * Never set it in production: a gateway that reaches the point dies without cleaning up.
 */
export const FAULT_POINT_VARIABLE = 'SECOND_GATEWAY_FAULT_POINT';

/** Kills this process at once when `SECOND_GATEWAY_FAULT_POINT` equals `name`; else does nothing. */
export function faultPoint(name: string): void {
  if (process.env[FAULT_POINT_VARIABLE] !== name) return;

  process.kill(process.pid, 'SIGKILL');
}
