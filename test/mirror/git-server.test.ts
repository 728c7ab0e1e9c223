import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startGitServer, type GitServer } from '../support/git-server.js';

const run = promisify(execFile);

// The git test server is what every provider double stands on, so its behaviour is proven here
// with a real git client: clone, push, auth refusal and the failure modes.
const ENV = {
  PATH: process.env.PATH,
  HOME: '/nonexistent',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_TERMINAL_PROMPT: '0',
};

function git(args: string[], cwd?: string) {
  return run('git', args, { cwd, env: ENV, timeout: 20_000 });
}

function authed(server: GitServer, path: string, user = 'git', pass = 'secret'): string {
  const url = new URL(server.baseUrl + path);
  url.username = user;
  url.password = pass;
  return url.toString();
}

function status(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ code: number; auth?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      res.resume();
      resolve({ code: res.statusCode ?? 0, auth: res.headers['www-authenticate'] });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('git test server', () => {
  let server: GitServer;
  let work: string;

  beforeEach(async () => {
    server = await startGitServer({ checkAuth: (_user, pass) => pass === 'secret' });
    work = await mkdtemp(join(tmpdir(), 'git-server-test-'));
  });

  afterEach(async () => {
    await server.close();
    await rm(work, { recursive: true, force: true });
  });

  it('accepts a push and serves a clone of the same commit', async () => {
    await server.createRepo('acme', 'app');
    const src = join(work, 'src');
    await git(['init', '-q', '-b', 'main', src]);
    await writeFile(join(src, 'a.txt'), 'hello\n');
    await git(['add', 'a.txt'], src);
    await git(['-c', 'user.name=T', '-c', 'user.email=t@x', 'commit', '-qm', 'one'], src);
    await git(['push', '-q', authed(server, '/acme/app.git'), 'main'], src);

    const { stdout: local } = await git(['rev-parse', 'HEAD'], src);
    const { stdout: remote } = await git([
      '--git-dir',
      server.repoPath('acme', 'app'),
      'rev-parse',
      'main',
    ]);
    expect(remote).toBe(local);

    await git(['clone', '-q', authed(server, '/acme/app.git'), join(work, 'clone')]);
    const { stdout: cloned } = await git(['rev-parse', 'HEAD'], join(work, 'clone'));
    expect(cloned).toBe(local);
    expect(
      server.requests.some((r) => r.path.endsWith('git-receive-pack') && r.status === 200),
    ).toBe(true);
    expect(server.requests.every((r) => r.status !== 200 || r.user === 'git')).toBe(true);
  });

  it('answers 401 with a Basic challenge for a missing or wrong credential', async () => {
    await server.createRepo('acme', 'app');
    const none = await status(`${server.baseUrl}/acme/app.git/info/refs?service=git-upload-pack`);
    expect(none).toEqual({ code: 401, auth: 'Basic realm="git"' });

    const wrong = Buffer.from('git:nope').toString('base64');
    const bad = await status(`${server.baseUrl}/acme/app.git/info/refs?service=git-upload-pack`, {
      authorization: `Basic ${wrong}`,
    });
    expect(bad.code).toBe(401);
    await expect(
      git(['ls-remote', authed(server, '/acme/app.git', 'git', 'nope')]),
    ).rejects.toThrow();
  });

  it('answers 404 for a repository that does not exist', async () => {
    const ok = Buffer.from('git:secret').toString('base64');
    const res = await status(`${server.baseUrl}/acme/none.git/info/refs?service=git-upload-pack`, {
      authorization: `Basic ${ok}`,
    });
    expect(res.code).toBe(404);
  });

  it('answers 503 when unavailable and still closes while a request hangs', async () => {
    await server.createRepo('acme', 'app');
    server.setMode('unavailable');
    expect((await status(`${server.baseUrl}/acme/app.git/info/refs`)).code).toBe(503);

    server.setMode('hang');
    const hanging = status(`${server.baseUrl}/acme/app.git/info/refs`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await server.close();
    await expect(hanging).rejects.toThrow(/socket hang up|ECONNRESET/);
    server = await startGitServer();
  });
});
