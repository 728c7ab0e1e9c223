import type { DestinationStream } from 'pino';
import { scrubLogValue, scrubSecrets } from '../../gateway/log-scrubber.js';
import { createLogger } from '../../gateway/logger.js';

test.each([
  [
    'a GitHub classic token',
    'push failed with ghp_abcdefghijklmnopqrstuvwxyz0123456789',
    'ghp_abc',
  ],
  [
    'a GitHub fine-grained token',
    'token github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz',
    'github_pat_11',
  ],
  ['a GitLab token', 'glpat-abcdefghij1234567890 was refused', 'glpat-abc'],
  ['a Bitbucket app password', 'ATBBabcdefghijklmnopqrstuvwxyz012345', 'ATBBabc'],
  ['a WorkOS key', 'key sk_test_abcdefghijklmnop1234', 'sk_test_abc'],
  [
    'a JWT',
    'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl',
    'eyJhbGciOiJIUzI1NiJ9',
  ],
  ['Basic credentials', 'Authorization: Basic dXNlcjpwYXNzd29yZA==', 'dXNlcjpwYXNzd29yZA'],
  ['a password in a URL', 'fetch https://user:hunter2@git.example.com/a/b.git failed', 'hunter2'],
  ['a token as URL user', 'https://x-access-token:tok123456@github.com/a.git', 'tok123456'],
  ['a token query parameter', 'GET /api?private_token=abc123secret&x=1', 'abc123secret'],
])('%s is masked', (_case, text, secret) => {
  const scrubbed = scrubSecrets(text);
  expect(scrubbed).not.toContain(secret);
  expect(scrubbed).toContain('[redacted]');
});

test('ordinary text is left as it is', () => {
  const text = 'push of second-app-v4 to acme/console failed: rate_limited, retrying in 60 s';
  expect(scrubSecrets(text)).toBe(text);
  expect(scrubSecrets('sha256:0123abcd and https://github.com/acme/x.git')).toBe(
    'sha256:0123abcd and https://github.com/acme/x.git',
  );
});

test('nested values and errors are scrubbed; cycles are cut', () => {
  const error = new Error('clone of https://u:pw-secret@host/x failed', {
    cause: new Error('token ghp_abcdefghijklmnopqrstuvwxyz0123456789'),
  });
  const value: Record<string, unknown> = { deep: { list: ['glpat-abcdefghij1234567890'] }, error };
  value.self = value;
  const text = JSON.stringify(scrubLogValue(value));
  expect(text).not.toContain('pw-secret');
  expect(text).not.toContain('ghp_abc');
  expect(text).not.toContain('glpat-abc');
  expect(text).toContain('[circular]');
});

test('the logger redacts credential fields and scrubs messages, fields and errors', () => {
  const lines: string[] = [];
  const destination: DestinationStream = { write: (line: string) => void lines.push(line) };
  const logger = createLogger({ level: 'info', destination });

  logger.info(
    {
      token: 'plain-token-value',
      settings: { password: 'p4ss', secret: 's3cret' },
      req: {
        method: 'GET',
        url: '/x?access_token=abcdef123456',
        headers: { authorization: 'Bearer zzz' },
      },
      detail: 'remote https://bot:ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/a/b.git',
      err: new Error('auth with glpat-abcdefghij1234567890 failed'),
    },
    'push to https://bot:hunter2@example.com failed',
  );

  expect(lines).toHaveLength(1);
  const line = lines[0]!;
  for (const secret of [
    'plain-token-value',
    'p4ss',
    's3cret',
    'abcdef123456',
    'zzz',
    'ghp_abc',
    'glpat-abc',
    'hunter2',
  ]) {
    expect(line).not.toContain(secret);
  }
  const entry = JSON.parse(line) as Record<string, unknown>;
  expect(entry.req).toEqual({ method: 'GET', url: '/x?access_token=[redacted]' });
  expect(entry.msg).toBe('push to https://[redacted]@example.com failed');
});
