import { PROVIDER_TOKEN_SECRET } from '../../gateway/source-control/provider-session.js';
import { WORKSPACE } from '../support/gateway-harness.js';
import {
  GIT_OWNER,
  startSourceControlHarness,
  type SourceControlHarness,
} from '../support/source-control-harness.js';
import { errorCodeOf } from './security-support.js';

let h: SourceControlHarness;

beforeAll(async () => {
  h = await startSourceControlHarness({ env: { DEPLOYMENT_MODE: 'local' } });
});
afterAll(() => h.close());

/** Base URLs a settings save must refuse before it sends anything anywhere. */
function hostileBaseUrls(): [string, string][] {
  const port = new URL(h.git.baseUrl).port;
  return [
    ['credentials', 'https://admin:hunter2@git.example.com'],
    ['a user name', 'https://admin@git.example.com'],
    ['credentials to loopback', `http://git:${h.token}@127.0.0.1:${port}`],
    ['CR/LF', 'https://git.example.com\r\nHost: evil.example.com'],
    ['a line feed', 'https://git.example.com/\nx'],
    ['a carriage return', 'https://git.example.com/\rx'],
    ['a tab', 'https://git.example.com/\tx'],
    ['a leading space', ' https://git.example.com'],
    ['ext:: with a command', 'ext::sh -c touch% /tmp/pwned'],
    ['ext:: of a git command', 'ext::git-upload-pack'],
    ['file://', 'file:///srv/git'],
    ['file:// with a host', 'file://localhost/srv/git'],
    ['ssh://', 'ssh://git@git.example.com/acme'],
    ['git://', 'git://git.example.com/acme'],
    ['ftp://', 'ftp://git.example.com/acme'],
    ['an scp-like address', 'git@git.example.com:acme'],
    ['an option for git', '--upload-pack=touch /tmp/pwned'],
    ['a path', '/srv/git/acme'],
    ['http to a public host', 'http://git.example.com'],
    ['http to a private address', 'http://10.0.0.7'],
    ['http to the cloud metadata address', 'http://169.254.169.254/latest'],
    ['http to a host named like loopback', 'http://127.0.0.1.example.com'],
    ['http to localhost as a subdomain', 'http://localhost.example.com'],
    ['a query', 'https://git.example.com/?x=1'],
    ['a fragment', 'https://git.example.com/#x'],
  ];
}

const PROVIDERS = ['git', 'github', 'gitlab', 'gitea', 'bitbucket-server'];

async function save(body: Record<string, unknown>): Promise<Response> {
  return h.gateway.request('/api/v1/source-control', {
    method: 'PUT',
    token: await h.gateway.userToken({ role: 'admin' }),
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function settingsNow() {
  return {
    stored: await h.gateway.store.reader(WORKSPACE).getSettings(),
    secret: await h.module.secrets.get(WORKSPACE, PROVIDER_TOKEN_SECRET),
  };
}

test.each(PROVIDERS)(
  'a first save for %s with a hostile baseUrl is refused with invalid_remote, sends nothing and saves nothing',
  async (provider) => {
    const before = {
      writes: h.gateway.store.writeCount,
      git: h.git.requests.length,
      settings: await settingsNow(),
    };
    expect(before.settings).toEqual({ stored: null, secret: null });

    for (const [label, baseUrl] of hostileBaseUrls()) {
      const response = await save({
        provider,
        baseUrl,
        owner: GIT_OWNER,
        ownerType: 'org',
        token: h.token,
      });
      expect([label, response.status, await errorCodeOf(response)]).toEqual([
        label,
        422,
        'invalid_remote',
      ]);
    }

    expect(h.gateway.store.writeCount).toBe(before.writes);
    expect(h.git.requests.length).toBe(before.git);
    expect(await settingsNow()).toEqual(before.settings);
  },
);

test('a later save that changes only the baseUrl to a hostile one leaves the saved settings as they were', async () => {
  expect((await h.connect()).status).toBe(200);
  const before = {
    writes: h.gateway.store.writeCount,
    git: h.git.requests.length,
    settings: await settingsNow(),
  };
  expect(before.settings.stored?.baseUrl).toBe(h.git.baseUrl);

  for (const [label, baseUrl] of hostileBaseUrls()) {
    const response = await save({ baseUrl });
    expect([label, response.status, await errorCodeOf(response)]).toEqual([
      label,
      422,
      'invalid_remote',
    ]);
  }

  expect(h.gateway.store.writeCount).toBe(before.writes);
  expect(h.git.requests.length).toBe(before.git);
  expect(await settingsNow()).toEqual(before.settings);
});
