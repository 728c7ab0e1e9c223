import type { Logger } from 'pino';

/** What every mirror operation needs to know about the repository it works on. */
export interface MirrorContext {
  gitDir: string;
  logger: Logger;
  /** Timeout of one local git process, in ms. */
  gitTimeoutMs: number;
  /** Age after which a `*.lock` file is taken for a crashed writer's leftover, in ms. */
  lockGraceMs: number;
}
