import { SignJWT } from 'jose';
import { mintToken } from '../../gateway/auth/mint-token.js';
import { startGatewayHarness, WORKSPACE, type GatewayHarness } from '../support/gateway-harness.js';

let harness: GatewayHarness;
let appId: string;

beforeAll(async () => {
  harness = await startGatewayHarness();
  appId = await harness.createApp();
});

afterAll(async () => {
  await harness.close();
});

async function sign(
  claims: Record<string, unknown>,
  secret: Uint8Array = harness.config.jwtSecret,
  alg = 'HS256',
) {
  return new SignJWT(claims).setProtectedHeader({ alg }).sign(secret);
}

const now = () => Math.floor(Date.now() / 1000);

async function status(
  path: string,
  headers: Record<string, string> = {},
): Promise<[number, string]> {
  const response = await harness.request(path, { headers });
  const body = (await response.json().catch(() => ({}))) as { error?: { code: string } };
  return [response.status, body.error?.code ?? 'ok'];
}

test('no credential answers 401 unauthenticated', async () => {
  expect(await status('/api/v1/apps')).toEqual([401, 'unauthenticated']);
  expect(await status(`/preview/${appId}/`)).toEqual([401, 'unauthenticated']);
  expect(await status(`/api/v1/apps/${appId}/builds`)).toEqual([401, 'unauthenticated']);
});

test('a malformed Authorization header answers 401', async () => {
  expect(await status('/api/v1/apps', { authorization: 'Basic dXNlcjpwYXNz' })).toEqual([
    401,
    'unauthenticated',
  ]);
  expect(await status('/api/v1/apps', { authorization: 'Bearer' })).toEqual([
    401,
    'unauthenticated',
  ]);
  expect(await status('/api/v1/apps', { authorization: 'Bearer not.a.jwt' })).toEqual([
    401,
    'unauthenticated',
  ]);
});

test('a token signed with another key answers 401', async () => {
  const token = await sign(
    { sub: 'mallory', ws: WORKSPACE, role: 'owner', exp: now() + 600 },
    new TextEncoder().encode('another-secret-another-secret-another'),
  );
  expect(await status('/api/v1/apps', { authorization: `Bearer ${token}` })).toEqual([
    401,
    'unauthenticated',
  ]);
});

test('an unsigned or differently signed algorithm answers 401', async () => {
  const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
  const payload = Buffer.from(
    JSON.stringify({ sub: 'x', ws: WORKSPACE, role: 'owner', exp: now() + 600 }),
  ).toString('base64url');
  expect(await status('/api/v1/apps', { authorization: `Bearer ${header}.${payload}.` })).toEqual([
    401,
    'unauthenticated',
  ]);
});

test('expiry: inside the 60 s skew accepted, beyond it refused', async () => {
  const inside = await sign({ sub: 'u', ws: WORKSPACE, role: 'viewer', exp: now() - 30 });
  const beyond = await sign({ sub: 'u', ws: WORKSPACE, role: 'viewer', exp: now() - 120 });
  expect(await status('/api/v1/apps', { authorization: `Bearer ${inside}` })).toEqual([200, 'ok']);
  expect(await status('/api/v1/apps', { authorization: `Bearer ${beyond}` })).toEqual([
    401,
    'unauthenticated',
  ]);
});

test.each([
  ['sub', { ws: WORKSPACE, role: 'owner' }],
  ['ws', { sub: 'u', role: 'owner' }],
  ['role', { sub: 'u', ws: WORKSPACE }],
])('a token without %s answers 401', async (_claim, claims) => {
  const token = await sign({ ...claims, exp: now() + 600 });
  expect(await status('/api/v1/apps', { authorization: `Bearer ${token}` })).toEqual([
    401,
    'unauthenticated',
  ]);
});

test('a token without exp answers 401', async () => {
  const token = await sign({ sub: 'u', ws: WORKSPACE, role: 'owner' });
  expect(await status('/api/v1/apps', { authorization: `Bearer ${token}` })).toEqual([
    401,
    'unauthenticated',
  ]);
});

test.each([['../acme'], ['ACME'], [''], ['a/b'], [42]])(
  'a bad ws claim (%p) answers 401',
  async (ws) => {
    const token = await sign({ sub: 'u', ws, role: 'owner', exp: now() + 600 });
    expect(await status('/api/v1/apps', { authorization: `Bearer ${token}` })).toEqual([
      401,
      'unauthenticated',
    ]);
  },
);

test('an unknown role answers 401', async () => {
  const token = await sign({ sub: 'u', ws: WORKSPACE, role: 'superuser', exp: now() + 600 });
  expect(await status('/api/v1/apps', { authorization: `Bearer ${token}` })).toEqual([
    401,
    'unauthenticated',
  ]);
});

test('a worker token without an app claim answers 401', async () => {
  const token = await sign({ sub: 'w', ws: WORKSPACE, role: 'worker', exp: now() + 600 });
  const response = await harness.request(`/internal/v1/apps/${appId}/builds`, {
    method: 'POST',
    token,
  });
  expect(response.status).toBe(401);
});

test('a worker token on /api/v1 and /preview answers 403 forbidden', async () => {
  const worker = await harness.workerToken(appId);
  expect(await status('/api/v1/apps', { authorization: `Bearer ${worker}` })).toEqual([
    403,
    'forbidden',
  ]);
  expect(await status(`/preview/${appId}/`, { authorization: `Bearer ${worker}` })).toEqual([
    403,
    'forbidden',
  ]);
});

test('a user token on /internal/v1 answers 403 forbidden', async () => {
  const owner = await harness.userToken();
  const response = await harness.request(`/internal/v1/apps/${appId}/builds`, {
    method: 'POST',
    token: owner,
  });
  expect(response.status).toBe(403);
  expect(((await response.json()) as { error: { code: string } }).error.code).toBe('forbidden');
});

test('a worker of another app answers 404, as a missing app does', async () => {
  const otherApp = await harness.createApp('Other');
  const worker = await harness.workerToken(otherApp);
  const response = await harness.request(`/internal/v1/apps/${appId}/builds`, {
    method: 'POST',
    token: worker,
  });
  expect(response.status).toBe(404);
  expect(((await response.json()) as { error: { code: string } }).error.code).toBe('not_found');
});

test('tokens minted by the gateway carry the claims the server checks', async () => {
  const token = await mintToken({
    secret: harness.config.jwtSecret,
    workspaceId: WORKSPACE,
    role: 'admin',
    sub: 'ada',
  });
  const response = await harness.request('/api/v1/session', { token });
  expect(await response.json()).toEqual({
    sub: 'ada',
    role: 'admin',
    workspaceId: WORKSPACE,
    mode: 'local',
  });
});

test('a token in the URL is not a credential', async () => {
  const token = await harness.userToken();
  expect(await status(`/api/v1/apps?access_token=${token}`)).toEqual([401, 'unauthenticated']);
  expect(await status(`/preview/${appId}/?token=${token}`)).toEqual([401, 'unauthenticated']);
});
