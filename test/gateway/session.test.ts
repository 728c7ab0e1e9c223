import { startGatewayHarness, WORKSPACE, type GatewayHarness } from '../support/gateway-harness.js';

let harness: GatewayHarness;

beforeAll(async () => {
  harness = await startGatewayHarness({ env: { DEPLOYMENT_MODE: 'onprem' } });
});

afterAll(async () => {
  await harness.close();
});

async function signIn(token: string, headers: Record<string, string> = {}): Promise<Response> {
  return harness.request('/api/v1/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ token }),
  });
}

function sessionCookie(response: Response): string {
  const header = response.headers.get('set-cookie') ?? '';
  return header.split(';')[0]!;
}

test('signing in sets an httpOnly, SameSite=Strict, Path=/ cookie and answers who', async () => {
  const token = await harness.userToken({ role: 'builder', sub: 'bea' });
  const response = await signIn(token);

  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({
    sub: 'bea',
    role: 'builder',
    workspaceId: WORKSPACE,
    mode: 'onprem',
  });

  const setCookie = response.headers.get('set-cookie') ?? '';
  expect(setCookie).toMatch(/^second_session=[^;]+/);
  expect(setCookie).toMatch(/HttpOnly/i);
  expect(setCookie).toMatch(/SameSite=Strict/i);
  expect(setCookie).toMatch(/Path=\//);
  expect(setCookie).toMatch(/Max-Age=\d+/);
  expect(setCookie).not.toMatch(/Secure/i);
});

test('the cookie is Secure when the request came over https (through a proxy)', async () => {
  const response = await signIn(await harness.userToken(), { 'x-forwarded-proto': 'https' });
  expect(response.headers.get('set-cookie')).toMatch(/; Secure/i);
});

test('the cookie authenticates /api/v1 reads and GET /api/v1/session', async () => {
  const cookie = sessionCookie(
    await signIn(await harness.userToken({ role: 'viewer', sub: 'vic' })),
  );

  const session = await harness.request('/api/v1/session', { headers: { cookie } });
  expect(await session.json()).toEqual({
    sub: 'vic',
    role: 'viewer',
    workspaceId: WORKSPACE,
    mode: 'onprem',
  });

  const apps = await harness.request('/api/v1/apps', { headers: { cookie } });
  expect(apps.status).toBe(200);
});

test('cookie-authenticated changes need X-Second-Request: 1 (CSRF), bearer ones do not', async () => {
  const cookie = sessionCookie(await signIn(await harness.userToken({ role: 'builder' })));
  const body = JSON.stringify({ name: 'From the UI' });

  const forged = await harness.request('/api/v1/apps', {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/json' },
    body,
  });
  expect(forged.status).toBe(403);
  expect(((await forged.json()) as { error: { code: string } }).error.code).toBe('forbidden');

  const wrongValue = await harness.request('/api/v1/apps', {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/json', 'x-second-request': 'yes' },
    body,
  });
  expect(wrongValue.status).toBe(403);

  const fromUi = await harness.request('/api/v1/apps', {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/json', 'x-second-request': '1' },
    body,
  });
  expect(fromUi.status).toBe(201);

  const bearer = await harness.request('/api/v1/apps', {
    method: 'POST',
    token: await harness.userToken({ role: 'builder' }),
    headers: { 'content-type': 'application/json' },
    body,
  });
  expect(bearer.status).toBe(201);
});

test('a form post (what another site can send) cannot sign in', async () => {
  const token = await harness.userToken();
  const response = await harness.request('/api/v1/session', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `token=${token}`,
  });
  expect(response.status).toBe(400);
  expect(response.headers.get('set-cookie')).toBeNull();
});

test('signing in with a bad, missing or worker token is refused and sets no cookie', async () => {
  const bad = await signIn('not-a-token');
  expect(bad.status).toBe(401);
  expect(bad.headers.get('set-cookie')).toBeNull();

  const missing = await harness.request('/api/v1/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  expect(missing.status).toBe(400);
  expect(((await missing.json()) as { error: { code: string } }).error.code).toBe(
    'invalid_request',
  );

  const worker = await signIn(await harness.workerToken('someapp'));
  expect(worker.status).toBe(403);
  expect(worker.headers.get('set-cookie')).toBeNull();
});

test('signing out clears the cookie, and needs the CSRF header when a cookie is sent', async () => {
  const cookie = sessionCookie(await signIn(await harness.userToken()));

  const forged = await harness.request('/api/v1/session', {
    method: 'DELETE',
    headers: { cookie },
  });
  expect(forged.status).toBe(403);

  const out = await harness.request('/api/v1/session', {
    method: 'DELETE',
    headers: { cookie, 'x-second-request': '1' },
  });
  expect(out.status).toBe(204);
  const cleared = out.headers.get('set-cookie') ?? '';
  expect(cleared).toMatch(/^second_session=;/);
  expect(cleared).toMatch(/Expires=Thu, 01 Jan 1970|Max-Age=0/);

  const anonymous = await harness.request('/api/v1/session', { method: 'DELETE' });
  expect(anonymous.status).toBe(204);
});

test('GET /api/v1/session without a credential answers 401', async () => {
  const response = await harness.request('/api/v1/session');
  expect(response.status).toBe(401);
});

test('the cookie also opens /preview (the app pages are links, not API calls)', async () => {
  const appId = await harness.createApp();
  const cookie = sessionCookie(await signIn(await harness.userToken()));
  const response = await harness.request(`/preview/${appId}/`, { headers: { cookie } });
  // The app has no build yet: past authentication, a 404 from the preview itself.
  expect(response.status).toBe(404);
  const anonymous = await harness.request(`/preview/${appId}/`);
  expect(anonymous.status).toBe(401);
});
