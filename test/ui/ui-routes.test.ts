import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGatewayHarness, type GatewayHarness } from '../support/gateway-harness.js';
import { buildUiIntoTemp } from './ui-stack.js';

let built: { dir: string; remove(): Promise<void> };
let gateway: GatewayHarness;

beforeAll(async () => {
  built = await buildUiIntoTemp();
  gateway = await startGatewayHarness({ deps: { uiDir: built.dir } });
});
afterAll(async () => {
  await gateway?.close();
  await built?.remove();
});

function assetNames(html: string): string[] {
  return [...html.matchAll(/\/assets\/([A-Za-z0-9._-]+)/g)].map((match) => match[1]!);
}

test('/ answers the built index.html under the strict policy, never cached', async () => {
  const response = await gateway.request('/');
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
  expect(response.headers.get('cache-control')).toBe('no-cache');

  const csp = response.headers.get('content-security-policy') ?? '';
  expect(csp).toContain("script-src 'self'");
  expect(csp).toContain("style-src 'self'");
  expect(csp).not.toContain('unsafe-inline');

  const html = await response.text();
  expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
  expect(html).not.toMatch(/<style|\sstyle=/);
  const names = assetNames(html);
  expect(names).toEqual([
    expect.stringMatching(/^styles-[A-Z0-9]{8,}\.css$/),
    expect.stringMatching(/^main-[A-Z0-9]{8,}\.js$/),
  ]);
});

test('page addresses answer index.html so a reload stays on the page', async () => {
  const index = await (await gateway.request('/')).text();
  for (const path of [
    '/apps',
    '/apps/app_123',
    '/settings/source-control',
    '/available-apps',
    '/audit',
    '/sign-in',
  ]) {
    const response = await gateway.request(path);
    expect([path, response.status]).toEqual([path, 200]);
    expect(await response.text()).toBe(index);
  }
});

test('hashed assets are cached for a year and revalidate by ETag; unknown ones are 404', async () => {
  const [css, js] = assetNames(await (await gateway.request('/')).text());

  const script = await gateway.request(`/assets/${js}`);
  expect(script.status).toBe(200);
  expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  expect(script.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  expect((await script.text()).length).toBeGreaterThan(1000);

  const styles = await gateway.request(`/assets/${css}`);
  expect(styles.headers.get('content-type')).toBe('text/css; charset=utf-8');

  const etag = script.headers.get('etag')!;
  const again = await gateway.request(`/assets/${js}`, { headers: { 'if-none-match': etag } });
  expect(again.status).toBe(304);

  for (const name of [
    'main.js',
    'nope-ABCDEFGH.js',
    '..%2Findex.html',
    '__proto__',
    'constructor',
  ]) {
    const missing = await gateway.request(`/assets/${name}`);
    expect([name, missing.status]).toEqual([name, 404]);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('not_found');
  }
});

test('the UI routes leave the API and the unknown paths alone', async () => {
  const api = await gateway.request('/api/v1/apps');
  expect(api.status).toBe(401);
  expect(((await api.json()) as { error: { code: string } }).error.code).toBe('unauthenticated');

  expect((await gateway.request('/apps/a/b')).status).toBe(404);
  expect((await gateway.request('/index.html')).status).toBe(404);
});

test('without a built UI the gateway starts, serves its API, and answers 404 at /', async () => {
  const empty = await mkdtemp(join(tmpdir(), 'admin-ui-missing-'));
  const bare = await startGatewayHarness({ deps: { uiDir: join(empty, 'ui') } });
  try {
    expect((await bare.request('/')).status).toBe(404);
    expect((await bare.request('/healthz')).status).toBe(200);
  } finally {
    await bare.close();
    await rm(empty, { recursive: true, force: true });
  }
});
