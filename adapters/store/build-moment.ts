import type { BuildWrite } from './store-port.js';

/**
 * The moment a build is stored at. Builds of one app are listed, and their sync jobs run, in
 * the order of that moment, so it must follow the order the store took them in: a build whose
 * clock reading is not later than the app's newest build (another process read its clock first
 * and committed second) is placed one millisecond after it. A retry of a build already held
 * keeps the moment it was stored with.
 */
export function buildMoment(incoming: string, held: string | null, latest: string | null): string {
  if (held !== null) return held;
  if (latest === null || latest < incoming) return incoming;
  return new Date(Date.parse(latest) + 1).toISOString();
}

/** The write with its build, draft and job placed at `at`. */
export function atMoment(write: BuildWrite, at: string): BuildWrite {
  if (at === write.build.createdAt) return write;
  return {
    ...write,
    build: { ...write.build, createdAt: at },
    draft: { ...write.draft, createdAt: at },
    job: write.job && { ...write.job, createdAt: at, updatedAt: at },
  };
}
