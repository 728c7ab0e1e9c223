import { readFile, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { DoubleRequest } from '../../test/doubles/provider-double.js';
import type { SourceControlHarness } from '../../test/support/source-control-harness.js';
import { generateApp, tarApp } from '../fixtures.js';
import { startGitHubWorld } from '../github-world.js';
import { benchRow, median, type BenchRow } from '../mirror/bench-row.js';

const OWNER = 'bench-org';
const TOKEN = 'ghp-bench-sync-token-0123456789abcdef';

/** REST calls and git smart-HTTP requests the double answered in one stretch of work. */
interface ProviderTraffic {
  rest: number;
  git: number;
  /** Codeload-style archive downloads; none are expected while publishing. */
  archive: number;
  /** The REST calls, `METHOD path status`, for the log. */
  calls: string[];
}

function trafficOf(requests: readonly DoubleRequest[]): ProviderTraffic {
  return {
    rest: requests.filter((r) => r.kind === 'api').length,
    git: requests.filter((r) => r.kind === 'git').length,
    archive: requests.filter((r) => r.kind === 'archive').length,
    calls: requests.filter((r) => r.kind === 'api').map((r) => `${r.method} ${r.path} ${r.status}`),
  };
}

/** Posts a `done_building` upload the way a worker does (multipart: summary, then the tar). */
async function upload(
  h: SourceControlHarness,
  appId: string,
  worker: string,
  tar: Buffer,
): Promise<Response> {
  const form = new FormData();
  form.append('summary', 'Bench build');
  form.append('snapshot', new Blob([new Uint8Array(tar)]), 'snapshot.tar');
  return h.gateway.request(`/internal/v1/apps/${appId}/builds`, {
    method: 'POST',
    token: worker,
    body: form,
  });
}

/** Waits until no sync job is queued or running, without the harness's polling sleeps. */
async function syncIdle(h: SourceControlHarness): Promise<void> {
  for (;;) {
    await h.module.runner.idle();
    const jobs = await h.gateway.store.unfinishedJobs(10);
    if (jobs.length === 0) return;
    if (jobs.every((job) => job.runAfter !== null && Date.parse(job.runAfter) > Date.now())) {
      throw new Error(`a sync job is waiting for a retry: ${JSON.stringify(jobs[0])}`);
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function sourceControlOf(
  h: SourceControlHarness,
  appId: string,
): Promise<{ status: string; version: number | null }> {
  const response = await h.gateway.request(`/api/v1/apps/${appId}`, {
    token: await h.gateway.userToken(),
  });
  const body = (await response.json()) as {
    app: { sourceControl: { status: string; version: number | null } };
  };
  return body.app.sourceControl;
}

/**
 * provider_calls.first_publish and .later_version: REST calls the GitHub double answered for
 * the first publish of an app (from the publish action until its sync job finished) and for one
 * later version (from its upload until its job finished). Git smart-HTTP requests are counted
 * apart, in the human table's row names, and not in the figure.
 *
 * unchanged_build_ms: a `done_building` whose source equals the last version's, measured in
 * process from the moment the build service is handed the fully read upload to the later of
 * the 201 reaching the client and the app's sync job finishing. Reading the upload itself is
 * left out, as DESIGN §15 asks; zero provider requests during it is checked, not assumed.
 */
export async function runSyncBench(options: { quick?: boolean } = {}): Promise<BenchRow[]> {
  const runs = options.quick ? 3 : 7;
  const app1 = await generateApp('S');
  const app2 = await generateApp('S', { variant: 1, changedShare: 0.1 });
  const { h, double } = await startGitHubWorld(OWNER, TOKEN);
  try {
    const tar1 = await readFile(await tarApp(app1, app1.root));
    const tar2 = await readFile(await tarApp(app2, app2.root));

    const appId = await h.gateway.createApp('Bench Console');
    const worker = await h.gateway.workerToken(appId);
    const first = await upload(h, appId, worker, tar1);
    if (first.status !== 201) throw new Error(`the first build answered ${first.status}`);
    await syncIdle(h);

    const beforePublish = double.requests.length;
    const publish = await h.gateway.request(`/api/v1/apps/${appId}/source-control/publish`, {
      method: 'POST',
      token: await h.gateway.userToken({ role: 'builder' }),
    });
    if (publish.status !== 202) throw new Error(`publish answered ${publish.status}`);
    await syncIdle(h);
    const published = await sourceControlOf(h, appId);
    if (published.status !== 'synced' || published.version !== 1) {
      throw new Error(`the first publish ended ${JSON.stringify(published)}`);
    }
    const firstPublish = trafficOf(double.requests.slice(beforePublish));

    const beforeLater = double.requests.length;
    const second = await upload(h, appId, worker, tar2);
    if (second.status !== 201) throw new Error(`the second build answered ${second.status}`);
    await syncIdle(h);
    const later = await sourceControlOf(h, appId);
    if (later.status !== 'synced' || later.version !== 2) {
      throw new Error(`the later version ended ${JSON.stringify(later)}`);
    }
    const laterVersion = trafficOf(double.requests.slice(beforeLater));

    // The build service is called once the route has read and staged the whole upload.
    const builds = h.gateway.gateway.context.services.builds;
    const ingest = builds.ingest.bind(builds);
    let handedOver = 0n;
    builds.ingest = (input) => {
      handedOver = process.hrtime.bigint();
      return ingest(input);
    };

    const unchanged: number[] = [];
    const beforeUnchanged = double.requests.length;
    for (let run = 0; run < runs; run += 1) {
      const response = await upload(h, appId, worker, tar2);
      if (response.status !== 201)
        throw new Error(`an unchanged build answered ${response.status}`);
      await syncIdle(h);
      unchanged.push(Number(process.hrtime.bigint() - handedOver) / 1e6);
    }
    builds.ingest = ingest;
    const unchangedTraffic = trafficOf(double.requests.slice(beforeUnchanged));
    const total = unchangedTraffic.rest + unchangedTraffic.git + unchangedTraffic.archive;
    if (total !== 0) {
      throw new Error(`unchanged builds sent ${total} requests to the provider; expected none`);
    }
    const after = await sourceControlOf(h, appId);
    if (after.version !== 2) throw new Error(`an unchanged build made version ${after.version}`);

    process.stderr.write(
      `bench: first publish REST calls: ${firstPublish.calls.join(', ')}\n` +
        `bench: later version REST calls: ${laterVersion.calls.join(', ') || 'none'}\n`,
    );
    return [
      benchRow('unchanged_build_ms', median(unchanged), 'ms'),
      benchRow('provider_calls.first_publish', firstPublish.rest, 'REST calls'),
      benchRow('provider_calls.later_version', laterVersion.rest, 'REST calls'),
      // For people only: git smart-HTTP requests are not REST calls (DESIGN §15).
      {
        ...benchRow('git_http_requests.first_publish', firstPublish.git, 'requests'),
        humanOnly: true,
      },
      {
        ...benchRow('git_http_requests.later_version', laterVersion.git, 'requests'),
        humanOnly: true,
      },
    ];
  } finally {
    await h.close();
    await double.close();
    await rm(app1.root, { recursive: true, force: true });
    await rm(app2.root, { recursive: true, force: true });
  }
}

// Runnable alone: `node dist/bench/sync/sync-bench.js`.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  runSyncBench().then(
    (rows) => process.stdout.write(`${JSON.stringify(rows)}\n`),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
