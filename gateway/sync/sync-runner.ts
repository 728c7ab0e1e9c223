import PQueue from 'p-queue';
import type { Logger } from 'pino';
import type { SyncJobRecord } from '../../core/model.js';
import type { Store, WorkspaceStore } from '../../adapters/store/store-port.js';
import { recordAudit } from '../audit/audit-log.js';
import type { EventHub } from '../events/event-hub.js';
import { mirrorLeaseKey } from './app-lease.js';
import { nextAttemptAt, type RetryPolicyOptions } from './retry-policy.js';
import { actorOf, errorInfoOf, runSyncJob, type SyncJobDeps } from './sync-job.js';

export interface SyncRunnerOptions {
  store: Store;
  job: SyncJobDeps;
  events: EventHub;
  logger: Logger;
  retry: RetryPolicyOptions;
  /** Who holds leases taken by this process (unique per process). */
  holderId: string;
  /** Apps synced at once by this process. */
  concurrency?: number;
  /** How long a lease lasts without renewal. */
  leaseTtlMs?: number;
  /** How soon to look again when another process holds an app's lease. */
  leaseRetryMs?: number;
}

/**
 * Runs the outbox: one app at a time per app (in this process through its queue, across
 * processes through a lease in the store), a bounded number of apps at once, jobs of an app in
 * the order they were made, failures retried with backoff. A job whose retries ran out blocks
 * the jobs of its app behind it, so versions never skip a build; the retry action releases them.
 */
export class SyncRunner {
  private readonly queue: PQueue;
  private readonly draining = new Set<string>();
  private readonly again = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly options: SyncRunnerOptions) {
    this.queue = new PQueue({ concurrency: options.concurrency ?? 4 });
  }

  /** Picks up the jobs a previous run of the gateway left queued or running. */
  async start(): Promise<void> {
    const jobs = await this.options.store.unfinishedJobs(10_000);
    const apps = new Set(jobs.map((job) => `${job.workspaceId}/${job.appId}`));
    if (apps.size > 0) {
      this.options.logger.info(
        { apps: apps.size, jobs: jobs.length },
        `resuming ${jobs.length} unfinished sync jobs`,
      );
    }
    for (const key of apps) {
      const [workspaceId, appId] = key.split('/') as [string, string];
      this.kick(workspaceId, appId);
    }
  }

  /** Makes the app's queued jobs run as soon as a slot is free. */
  kick(workspaceId: string, appId: string): void {
    if (this.stopped) return;
    const key = `${workspaceId}/${appId}`;
    const timer = this.timers.get(key);
    if (timer) {
      clearTimeout(timer);
      this.timers.delete(key);
    }
    if (this.draining.has(key)) {
      this.again.add(key);
      return;
    }
    this.draining.add(key);
    void this.queue.add(() => this.drain(workspaceId, appId, key));
  }

  /** Resolves when nothing is running or queued in this process (timers may still be set). */
  async idle(): Promise<void> {
    await this.queue.onIdle();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.queue.clear();
    await this.queue.onIdle();
  }

  private later(workspaceId: string, appId: string, delayMs: number): void {
    if (this.stopped) return;
    const key = `${workspaceId}/${appId}`;
    const existing = this.timers.get(key);
    if (existing) clearTimeout(existing);
    const timer = setTimeout(
      () => {
        this.timers.delete(key);
        this.kick(workspaceId, appId);
      },
      Math.max(delayMs, 0),
    );
    timer.unref();
    this.timers.set(key, timer);
  }

  private async drain(workspaceId: string, appId: string, key: string): Promise<void> {
    const { store, holderId, logger } = this.options;
    const leaseKey = mirrorLeaseKey(appId);
    const ttl = this.options.leaseTtlMs ?? 120_000;
    const workspace = store.workspace(workspaceId);

    try {
      if (!(await workspace.acquireLease(leaseKey, holderId, ttl))) {
        this.later(workspaceId, appId, this.options.leaseRetryMs ?? 1000);
        return;
      }
      const renew = setInterval(() => {
        workspace.acquireLease(leaseKey, holderId, ttl).catch((error: unknown) => {
          logger.warn(
            { err: error, appId },
            'renewing the sync lease failed; skipping this renewal',
          );
        });
      }, ttl / 3);
      renew.unref();

      try {
        await this.runJobsOfApp(workspace, appId);
      } finally {
        clearInterval(renew);
        await workspace.releaseLease(leaseKey, holderId);
      }
    } catch (error) {
      logger.error(
        { err: error, appId },
        `the sync runner failed for app ${appId}; retrying in a moment`,
      );
      this.later(workspaceId, appId, this.options.retry.baseMs);
    } finally {
      this.draining.delete(key);
      if (this.again.delete(key)) this.kick(workspaceId, appId);
    }
  }

  private async runJobsOfApp(workspace: WorkspaceStore, appId: string): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      const [head] = await workspace.unfinishedJobsOfApp(appId);
      if (!head) return;

      // A job whose retries ran out holds back the builds behind it until someone retries.
      if (head.state === 'failed') return;

      const wait = head.runAfter ? Date.parse(head.runAfter) - Date.now() : 0;
      if (wait > 0) {
        this.later(workspace.workspaceId, appId, wait);
        return;
      }

      if (!(await this.runOne(workspace, head))) return;
    }
  }

  /** Runs one job and records its outcome; answers whether the next job may run now. */
  private async runOne(workspace: WorkspaceStore, job: SyncJobRecord): Promise<boolean> {
    const { events, logger } = this.options;
    const now = new Date();
    const attempts = job.attempts + 1;
    await workspace.putJob({ ...job, state: 'running', attempts, updatedAt: now.toISOString() });
    await workspace.patchApp(job.appId, {
      sourceControl: { status: 'pending', nextRetryAt: null },
    });
    events.publish(workspace.workspaceId, {
      type: 'source-control.status',
      appId: job.appId,
      status: 'pending',
    });

    try {
      const result = await runSyncJob(this.options.job, workspace, job);
      await workspace.putJob({
        ...job,
        state: 'done',
        attempts,
        lastError: null,
        updatedAt: new Date().toISOString(),
      });
      if (result.outcome === 'skipped') {
        logger.info({ appId: job.appId, jobId: job.id }, `sync job skipped: ${result.reason}`);
      }
      await recordAudit(workspace, {
        actor: actorOf(job),
        action: `sync.${job.kind}`,
        appId: job.appId,
        outcome: 'success',
      });
      return true;
    } catch (error) {
      await this.recordFailure(workspace, job, attempts, error);
      return false;
    }
  }

  private async recordFailure(
    workspace: WorkspaceStore,
    job: SyncJobRecord,
    attempts: number,
    error: unknown,
  ): Promise<void> {
    const { events, logger } = this.options;
    const info = errorInfoOf(error);
    const retryAt = nextAttemptAt(
      this.options.retry,
      { code: info.code, retryAt: (error as { retryAt?: number }).retryAt },
      attempts,
      Date.now(),
    );
    const nextRetryAt = retryAt === null ? null : new Date(retryAt).toISOString();

    await workspace.putJob({
      ...job,
      state: retryAt === null ? 'failed' : 'queued',
      attempts,
      runAfter: nextRetryAt,
      lastError: { code: info.code, message: info.message },
      updatedAt: new Date().toISOString(),
    });
    await workspace.patchApp(job.appId, {
      sourceControl: {
        status: 'failed',
        lastError: { code: info.code, message: info.message },
        nextRetryAt,
      },
    });
    if (job.buildId) {
      await workspace.updateBuildSync(job.appId, job.buildId, {
        status: 'failed',
        version: null,
        error: { code: info.code, message: info.message },
      });
    }
    await recordAudit(workspace, {
      actor: actorOf(job),
      action: `sync.${job.kind}`,
      appId: job.appId,
      outcome: 'failure',
      code: info.code,
    });
    events.publish(workspace.workspaceId, {
      type: 'source-control.status',
      appId: job.appId,
      status: 'failed',
    });

    const level = info.code === 'internal' ? 'error' : 'warn';
    const when =
      retryAt === null
        ? 'no automatic retry'
        : `retrying in ${Math.round((retryAt - Date.now()) / 1000)} s`;
    logger[level](
      {
        appId: job.appId,
        jobId: job.id,
        code: info.code,
        attempts,
        ...(info.code === 'internal' ? { err: error } : {}),
      },
      `sync (${job.kind}) of app ${job.appId} failed: ${info.code}, ${when}`,
    );
    if (retryAt !== null) this.later(workspace.workspaceId, job.appId, retryAt - Date.now());
  }
}
