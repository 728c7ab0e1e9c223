import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGitHubAdapter } from '../../../adapters/providers/github/github-adapter.js';
import type { ProviderConnection } from '../../../adapters/providers/provider-port.js';
import { startGitHubDouble, type GitHubDouble } from './github-double.js';

// The GitHub double is held to GitHub's own description of its API: every answer it gives the
// adapter in a realistic run is checked against the operation's documented statuses and the
// properties its response schema marks required (nested ones included), and against the
// recorded answers of @octokit/fixtures where a scenario covers the call. A small hand-written
// check of required properties and types, not a full JSON-schema validator.

type Schema = Record<string, unknown>;

interface Exchange {
  method: string;
  url: URL;
  status: number;
  headers: Headers;
  body: unknown;
}

const root = process.cwd();
const spec = JSON.parse(
  readFileSync(join(root, 'node_modules/@octokit/openapi/generated/api.github.com.json'), 'utf8'),
) as { paths: Record<string, Record<string, { responses: Record<string, Schema> }>> } & Schema;

function fixture(name: string): {
  method: string;
  path: string;
  status: number;
  response: unknown;
  headers: Record<string, string>;
}[] {
  const file = join(
    root,
    'node_modules/@octokit/fixtures/scenarios/api.github.com',
    name,
    'normalized-fixture.json',
  );
  return JSON.parse(readFileSync(file, 'utf8'));
}

function deref(node: unknown): Schema {
  let current = node as Schema;
  while (current && typeof current.$ref === 'string') {
    current = (current.$ref as string)
      .slice(2)
      .split('/')
      .reduce<unknown>((at, key) => (at as Schema)[key], spec) as Schema;
  }
  return current;
}

/** The spec's operation for a request path, the most specific template first. */
function operationFor(
  method: string,
  path: string,
): { template: string; op: { responses: Record<string, Schema> } } | null {
  const candidates = Object.keys(spec.paths)
    .filter((template) => spec.paths[template][method.toLowerCase()])
    .filter((template) => {
      const pattern = template
        .split('/')
        .map((part) =>
          part === '{path}'
            ? '.+'
            : /^\{.+\}$/.test(part)
              ? '[^/]+'
              : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
        )
        .join('/');
      return new RegExp(`^${pattern}$`).test(path);
    })
    .sort((a, b) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0));
  const template = candidates[0];
  return template ? { template, op: spec.paths[template][method.toLowerCase()] } : null;
}

/** Problems of `value` against `schema`: missing required properties and wrong basic types. */
function check(schemaNode: unknown, value: unknown, at: string, depth = 0): string[] {
  const schema = deref(schemaNode);
  if (!schema || depth > 6) return [];

  if (Array.isArray(schema.allOf))
    return schema.allOf.flatMap((s) => check(s, value, at, depth + 1));
  const alternatives = (schema.oneOf ?? schema.anyOf) as unknown[] | undefined;
  if (Array.isArray(alternatives)) {
    const results = alternatives.map((s) => check(s, value, at, depth + 1));
    return results.some((r) => r.length === 0)
      ? []
      : [`${at}: matches none of ${alternatives.length} alternatives (${results[0].join('; ')})`];
  }

  const types = Array.isArray(schema.type)
    ? (schema.type as string[])
    : schema.type
      ? [schema.type as string]
      : [];
  if (value === null) {
    return schema.nullable === true || types.includes('null') || types.length === 0
      ? []
      : [`${at}: null is not allowed`];
  }
  if (types.includes('array') || schema.items) {
    if (!Array.isArray(value)) return [`${at}: expected an array`];
    return value
      .slice(0, 3)
      .flatMap((item, i) => check(schema.items, item, `${at}[${i}]`, depth + 1));
  }
  if (types.includes('object') || schema.properties || schema.required) {
    if (!value || typeof value !== 'object' || Array.isArray(value))
      return [`${at}: expected an object`];
    const record = value as Record<string, unknown>;
    const problems = ((schema.required as string[] | undefined) ?? [])
      .filter((key) => !(key in record))
      .map((key) => `${at}.${key}: required but missing`);
    const properties = (schema.properties ?? {}) as Record<string, unknown>;
    for (const [key, child] of Object.entries(properties)) {
      if (key in record) problems.push(...check(child, record[key], `${at}.${key}`, depth + 1));
    }
    return problems;
  }
  const actual = Number.isInteger(value) ? 'integer' : typeof value;
  const fits =
    types.length === 0 ||
    types.some((t) => t === actual || (t === 'number' && actual === 'integer'));
  return fits ? [] : [`${at}: expected ${types.join('|')}, got ${actual}`];
}

// Answers any GitHub endpoint may give whatever its operation lists: a bad token, a missing or
// hidden resource, a rate limit, an outage.
const GENERIC_STATUSES = new Set([401, 403, 404, 429, 503]);

describe('GitHub double against the OpenAPI description and @octokit/fixtures', () => {
  let double: GitHubDouble;
  let exchanges: Exchange[];

  const recordingFetch: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    const url = new URL(input instanceof Request ? input.url : String(input));
    let body: unknown = null;
    if ((response.headers.get('content-type') ?? '').includes('json')) {
      body = await response.clone().json();
    }
    exchanges.push({
      method: init?.method ?? 'GET',
      url,
      status: response.status,
      headers: response.headers,
      body,
    });
    return response;
  };

  const adapter = (overrides: Partial<ProviderConnection> = {}) =>
    createGitHubAdapter(
      {
        provider: 'github',
        baseUrl: null,
        owner: 'acme',
        ownerType: 'org',
        token: 'tok-openapi',
        ...overrides,
      },
      { fetch: recordingFetch, dotComEndpoints: { api: double.urls.api, web: double.urls.web } },
    );

  beforeAll(async () => {
    exchanges = [];
    double = await startGitHubDouble('dotcom');
    double.addOwner('acme', 'org');
    double.addOwner('other-user', 'user');
    double.addToken({ value: 'tok-openapi', login: 'mona' });
    double.setMaxPageSize(2);
    await double.seedRepo('acme', 'second-app-a', {
      files: { 'second-app.json': '{}' },
      tags: ['second-app-v1', 'second-app-v2', 'second-app-v3'],
      topics: ['second-app'],
    });
    await double.seedRepo('acme', 'second-app-b');
    await double.seedRepo('acme', 'second-app-c');
    await double.seedRepo('other-user', 'public-one', { private: false });

    const org = adapter();
    const user = adapter({ owner: 'mona', ownerType: 'user' });
    await org.validate();
    await adapter({ token: 'unknown' })
      .validate()
      .catch(() => undefined);
    await adapter({ owner: 'no-such-org' })
      .validate()
      .catch(() => undefined);
    await org.createRepo({ name: 'created-in-org', visibility: 'private' });
    await org.createRepo({ name: 'created-in-org', visibility: 'private' }).catch(() => undefined);
    await user.createRepo({ name: 'created-for-user', visibility: 'public' });
    await org.getRepo('second-app-a');
    await org.getRepo('missing');
    await org.addTopic('second-app-b', 'second-app');
    for await (const repo of org.listRepos()) expect(repo.name).toBeTruthy();
    for await (const repo of user.listRepos()) expect(repo.name).toBeTruthy();
    for await (const repo of adapter({ owner: 'other-user', ownerType: 'user' }).listRepos()) {
      expect(repo.name).toBeTruthy();
    }
    const read = await org.readFile('second-app-a', 'second-app.json', 'second-app-v1');
    await org.readFile(
      'second-app-a',
      'second-app.json',
      'second-app-v1',
      read.status === 'ok' ? read.etag : null,
    );
    await org.readFile('second-app-a', 'missing.json', 'second-app-v1');
    await org.listTags('second-app-a');
    const archive = await org.downloadArchive('second-app-a', 'second-app-v1');
    for await (const chunk of archive) expect(chunk).toBeDefined();
  });

  afterAll(async () => {
    await double.close();
  });

  it('answers only with statuses the operation documents, and bodies with every required property', () => {
    const problems: string[] = [];
    const seen = new Set<string>();

    for (const exchange of exchanges.filter((e) => e.url.origin === double.urls.api)) {
      const found = operationFor(exchange.method, exchange.url.pathname);
      const label = `${exchange.method} ${exchange.url.pathname} → ${exchange.status}`;
      if (!found) {
        problems.push(`${label}: no such operation in the description`);
        continue;
      }
      seen.add(`${exchange.method} ${found.template} ${exchange.status}`);

      const documented = found.op.responses[String(exchange.status)];
      if (!documented && !GENERIC_STATUSES.has(exchange.status)) {
        problems.push(`${label}: status not documented for ${found.template}`);
        continue;
      }
      if (exchange.status >= 400) {
        problems.push(...check({ $ref: '#/components/schemas/basic-error' }, exchange.body, label));
        continue;
      }
      const content =
        documented &&
        (deref(documented).content as Record<string, { schema: unknown }> | undefined);
      const schema = content?.['application/json']?.schema;
      if (schema && exchange.body !== null) problems.push(...check(schema, exchange.body, label));
    }

    expect(problems).toEqual([]);
    // The run covered every call the adapter makes, success and refusal alike.
    expect([...seen].sort()).toEqual(
      expect.arrayContaining([
        'GET /user 200',
        'GET /user 401',
        'GET /orgs/{org} 200',
        'GET /orgs/{org} 404',
        'POST /orgs/{org}/repos 201',
        'POST /orgs/{org}/repos 422',
        'POST /user/repos 201',
        'GET /repos/{owner}/{repo} 200',
        'GET /repos/{owner}/{repo} 404',
        'GET /repos/{owner}/{repo}/topics 200',
        'PUT /repos/{owner}/{repo}/topics 200',
        'GET /orgs/{org}/repos 200',
        'GET /user/repos 200',
        'GET /users/{username}/repos 200',
        'GET /repos/{owner}/{repo}/contents/{path} 200',
        'GET /repos/{owner}/{repo}/contents/{path} 304',
        'GET /repos/{owner}/{repo}/contents/{path} 404',
        'GET /repos/{owner}/{repo}/tags 200',
        'GET /repos/{owner}/{repo}/tarball/{ref} 302',
      ]),
    );
  });

  it('sends the rate-limit headers GitHub documents on every API answer', () => {
    for (const exchange of exchanges.filter((e) => e.url.origin === double.urls.api)) {
      expect(exchange.headers.get('x-ratelimit-limit')).toMatch(/^\d+$/);
      expect(exchange.headers.get('x-ratelimit-remaining')).toMatch(/^\d+$/);
      expect(exchange.headers.get('x-ratelimit-reset')).toMatch(/^\d{10}$/);
    }
  });

  it('has every repository property of the get-repository fixture but owner-only settings', () => {
    const recorded = fixture('get-repository').find((f) => f.status === 200)!;
    const ours = exchanges.find(
      (e) => e.method === 'GET' && e.url.pathname === '/repos/acme/second-app-a',
    )!;

    const missing = Object.keys(recorded.response as object).filter(
      (key) => !(key in (ours.body as object)),
    );
    // Shown only to people with admin rights on the repository, or only for organization
    // repositories read with such rights; the gateway reads none of them.
    const ownerOnly = [
      'permissions',
      'temp_clone_token',
      'allow_squash_merge',
      'allow_merge_commit',
      'allow_rebase_merge',
      'allow_auto_merge',
      'delete_branch_on_merge',
      'allow_update_branch',
      'use_squash_pr_title_as_default',
      'organization',
    ];
    expect(missing.filter((key) => !ownerOnly.includes(key))).toEqual([]);
  });

  it('has every organization property of the get-organization fixture but the owner-only ones', () => {
    const recorded = fixture('get-organization').find((f) => f.status === 200)!;
    const ours = exchanges.find((e) => e.method === 'GET' && e.url.pathname === '/orgs/acme')!;

    const missing = Object.keys(recorded.response as object).filter(
      (key) => !(key in (ours.body as object)),
    );
    // GitHub adds plan, billing and member-policy fields only when an organization owner asks.
    const ownerOnly =
      /^(total_private_repos|owned_private_repos|private_gists|disk_usage|collaborators|billing_email|default_repository_permission|members_.*|two_factor_requirement_enabled|web_commit_signoff_required|plan)$/;
    expect(missing.filter((key) => !ownerOnly.test(key))).toEqual([]);
  });

  it('redirects the tarball to another host and serves it as the get-archive fixture does', () => {
    const [redirect, download] = fixture('get-archive');
    const ours = exchanges.find((e) => e.url.pathname.endsWith('/tarball/second-app-v1'))!;

    expect(ours.status).toBe(redirect.status);
    const location = new URL(ours.headers.get('location')!);
    const recordedLocation = new URL(redirect.headers.location);
    expect(location.origin).not.toBe(double.urls.api);
    expect(location.pathname).toMatch(/^\/acme\/second-app-a\/legacy\.tar\.gz\/.+/);
    expect(recordedLocation.pathname).toMatch(/^\/[^/]+\/[^/]+\/legacy\.tar\.gz\/.+/);

    const served = exchanges.find((e) => e.url.origin === location.origin)!;
    expect(served.status).toBe(download.status);
    expect(served.headers.get('content-type')).toBe(download.headers['content-type']);
    expect(served.headers.get('content-disposition')).toMatch(
      /^attachment; filename=acme-second-app-a-[0-9a-f]{7}\.tar\.gz$/,
    );
    expect(download.headers['content-disposition']).toMatch(
      /^attachment; filename=.+-[0-9a-f]{7}\.tar\.gz$/,
    );
  });

  it('shapes validation failures as the errors fixture does', () => {
    const [recorded] = fixture('errors');
    const ours = exchanges.find((e) => e.method === 'POST' && e.status === 422)!;

    expect(Object.keys(ours.body as object)).toEqual(
      expect.arrayContaining(Object.keys(recorded.response as object)),
    );
    const [entry] = (ours.body as { errors: Record<string, unknown>[] }).errors;
    const [recordedEntry] = (recorded.response as { errors: Record<string, unknown>[] }).errors;
    expect(Object.keys(entry)).toEqual(expect.arrayContaining(Object.keys(recordedEntry)));
  });
});
