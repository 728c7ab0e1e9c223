import { request as httpRequest } from 'node:http';
import { newId } from '../../core/ids.js';
import { startGatewayHarness, WORKSPACE, type GatewayHarness } from '../support/gateway-harness.js';
import { seedDraft, sha256Hex, type FileTree } from './gateway-fixtures.js';

let harness: GatewayHarness;
let appId: string;
let token: string;

const FILES: FileTree = {
  'src/secret-source.ts': 'export const x = 1;\n',
  'dist/index.html': '<!doctype html><title>Home</title>',
  'dist/assets/app.js': 'console.log(1)',
  'dist/assets/app.css': 'body{}',
  'dist/data/config.json': '{"a":1}',
  'dist/img/logo.png': Buffer.from([0x89, 0x50, 0x4e, 0x47]),
  'dist/img/icon.svg': '<svg xmlns="http://www.w3.org/2000/svg"/>',
  'dist/fonts/a.woff2': Buffer.from([1, 2, 3]),
  'dist/docs/index.html': '<p>docs</p>',
  'dist/blob.unknownext': 'raw',
  'dist/README': 'no extension',
  'dist/.env': 'API_KEY=should-never-be-served',
  'dist/keys/server.pem': '-----BEGIN PRIVATE KEY-----',
  'dist/node_modules/lib/index.js': 'module.exports = 1',
  'dist/app.log': 'log line',
  'dist/weird name %41.txt': 'encoded',
};

beforeAll(async () => {
  harness = await startGatewayHarness();
  appId = await harness.createApp('Previewed');
  token = await harness.userToken({ role: 'viewer' });
  await seedDraft(harness, WORKSPACE, appId, FILES);
});

afterAll(async () => {
  await harness.close();
});

function preview(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return harness.request(`/preview/${appId}${path}`, { token, headers, redirect: 'manual' });
}

/** Sends a path exactly as written: fetch would resolve `..` before sending it. */
function rawGet(path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(harness.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { hostname, port, path, headers: { authorization: `Bearer ${token}` } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test('/preview/:appId/ serves dist/index.html with no-cache and a quoted sha256 ETag', async () => {
  const response = await preview('/');
  expect(response.status).toBe(200);
  expect(await response.text()).toBe(FILES['dist/index.html']);
  expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
  expect(response.headers.get('etag')).toBe(`"${sha256Hex(FILES['dist/index.html']!)}"`);
  expect(response.headers.get('cache-control')).toBe('no-cache');
  expect(response.headers.get('x-content-type-options')).toBe('nosniff');
});

test('/preview/:appId without the slash redirects to the folder', async () => {
  const response = await preview('');
  expect(response.status).toBe(301);
  expect(response.headers.get('location')).toBe(`/preview/${appId}/`);
});

test('a folder path serves its index.html; without the slash it redirects', async () => {
  const folder = await preview('/docs/');
  expect(folder.status).toBe(200);
  expect(await folder.text()).toBe('<p>docs</p>');

  const bare = await preview('/docs');
  expect(bare.status).toBe(301);
  expect(bare.headers.get('location')).toBe(`/preview/${appId}/docs/`);
});

test.each([
  ['/assets/app.js', 'text/javascript; charset=utf-8'],
  ['/assets/app.css', 'text/css; charset=utf-8'],
  ['/data/config.json', 'application/json; charset=utf-8'],
  ['/img/logo.png', 'image/png'],
  ['/img/icon.svg', 'image/svg+xml'],
  ['/fonts/a.woff2', 'font/woff2'],
  ['/blob.unknownext', 'application/octet-stream'],
  ['/README', 'application/octet-stream'],
])('%s is served as %s', async (path, type) => {
  const response = await preview(path);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe(type);
  const expected = Buffer.from(FILES[`dist${path}`]!);
  expect(Buffer.from(await response.arrayBuffer()).equals(expected)).toBe(true);
});

test('percent-encoded names are decoded once', async () => {
  const response = await preview('/weird%20name%20%2541.txt');
  expect(response.status).toBe(200);
  expect(await response.text()).toBe('encoded');
});

test('If-None-Match with the ETag answers 304 without a body', async () => {
  const first = await preview('/assets/app.js');
  const etag = first.headers.get('etag')!;
  const second = await preview('/assets/app.js', { 'if-none-match': etag });
  expect(second.status).toBe(304);
  expect(await second.text()).toBe('');
  expect(second.headers.get('etag')).toBe(etag);

  const stale = await preview('/assets/app.js', { 'if-none-match': '"something-else"' });
  expect(stale.status).toBe(200);
});

test('app pages get their own CSP: own scripts allowed, inline scripts and foreign framing not', async () => {
  const response = await preview('/');
  const csp = response.headers.get('content-security-policy') ?? '';
  expect(csp).toContain("script-src 'self'");
  expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
  expect(csp).toContain("frame-ancestors 'self'");
  expect(csp).toContain("object-src 'none'");
});

test.each([
  ['a file outside dist/', '/../src/secret-source.ts'],
  ['a source file by name', '/src/secret-source.ts'],
  ['.env', '/.env'],
  ['a private key', '/keys/server.pem'],
  ['node_modules', '/node_modules/lib/index.js'],
  ['a log file', '/app.log'],
  ['a missing file', '/nope.js'],
])('%s answers 404', async (_case, path) => {
  const response = await preview(path);
  expect(response.status).toBe(404);
  expect(((await response.json()) as { error: { code: string } }).error.code).toBe('not_found');
});

test.each([
  '/../../api/v1/apps',
  '/assets/../../src/secret-source.ts',
  '/%2e%2e/src/secret-source.ts',
  '/%2E%2E%2Fsrc%2Fsecret-source.ts',
  '/assets%2F..%2F..%2Fsrc%2Fsecret-source.ts',
  '/..%5c..%5csrc%5csecret-source.ts',
  '/assets/app.js%00.png',
  '/.%2e/src/secret-source.ts',
  '//etc/passwd',
  '/assets//app.js',
  '/%E0%A4%A',
])('traversal or malformed path %s answers 404', async (path) => {
  const response = await rawGet(`/preview/${appId}${path}`);
  expect(response.status).toBe(404);
  expect(response.body).not.toContain('export const x');
});

test('a versioned URL answers 404 "no such version" while the app has no versions', async () => {
  const response = await preview('/v/1/');
  expect(response.status).toBe(404);
  expect(await response.json()).toEqual({
    error: { code: 'not_found', message: 'no such version' },
  });

  expect((await preview('/v/0/')).status).toBe(404);
  expect((await preview('/v/abc/index.html')).status).toBe(404);
});

test('a version serves its snapshot with immutable caching once it exists', async () => {
  const versioned = await harness.createApp('Versioned');
  const files = { 'dist/index.html': '<p>v1</p>', 'dist/a.js': 'a()' };
  const hash = await seedDraft(harness, WORKSPACE, versioned, files);
  const inserted = await harness.store.workspace(WORKSPACE).insertVersion({
    workspaceId: WORKSPACE,
    appId: versioned,
    version: 1,
    tag: 'second-app-v1',
    commitSha: 'a'.repeat(40),
    summary: 'first',
    sourceHash: hash,
    fileCount: 2,
    totalBytes: 12,
    createdAt: new Date().toISOString(),
    pushed: true,
    buildId: null,
  });
  expect(inserted).toBe(true);

  // The draft moves on; the version keeps serving its own files.
  await seedDraft(harness, WORKSPACE, versioned, { 'dist/index.html': '<p>v2 draft</p>' });

  const page = await harness.request(`/preview/${versioned}/v/1/`, { token });
  expect(page.status).toBe(200);
  expect(await page.text()).toBe('<p>v1</p>');
  expect(page.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');

  const draft = await harness.request(`/preview/${versioned}/`, { token });
  expect(await draft.text()).toBe('<p>v2 draft</p>');

  const bare = await harness.request(`/preview/${versioned}/v/1`, { token, redirect: 'manual' });
  expect(bare.status).toBe(301);
  expect(bare.headers.get('location')).toBe(`/preview/${versioned}/v/1/`);

  expect((await harness.request(`/preview/${versioned}/v/2/`, { token })).status).toBe(404);
});

test('a missing app, an app without a build, and a malformed app id answer 404', async () => {
  const empty = await harness.createApp('Empty');
  for (const path of [
    `/preview/${newId()}/`,
    `/preview/${empty}/`,
    '/preview/BAD..ID/',
    '/preview/',
  ]) {
    const response = await harness.request(path, { token });
    expect(response.status).toBe(404);
  }
});

test('HEAD answers the headers without a body', async () => {
  const response = await harness.request(`/preview/${appId}/assets/app.js`, {
    token,
    method: 'HEAD',
  });
  expect(response.status).toBe(200);
  expect(response.headers.get('etag')).toBe(`"${sha256Hex(FILES['dist/assets/app.js']!)}"`);
  expect(await response.text()).toBe('');
});

test('the preview cache metric counts a miss, then hits', async () => {
  const fresh = await harness.createApp('Metered');
  await seedDraft(harness, WORKSPACE, fresh, { 'dist/index.html': `<p>${newId()}</p>` });

  const count = async (result: string) => {
    const text = await (await harness.request('/metrics')).text();
    const match = new RegExp(`gateway_preview_cache_total\\{result="${result}"\\} (\\d+)`).exec(
      text,
    );
    return Number(match?.[1] ?? 0);
  };
  const [missesBefore, hitsBefore] = [await count('miss'), await count('hit')];
  for (let i = 0; i < 3; i += 1) await harness.request(`/preview/${fresh}/`, { token });
  expect((await count('miss')) - missesBefore).toBe(1);
  expect((await count('hit')) - hitsBefore).toBe(2);
});
