import type { Browser, Page } from 'playwright-core';
import type { Role } from '../../core/model.js';
import { startGitHubDouble, type GitHubDouble } from '../doubles/github/github-double.js';
import { appFiles, OWNER } from '../gateway/catalog/catalog-support.js';
import { sampleApp } from '../gateway/gateway-fixtures.js';
import {
  browserSuiteRuns,
  launchChromium,
  openPage,
  screenshot,
  type WatchedPage,
} from './browser.js';
import { connectGitHubCatalog } from './github-catalog.js';
import { buildUiIntoTemp, GIT_OWNER, startUiStack, type UiStack } from './ui-stack.js';

const suite = browserSuiteRuns() ? describe : describe.skip;

suite('admin web UI in Chromium', () => {
  let browser: Browser;
  let built: { dir: string; remove(): Promise<void> };
  let stack: UiStack | null = null;
  let open: WatchedPage[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
    built = await buildUiIntoTemp();
  });
  afterAll(async () => {
    await browser?.close();
    await built?.remove();
  });

  afterEach(async () => {
    // Pages hold the event stream open; close them before the gateway waits for its connections.
    for (const watched of open) await watched.context.close();
    open = [];
    await stack?.close();
    stack = null;
  });

  async function start(mode: 'local' | 'onprem', env: Record<string, string> = {}) {
    stack = await startUiStack({ uiDir: built.dir, env: { DEPLOYMENT_MODE: mode, ...env } });
    return stack;
  }

  async function page(): Promise<WatchedPage> {
    const watched = await openPage(browser, stack!.gateway.url);
    open.push(watched);
    return watched;
  }

  /** Signs in through the sign-in page as a person with `role`, landing on `path`. */
  async function signedIn(role: Role, sub: string, path = '/apps'): Promise<WatchedPage> {
    const watched = await page();
    const token = await stack!.gateway.userToken({ role, sub });
    await watched.page.goto(path);
    await watched.page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await watched.page.getByLabel('Access token').fill(token);
    await watched.page.getByRole('button', { name: 'Sign in' }).click();
    await watched.page.locator('#account', { hasText: sub }).waitFor();
    return watched;
  }

  /** Asks the gateway to publish an app, as a builder would; the sync runs after the answer. */
  async function publish(appId: string, sub = 'bob'): Promise<void> {
    const response = await stack!.gateway.request(`/api/v1/apps/${appId}/source-control/publish`, {
      method: 'POST',
      token: await stack!.gateway.userToken({ role: 'builder', sub }),
    });
    expect(response.status).toBe(202);
  }

  function expectClean(watched: WatchedPage) {
    expect(watched.problems).toEqual([]);
    expect(watched.foreignRequests).toEqual([]);
  }

  function sameDocument(page: Page): Promise<boolean | undefined> {
    return page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument);
  }

  async function heading(page: Page, name: string) {
    await page.getByRole('heading', { level: 1, name }).waitFor();
  }

  test('signs in with a pasted token into an httpOnly cookie, explains a bad token, signs out', async () => {
    await start('local');
    const watched = await page();
    const { page: p, context } = watched;

    await p.goto('/');
    await heading(p, 'Sign in');
    await screenshot(p, 'sign-in');

    await p.getByLabel('Access token').fill('not-a-token');
    await p.getByRole('button', { name: 'Sign in' }).click();
    const alert = p.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain(
      'Signing in failed. The token is not valid, or it has expired.',
    );
    await screenshot(p, 'sign-in-error');

    const token = await stack!.gateway.userToken({ role: 'admin', sub: 'alice' });
    await p.getByLabel('Access token').fill(token);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await heading(p, 'Apps');
    expect(await p.locator('#account').textContent()).toContain('alice · Admin · acme');
    expect(await p.getByLabel('Access token').count()).toBe(0);

    const cookies = await context.cookies();
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatchObject({
      name: 'second_session',
      httpOnly: true,
      sameSite: 'Strict',
    });
    expect(await p.evaluate(() => document.cookie)).toBe('');

    // A reload keeps the session; an address typed by hand opens its page.
    await p.goto('/settings/source-control');
    await heading(p, 'Source control');
    expect(await p.getByRole('link', { name: 'Settings' }).getAttribute('aria-current')).toBe(
      'page',
    );

    await p.getByRole('button', { name: 'Sign out' }).click();
    await heading(p, 'Sign in');
    expect(await context.cookies()).toEqual([]);
    await p.reload();
    await heading(p, 'Sign in');
    expectClean(watched);
  });

  test('a session ended in another tab sends this one back to sign in, then to where it was', async () => {
    await start('local');
    const watched = await signedIn('admin', 'alice');
    const p = watched.page;
    await heading(p, 'Apps');

    const other = await watched.context.newPage();
    await other.goto('/apps');
    await other.getByRole('button', { name: 'Sign out' }).click();
    await heading(other, 'Sign in');
    await other.close();

    await p.getByRole('link', { name: 'Settings' }).click();
    await heading(p, 'Sign in');
    await p
      .locator('#status', { hasText: 'Your session ended. Sign in again.' })
      .waitFor({ state: 'attached' });
    const token = await stack!.gateway.userToken({ role: 'admin', sub: 'alice' });
    await p.getByLabel('Access token').fill(token);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await heading(p, 'Source control');
    expectClean(watched);
  });

  test('settings against a plain git server: live repo name, validation, write-only token, disconnect', async () => {
    await start('onprem');
    const watched = await signedIn('admin', 'alice', '/settings/source-control');
    const p = watched.page;
    await heading(p, 'Source control');
    expect(await p.locator('#connection-state').textContent()).toContain('Not connected');

    await p.getByLabel('Provider', { exact: true }).selectOption('git');
    expect(await p.getByLabel('Base URL').isVisible()).toBe(true);
    await p.getByLabel('Base URL').fill(stack!.git.baseUrl);
    await p.getByLabel('Owner', { exact: true }).fill(GIT_OWNER);
    await p.getByLabel('Organization (folder)').check();

    await p.getByLabel('Repository name prefix').fill('Team_Apps');
    await p.locator('#repo-prefix-error', { hasText: 'lower-case letters' }).waitFor();
    await p.getByLabel('Repository name prefix').fill('team-apps');
    await p.getByLabel('Example app name').fill('Café Déjà Vu — Ops!');
    expect(await p.locator('#repo-preview').textContent()).toBe('team-apps-cafe-deja-vu-ops');

    const policy = p.getByRole('switch', { name: 'Store app source in source control' });
    expect(await policy.isChecked()).toBe(false);
    await policy.check();

    // A wrong token is refused by the server and nothing is saved.
    await p.getByLabel('Token', { exact: true }).fill('wrong-token');
    await p.getByRole('button', { name: 'Save and check' }).click();
    await p.locator('#save-result .error-box').waitFor();
    expect(await p.locator('#save-result').textContent()).toContain(
      'The provider refused the token.',
    );
    expect(await p.locator('#connection-state').textContent()).toContain('Not connected');
    await screenshot(p, 'settings-refused');

    await p.getByLabel('Token', { exact: true }).fill(stack!.gitToken);
    await p.getByRole('button', { name: 'Save and check' }).click();
    const report = p.locator('#permission-report');
    await report.waitFor();
    expect(await report.textContent()).toContain(
      `the server accepted the token under ${stack!.git.baseUrl}/${GIT_OWNER}/`,
    );
    expect(await report.textContent()).toContain('every permission the gateway needs');
    expect(await p.getByLabel('Token', { exact: true }).inputValue()).toBe('');
    expect(await p.locator('#connection-state').textContent()).toMatch(/Set on .+ by alice\./);
    await screenshot(p, 'settings-git-connected');

    const admin = await stack!.gateway.userToken({ role: 'admin' });
    const saved = (await (
      await stack!.gateway.request('/api/v1/source-control', { token: admin })
    ).json()) as {
      settings: Record<string, unknown>;
    };
    expect(saved.settings).toMatchObject({
      connected: true,
      provider: 'git',
      baseUrl: stack!.git.baseUrl,
      owner: GIT_OWNER,
      ownerType: 'org',
      repoPrefix: 'team-apps',
      storeAppSource: true,
    });
    expect(JSON.stringify(saved)).not.toContain(stack!.gitToken);

    // After a reload the token shows only as set, the field empty and optional.
    await p.reload();
    await heading(p, 'Source control');
    expect(await p.getByLabel('Token', { exact: true }).inputValue()).toBe('');
    expect(await p.locator('#token-hint').textContent()).toContain('Leave empty to keep it.');
    expect(await p.content()).not.toContain(stack!.gitToken);

    await p.getByRole('button', { name: 'Disconnect…' }).click();
    await p.getByRole('button', { name: 'Disconnect and delete the token' }).click();
    await p.locator('#connection-state', { hasText: 'Not connected' }).waitFor();

    // Another admin connecting meanwhile shows up on the open page.
    await stack!.connect();
    await p.locator('#connection-state', { hasText: 'Plain git over HTTPS' }).waitFor();
    expectClean(watched);
  });

  test('settings against the GitHub double list each missing permission with what to grant', async () => {
    await start('local');
    const github: GitHubDouble = await startGitHubDouble('ghes');
    try {
      github.addOwner('acme-org', 'org');
      github.addToken({
        value: 'ghp_readonly_token_0123456789',
        login: 'octo',
        kind: 'classic',
        scopes: ['read:org'],
      });

      const watched = await signedIn('owner', 'olga', '/settings/source-control');
      const p = watched.page;
      await p.getByLabel('Provider', { exact: true }).selectOption('github');
      expect(await p.getByLabel('Base URL').isVisible()).toBe(false);
      await p.getByLabel('GitHub Enterprise Server (self-hosted)').check();
      await p.getByLabel('Base URL').fill(github.baseUrl!);
      await p.getByLabel('Owner', { exact: true }).fill('acme-org');
      await p.getByLabel('Organization').check();
      // Local mode has no workspace storage policy.
      expect(
        await p.getByRole('switch', { name: 'Store app source in source control' }).count(),
      ).toBe(0);

      await p.getByLabel('Token', { exact: true }).fill('ghp_readonly_token_0123456789');
      await p.getByRole('button', { name: 'Save and check' }).click();
      const report = p.locator('#permission-report');
      await report.waitFor();
      const text = (await report.textContent()) ?? '';
      expect(text).toContain('Connected to GitHub as octo.');
      expect(text).toContain('the token is missing permissions');
      expect(text).toContain('Classic token scope "repo"');
      expect(text).toContain('choose "All repositories"');
      expect(text).toContain('Administration (read and write) and Contents (read and write)');
      expect(await report.locator('ul.missing li').count()).toBe(1);
      await screenshot(p, 'settings-github-missing-permissions');
      expectClean(watched);
    } finally {
      await github.close();
    }
  });

  test('a build arriving while the apps page is open updates the list without a reload', async () => {
    const s = await start('local');
    const appId = await s.gateway.createApp('Customer Console');
    const watched = await signedIn('viewer', 'vera');
    const p = watched.page;
    const row = p.locator(`tr[data-app-id="${appId}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('No build yet');
    expect(await row.locator('[data-status]').getAttribute('data-status')).toBe('disabled');
    await p.locator('html[data-live="open"]').waitFor();
    await p.evaluate(() => Object.assign(window, { sameDocument: true }));

    await s.build(appId, 'First screen');
    await row.locator('td', { hasText: /\d{4}/ }).first().waitFor();
    expect(await row.textContent()).not.toContain('No build yet');
    expect(await row.textContent()).toContain('Local only');
    expect(await sameDocument(p)).toBe(true);
    expectClean(watched);
  });

  test('with the workspace policy on, the open list follows a build to synced and v1', async () => {
    const s = await start('onprem');
    await s.connect({ storeAppSource: true });
    await s.git.createRepo(GIT_OWNER, 'second-app-customer-console');
    const appId = await s.gateway.createApp('Customer Console');
    await s.gateway.createApp('Ledger');
    const watched = await signedIn('builder', 'bob');
    const p = watched.page;
    const row = p.locator(`tr[data-app-id="${appId}"]`);
    await row.waitFor();
    await p.locator('html[data-live="open"]').waitFor();
    await p.evaluate(() => Object.assign(window, { sameDocument: true }));

    await s.build(appId, 'First screen');
    await row.locator('[data-status="synced"]').waitFor();
    expect(await row.locator('.version-cell').textContent()).toBe('v1');
    expect(await sameDocument(p)).toBe(true);
    await p
      .locator('#status', { hasText: 'Customer Console: Synced' })
      .waitFor({ state: 'attached' });
    await screenshot(p, 'apps');
    expectClean(watched);
  });

  test('publish from the app page makes v1, versions preview and restore as draft (local mode)', async () => {
    const s = await start('local');
    await s.connect();
    await s.git.createRepo(GIT_OWNER, 'second-app-customer-console');
    const appId = await s.gateway.createApp('Customer Console');
    await s.build(appId, 'First screen\nwith the customer table');

    const watched = await signedIn('builder', 'bob', `/apps/${appId}`);
    const p = watched.page;
    await heading(p, 'Customer Console');
    expect(await p.locator('#draft-preview').getAttribute('href')).toBe(`/preview/${appId}/`);
    expect(await p.locator('#sync-status').textContent()).toContain('Local only');

    await p.getByRole('button', { name: 'Publish to source control' }).click();
    await p.locator('#sync-status[data-status="synced"]').waitFor();
    expect(await p.locator('#sync-status').textContent()).toBe(
      'Synced: version 1 is in source control.',
    );
    const v1 = p.locator('#versions-table tr[data-version="1"]');
    await v1.waitFor();
    expect(await v1.textContent()).toContain('second-app-v1');
    expect(await v1.textContent()).toContain('First screen');
    expect(await v1.textContent()).toContain('Pushed');
    expect(await v1.getByRole('link', { name: /Preview version 1/ }).getAttribute('href')).toBe(
      `/preview/${appId}/v/1/`,
    );
    expect(await p.getByRole('button', { name: 'Publish to source control' }).count()).toBe(0);
    expect(await p.locator('#repo-link').textContent()).toBe(
      `${GIT_OWNER}/second-app-customer-console`,
    );
    await screenshot(p, 'app-published');

    // Sharing is a switch; the gateway commits the manifest change after answering.
    const share = p.getByRole('switch', { name: 'Share in Available Apps' });
    expect(await share.isChecked()).toBe(false);
    const answered = p.waitForResponse((r) => r.url().endsWith('/source-control/share'));
    await share.check();
    expect((await answered).status()).toBe(202);
    await s.settle();
    const viewer = await s.gateway.userToken({ role: 'viewer' });
    const shared = (await (
      await s.gateway.request(`/api/v1/apps/${appId}`, { token: viewer })
    ).json()) as {
      app: { sourceControl: { availableInCatalog: boolean } };
    };
    expect(shared.app.sourceControl.availableInCatalog).toBe(true);
    await p.locator('#share:checked').waitFor();

    // The version preview link opens the app page of that version.
    const preview = await p.context().request.get(`/preview/${appId}/v/1/`);
    expect(preview.status()).toBe(200);
    expect(await preview.text()).toContain('<title>Console</title>');

    // Viewing a version offers its own restore, which returns to the draft.
    await v1.getByRole('link', { name: 'v1' }).click();
    await p.getByRole('heading', { name: 'Viewing version 1' }).waitFor();
    await p.getByRole('button', { name: 'Restore version 1 as the draft' }).first().click();
    await p.locator('#action-result', { hasText: 'Version 1 is now the draft.' }).waitFor();
    await heading(p, 'Customer Console');
    await p.getByRole('heading', { name: 'Draft' }).waitFor();
    expectClean(watched);
  });

  test('the keyboard alone signs in, opens an app and publishes it, focus following each page', async () => {
    const s = await start('local');
    await s.connect();
    await s.git.createRepo(GIT_OWNER, 'second-app-customer-console');
    const appId = await s.gateway.createApp('Customer Console');
    await s.build(appId, 'First screen');
    const watched = await page();
    const p = watched.page;
    const focused = () =>
      p.evaluate(() => {
        const element = document.activeElement;
        return element
          ? `${element.tagName.toLowerCase()}:${element.textContent?.trim() ?? ''}`
          : '';
      });

    await p.goto('/');
    await heading(p, 'Sign in');
    expect(await focused()).toBe('h1:Sign in');
    await p.keyboard.press('Tab');
    await p.keyboard.insertText(await s.gateway.userToken({ role: 'builder', sub: 'bob' }));
    await p.keyboard.press('Tab');
    expect(await focused()).toBe('button:Sign in');
    await p.keyboard.press('Enter');

    await heading(p, 'Apps');
    await p.locator(`tr[data-app-id="${appId}"]`).waitFor();
    expect(await focused()).toBe('h1:Apps');
    await p.keyboard.press('Tab');
    expect(await focused()).toBe('summary:New app');
    await p.keyboard.press('Tab');
    expect(await focused()).toBe('a:Customer Console');
    await p.keyboard.press('Enter');

    await heading(p, 'Customer Console');
    expect(await focused()).toMatch(/^h1:Customer Console/);
    await p.keyboard.press('Tab');
    expect(await focused()).toBe('a:Open the draft preview');
    await p.keyboard.press('Tab');
    expect(await focused()).toBe('button:Publish to source control');
    await p.keyboard.press('Enter');
    await p.locator('#sync-status[data-status="synced"]').waitFor();
    expectClean(watched);
  });

  test('a failing sync shows its error in plain words, and Retry brings it to synced', async () => {
    const s = await start('local', { SYNC_MAX_ATTEMPTS: '1' });
    await s.connect();
    await s.git.createRepo(GIT_OWNER, 'second-app-ledger');
    const appId = await s.gateway.createApp('Ledger');
    await s.build(appId, 'Ledger v1');

    const watched = await signedIn('builder', 'bob', `/apps/${appId}`);
    const p = watched.page;
    await heading(p, 'Ledger');
    s.git.setMode('unavailable');
    await p.getByRole('button', { name: 'Publish to source control' }).click();

    await p.locator('#sync-status[data-status="failed"]').waitFor();
    const error = p.locator('#sync-error');
    await error.waitFor();
    const code = await error.getAttribute('data-code');
    expect(code).toBe('provider_unavailable');
    expect(await error.textContent()).toContain(
      'The last sync failed: the provider did not answer.',
    );
    expect(await error.textContent()).toContain('The gateway will not retry by itself.');
    await screenshot(p, 'app-sync-failed');

    s.git.setMode('ok');
    await p.getByRole('button', { name: 'Retry' }).click();
    await p.locator('#sync-status[data-status="synced"]').waitFor();
    expect(await p.locator('#sync-error').count()).toBe(0);
    expect(await p.getByRole('button', { name: 'Retry' }).count()).toBe(0);
    await p.locator('#versions-table tr[data-version="1"]').waitFor();
    expectClean(watched);
  });

  test('Publish is offered only on the draft of an app that has been built', async () => {
    const s = await start('local');
    await s.connect();
    const built = await s.gateway.createApp('Ledger');
    await s.build(built, 'Ledger v1');
    const neverBuilt = await s.gateway.createApp('Notes');

    const watched = await signedIn('builder', 'bob', `/apps/${built}`);
    const p = watched.page;
    const publishButton = p.getByRole('button', { name: 'Publish to source control' });
    await p.locator('#draft-preview').waitFor();
    expect(await publishButton.count()).toBe(1);

    // Looking at a version rather than the draft: there is nothing to publish from here.
    await p.goto(`/apps/${built}?version=1`);
    await p.getByRole('heading', { name: 'Viewing version 1' }).waitFor();
    expect(await publishButton.count()).toBe(0);

    // With no draft the gateway would refuse the publish (no_draft), so the page does not offer it.
    await p.goto(`/apps/${neverBuilt}`);
    await heading(p, 'Notes');
    await p.getByText('No build yet: the draft appears when the app is first built.').waitFor();
    expect(await publishButton.count()).toBe(0);
    expectClean(watched);
  });

  test('a viewer lists Available Apps without Get or Update, which a builder is offered', async () => {
    const s = await start('local');
    const catalog = await connectGitHubCatalog(s);
    try {
      await catalog.share('second-app-alpha', 'Alpha Console');
      await catalog.share('second-app-beta', 'Beta Board');
      const installed = await s.gateway.request('/api/v1/catalog/install', {
        method: 'POST',
        token: await s.gateway.userToken({ role: 'builder' }),
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ repo: 'second-app-beta' }),
      });
      expect(installed.status).toBe(201);
      await catalog.pushVersion('second-app-beta', 2, 'Beta Board');

      const alpha = (p: Page) => p.locator('tr[data-repo="second-app-alpha"]');
      const beta = (p: Page) => p.locator('tr[data-repo="second-app-beta"]');

      const asBuilder = (await signedIn('builder', 'bob', '/available-apps')).page;
      await alpha(asBuilder).getByRole('button', { name: 'Get Alpha Console' }).waitFor();
      await beta(asBuilder).getByRole('button', { name: 'Update to v2: Beta Board' }).waitFor();

      const watched = await signedIn('viewer', 'vera', '/available-apps');
      const p = watched.page;
      await heading(p, 'Available Apps');
      await p.getByText('Your role can look but not install or update.').waitFor();
      await alpha(p).waitFor();
      expect(await alpha(p).textContent()).toContain('Alpha Console');
      expect(await alpha(p).locator('.copy-cell').textContent()).toBe('Not installed');
      expect(await beta(p).locator('.copy-cell').textContent()).toBe('v1 (v2 available)');
      await beta(p).getByRole('link', { name: 'Open Beta Board' }).waitFor();
      expect(await p.locator('#catalog-table').getByRole('button').count()).toBe(0);
      await screenshot(p, 'available-apps-viewer');
      expectClean(watched);
    } finally {
      await catalog.close();
    }
  });

  test('Available Apps: Get shows progress, then Open; a newer version offers Update; a broken repo says why', async () => {
    const s = await start('local');
    const catalog = await connectGitHubCatalog(s);
    try {
      await catalog.share('second-app-alpha', 'Alpha Console');
      await catalog.share('second-app-beta', 'Beta Board');
      catalog.proxy.failPaths([`/api/v3/repos/${OWNER}/second-app-beta/contents/second-app.json`]);

      const watched = await signedIn('builder', 'bob', '/available-apps');
      const p = watched.page;
      await heading(p, 'Available Apps');
      const alpha = p.locator('tr[data-repo="second-app-alpha"]');
      const beta = p.locator('tr[data-repo="second-app-beta"]');
      await alpha.waitFor();
      expect(await alpha.textContent()).toContain('Alpha Console');
      expect(await alpha.locator('.copy-cell').textContent()).toBe('Not installed');
      const betaError = beta.locator('.inline-error');
      await betaError.waitFor();
      expect(await betaError.textContent()).toContain('This repository cannot be used:');
      expect(await beta.getByRole('button').count()).toBe(0);

      // Hold the install request in the browser to see the row while it works.
      let release: () => void = () => undefined;
      const held = new Promise<void>((resolve) => (release = resolve));
      await p.route('**/api/v1/catalog/install', async (route) => {
        await held;
        await route.continue();
      });
      await alpha.getByRole('button', { name: 'Get Alpha Console' }).click();
      const progress = alpha.locator('.row-progress progress');
      await progress.waitFor();
      expect(await alpha.locator('.row-progress').textContent()).toContain(
        'Getting Alpha Console: downloading and importing…',
      );
      expect(await alpha.getAttribute('aria-busy')).toBe('true');
      await screenshot(p, 'available-apps-getting');
      release();

      const open = alpha.getByRole('link', { name: 'Open Alpha Console' });
      await open.waitFor();
      expect(await alpha.locator('.copy-cell').textContent()).toBe('v1');
      expect(await alpha.getByRole('button', { name: /Update/ }).count()).toBe(0);
      await screenshot(p, 'available-apps');
      await p.unroute('**/api/v1/catalog/install');

      const installedId = decodeURIComponent((await open.getAttribute('href'))!.split('/').pop()!);
      await open.click();
      await heading(p, 'Alpha Console');
      await p.getByText(`Installed from ${OWNER}/second-app-alpha version 1`).waitFor();

      // A newer version pushed to the repository offers an update naming it.
      await catalog.pushVersion('second-app-alpha', 2, 'Alpha Console');
      await p.getByRole('link', { name: 'Available Apps' }).click();
      await heading(p, 'Available Apps');
      const update = alpha.getByRole('button', { name: 'Update to v2: Alpha Console' });
      await update.waitFor();

      // The copy was built here since: the update says what would be lost and asks again.
      await s.build(installedId, 'Local tweak', { ...appFiles(1), 'src/tweak.ts': 'export {};\n' });
      await update.click();
      const anyway = alpha.getByRole('button', { name: 'Update anyway: Alpha Console' });
      await anyway.waitFor();
      expect(await alpha.locator('.error-box').textContent()).toContain(
        'This copy was built locally since it was installed.',
      );
      expect(await p.evaluate(() => document.activeElement?.textContent)).toBe('Update anyway');
      await screenshot(p, 'available-apps-local-changes');
      await anyway.click();
      await alpha.locator('.copy-cell', { hasText: /^v2$/ }).waitFor();
      await alpha.getByRole('link', { name: 'Open Alpha Console' }).waitFor();
      expect(await alpha.getByRole('button', { name: /Update/ }).count()).toBe(0);
      expectClean(watched);
    } finally {
      await catalog.close();
    }
  });

  test('a viewer sees no control that changes anything where a builder has one', async () => {
    const s = await start('local', { SYNC_MAX_ATTEMPTS: '1' });
    await s.connect();
    await s.git.createRepo(GIT_OWNER, 'second-app-customer-console');
    const published = await s.gateway.createApp('Customer Console');
    await s.build(published, 'First screen');
    await publish(published);
    const draftOnly = await s.gateway.createApp('Ledger');
    await s.build(draftOnly, 'Ledger v1');
    // Plain git cannot create its missing repository, and with one attempt allowed it stays failed.
    const failed = await s.gateway.createApp('Payroll');
    await s.build(failed, 'Payroll v1');
    await publish(failed);
    await s.settle();

    // Each page, what shows it is loaded, and the control a builder is offered there.
    const pages = [
      {
        path: `/apps/${published}?version=1`,
        ready: '#versions-table',
        control: /Restore version 1 as the draft/,
      },
      { path: `/apps/${draftOnly}`, ready: '#draft-preview', control: 'Publish to source control' },
      { path: `/apps/${failed}`, ready: '#sync-error', control: 'Retry' },
    ];
    const changing = [/Restore version \d+ as the draft/, 'Publish to source control', 'Retry'];
    const share = (p: Page) => p.getByRole('switch', { name: 'Share in Available Apps' });

    // The builder sees each control first, so their absence below is the viewer's role at work.
    const asBuilder = (await signedIn('builder', 'bob')).page;
    await asBuilder.locator(`tr[data-app-id="${published}"]`).waitFor();
    expect(await asBuilder.getByText('New app', { exact: true }).count()).toBe(1);
    for (const { path, ready, control } of pages) {
      await asBuilder.goto(path);
      await asBuilder.locator(ready).waitFor();
      const offered = (await asBuilder.getByRole('button', { name: control }).count()) > 0;
      expect({ path, offered }).toEqual({ path, offered: true });
    }
    await asBuilder.goto(`/apps/${published}`);
    await asBuilder.locator('#versions-table').waitFor();
    expect(await share(asBuilder).isDisabled()).toBe(false);

    const watched = await signedIn('viewer', 'vera');
    const p = watched.page;
    await p.locator(`tr[data-app-id="${published}"]`).waitFor();
    expect(await p.getByText('New app', { exact: true }).count()).toBe(0);
    expect(await p.getByRole('link', { name: 'Audit' }).count()).toBe(0);
    for (const { path, ready } of pages) {
      await p.goto(path);
      await p.locator(ready).waitFor();
      for (const name of changing) {
        const count = await p.getByRole('button', { name }).count();
        expect({ path, name: String(name), count }).toEqual({ path, name: String(name), count: 0 });
      }
    }
    await p.goto(`/apps/${published}`);
    await p.locator('#versions-table').waitFor();
    expect(await share(p).isDisabled()).toBe(true);
    await screenshot(p, 'app-viewer');

    await p.getByRole('link', { name: 'Settings' }).click();
    await heading(p, 'Source control');
    expect(
      await p.getByText('Only workspace owners and admins can change these settings.').count(),
    ).toBe(1);
    expect(await p.getByLabel('Owner', { exact: true }).isDisabled()).toBe(true);
    expect(await p.getByRole('button', { name: 'Save and check' }).count()).toBe(0);
    expect(await p.getByLabel('Token', { exact: true }).count()).toBe(0);
    expect(await p.locator('#connection-state').textContent()).toContain(
      'acme-apps (organization)',
    );
    expect(await p.getByRole('button', { name: 'Disconnect…' }).count()).toBe(0);
    await screenshot(p, 'settings-viewer');

    await p.goto('/audit');
    await heading(p, 'Audit');
    expect(
      await p.getByText('Only workspace owners and admins can read the audit log.').count(),
    ).toBe(1);
    expectClean(watched);
  });

  test('the audit page lists recent events and filters them by app', async () => {
    const s = await start('local');
    await s.connect();
    await s.git.createRepo(GIT_OWNER, 'second-app-customer-console');
    const appId = await s.gateway.createApp('Customer Console');
    await s.gateway.createApp('Ledger');
    await s.build(appId, 'First screen', sampleApp());
    await publish(appId, 'bob');
    await s.settle();

    const watched = await signedIn('owner', 'olga', '/audit');
    const p = watched.page;
    await heading(p, 'Audit');
    const table = p.locator('#audit-table');
    await table.waitFor();
    const all = (await table.locator('tbody tr').allTextContents()).join('\n');
    expect(all).toContain('alice');
    expect(all).toContain('bob');
    await screenshot(p, 'audit');

    await p.getByLabel('App', { exact: true }).selectOption({ label: 'Customer Console' });
    await p.waitForURL(`**/audit?appId=${appId}`);
    await table.waitFor();
    const rows = await table.locator('tbody tr').allTextContents();
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row).toContain('Customer Console');
    expectClean(watched);
  });
});
