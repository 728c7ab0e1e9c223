import { api } from '../api.js';
import type { AppView, SettingsView, VersionView } from '../api-types.js';
import { h, replace } from '../dom.js';
import { errorText } from '../error-text.js';
import { continued, firstLine, formatBytes, formatDate } from '../format.js';
import { debounce } from '../live-events.js';
import type { PageContext } from '../router.js';
import { can } from '../session.js';
import { announce, busy, errorBox, notice, pageHeading, statusBadge } from '../widgets.js';

/** A message for the page navigated to after an action that leaves the current one. */
let flash: string | null = null;

interface AppState {
  app: AppView;
  versions: VersionView[] | Error;
  settings: SettingsView | null;
}

/**
 * One app: its draft and preview, publishing, the sync status with its error and Retry, sharing
 * in Available Apps, and its versions with previews and restore. `?version=N` views a version
 * instead of the draft.
 */
export async function appPage(context: PageContext): Promise<void> {
  const { view, session, live, params, query } = context;
  const appId = params.appId ?? '';
  const base = `/api/v1/apps/${encodeURIComponent(appId)}`;
  const viewing = parseVersion(query.get('version'));
  const builder = can(session, 'builder');

  const load = async (): Promise<AppState> => {
    const [app, versions, settings] = await Promise.all([
      api<{ app: AppView }>('GET', base).then((body) => body.app),
      api<{ versions: VersionView[] }>('GET', `${base}/versions`)
        .then((body) => body.versions)
        .catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))),
      api<{ settings: SettingsView }>('GET', '/api/v1/source-control')
        .then((body) => body.settings)
        .catch(() => null),
    ]);
    return { app, versions, settings };
  };

  const headingSlot = h('div', {});
  const bodySlot = h('div', { class: 'app-body' });
  const actionSlot = h('div', { class: 'outcome', id: 'action-result' });
  let lastStatus: string | null = null;

  const show = (state: AppState) => {
    // Re-rendering after a hint must not throw the keyboard user's place away.
    const focusedId = document.activeElement?.id;
    const { app } = state;
    document.title = `${app.name} · Second gateway`;

    if (lastStatus !== null && lastStatus !== app.sourceControl.status) {
      announce(`Source control: ${statusSentence(app)}`);
      // "Publishing started" and the like are history once the work they started is over.
      const settled = lastStatus === 'pending' && app.sourceControl.status !== 'pending';
      if (settled && actionSlot.querySelector('.notice-ok')) replace(actionSlot);
    }
    lastStatus = app.sourceControl.status;

    replace(
      headingSlot,
      h('p', { class: 'breadcrumb' }, h('a', { href: '/apps' }, 'Apps'), ' / '),
      pageHeading(app.name, statusBadge(app.sourceControl.status)),
    );
    replace(
      bodySlot,
      viewing === null
        ? draftSection(state, { builder, local: session.mode === 'local', act })
        : versionSection(state, viewing, { builder, act }),
      syncSection(state, { builder, act }),
      versionsSection(state, viewing, { builder, act }),
    );
    if (focusedId) document.getElementById(focusedId)?.focus();
  };

  const refresh = async () => {
    try {
      show(await load());
    } catch (error) {
      replace(actionSlot, errorBox(error, 'The app could not be reloaded.'));
    }
  };

  /** Runs an action from a button: busy while it runs, its outcome said and shown, then a reload. */
  async function act(
    button: HTMLButtonElement,
    working: string,
    run: () => Promise<string>,
  ): Promise<void> {
    const done = busy(button, working);
    replace(actionSlot);
    try {
      const said = await run();
      replace(actionSlot, notice(said, 'ok'));
      announce(said);
    } catch (error) {
      replace(actionSlot, errorBox(error));
    } finally {
      done();
    }
    await refresh();
  }

  const hinted = debounce(() => void refresh());
  context.onLeave(
    live.subscribe((hint) => {
      if (hint.appId === appId || hint.type === 'settings.updated') hinted();
    }, hinted),
  );

  replace(view, headingSlot, actionSlot, bodySlot);
  if (flash) replace(actionSlot, notice(flash, 'ok'));
  flash = null;
  show(await load());

  function draftSection(
    state: AppState,
    options: { builder: boolean; local: boolean; act: typeof act },
  ): HTMLElement {
    const { app, settings } = state;
    // An app never built has nothing to publish; the gateway would answer no_draft.
    const canPublish =
      options.local &&
      options.builder &&
      settings?.connected === true &&
      !app.sourceControl.backed &&
      app.draft !== null;

    const publish = h(
      'button',
      { type: 'button', class: 'button-primary', id: 'publish' },
      'Publish to source control',
    );
    publish.addEventListener(
      'click',
      () =>
        void options.act(publish, 'Publishing…', async () => {
          await api('POST', `${base}/source-control/publish`);
          return 'Publishing started. The status below updates when it is done.';
        }),
    );

    return h(
      'section',
      { class: 'card', 'aria-labelledby': 'draft-title' },
      h('h2', { id: 'draft-title' }, 'Draft'),
      app.draft
        ? h(
            'p',
            {},
            `Last built ${formatDate(app.draft.createdAt)}. `,
            h(
              'a',
              {
                href: `/preview/${encodeURIComponent(app.id)}/`,
                target: '_blank',
                rel: 'noopener',
                id: 'draft-preview',
              },
              'Open the draft preview',
            ),
            h('span', { class: 'visually-hidden' }, ' (opens in a new tab)'),
          )
        : h('p', {}, 'No build yet: the draft appears when the app is first built.'),
      app.installedFrom
        ? h(
            'p',
            { class: 'hint' },
            `Installed from ${app.installedFrom.owner}/${app.installedFrom.repo} version ${app.installedFrom.version} on ${formatDate(app.installedFrom.installedAt)}.`,
          )
        : null,
      canPublish
        ? h(
            'div',
            { class: 'actions' },
            publish,
            h(
              'p',
              { class: 'hint' },
              'Creates the app’s repository if needed and pushes this draft as version 1. Later builds are pushed by themselves.',
            ),
          )
        : null,
      options.local && options.builder && !app.sourceControl.backed && settings?.connected === false
        ? h(
            'p',
            { class: 'hint' },
            'To publish, an owner or admin first connects source control under Settings.',
          )
        : null,
    );
  }

  function versionSection(
    state: AppState,
    version: number,
    options: { builder: boolean; act: typeof act },
  ): HTMLElement {
    const found = Array.isArray(state.versions)
      ? state.versions.find((v) => v.version === version)
      : undefined;
    return h(
      'section',
      { class: 'card', 'aria-labelledby': 'viewing-title' },
      h('h2', { id: 'viewing-title' }, `Viewing version ${version}`),
      found
        ? h(
            'div',
            {},
            h('p', { class: 'summary' }, found.summary || 'No summary.'),
            h(
              'p',
              {},
              `${found.tag}, built ${formatDate(found.createdAt)}, ${found.fileCount} files (${formatBytes(found.totalBytes)}). `,
              h(
                'a',
                { href: versionPreview(state.app.id, version), target: '_blank', rel: 'noopener' },
                'Open this version’s preview',
              ),
            ),
            options.builder
              ? h('div', { class: 'actions' }, restoreButton(state.app, found, options.act))
              : null,
          )
        : h('p', {}, 'This app has no such version.'),
      h(
        'p',
        {},
        h('a', { href: `/apps/${encodeURIComponent(state.app.id)}` }, 'Back to the draft'),
      ),
    );
  }

  function syncSection(
    state: AppState,
    options: { builder: boolean; act: typeof act },
  ): HTMLElement {
    const { app } = state;
    const sc = app.sourceControl;

    const retry = h('button', { type: 'button', id: 'retry' }, 'Retry');
    retry.addEventListener(
      'click',
      () =>
        void options.act(retry, 'Retrying…', async () => {
          await api('POST', `${base}/source-control/retry`);
          return 'Retry started.';
        }),
    );

    const share = h('input', {
      type: 'checkbox',
      role: 'switch',
      id: 'share',
      checked: sc.availableInCatalog,
      disabled: !options.builder || sc.version === null,
      'aria-describedby': 'share-hint',
    });
    share.addEventListener('change', () => {
      const available = share.checked;
      share.disabled = true;
      void (async () => {
        try {
          await api('POST', `${base}/source-control/share`, { available });
          const said = available
            ? 'The app is now shared in Available Apps.'
            : 'The app is no longer shared in Available Apps.';
          replace(actionSlot, notice(said, 'ok'));
          announce(said);
        } catch (error) {
          share.checked = !available;
          replace(actionSlot, errorBox(error, 'Sharing was not changed.'));
        }
        await refresh();
      })();
    });

    return h(
      'section',
      { class: 'card', 'aria-labelledby': 'sync-title' },
      h('h2', { id: 'sync-title' }, 'Source control'),
      h('p', { id: 'sync-status', 'data-status': sc.status }, statusSentence(app)),
      sc.backed
        ? h(
            'dl',
            { class: 'facts' },
            h('dt', {}, 'Repository'),
            h(
              'dd',
              {},
              sc.url
                ? h(
                    'a',
                    { href: sc.url, target: '_blank', rel: 'noopener noreferrer', id: 'repo-link' },
                    `${sc.owner}/${sc.repo}`,
                  )
                : `${sc.owner ?? ''}/${sc.repo ?? ''}`,
            ),
            h('dt', {}, 'Latest version'),
            h(
              'dd',
              {},
              sc.version === null
                ? '—'
                : `v${sc.version} (${sc.tag ?? ''})${sc.pushed ? '' : ', not pushed yet'}`,
            ),
            h('dt', {}, 'Last synced'),
            h('dd', {}, formatDate(sc.lastSyncedAt)),
          )
        : null,
      sc.outsideCommits
        ? notice(
            'Someone pushed commits to the repository outside the gateway. They are kept in history; new versions build on top of them.',
          )
        : null,
      sc.status === 'failed' && sc.lastError ? syncError(app) : null,
      sc.status === 'failed' && options.builder ? h('div', { class: 'actions' }, retry) : null,
      sc.backed || sc.version !== null
        ? h(
            'div',
            { class: 'check switch' },
            share,
            h('label', { for: 'share' }, 'Share in Available Apps'),
            h(
              'p',
              { class: 'hint', id: 'share-hint' },
              sc.version === null
                ? 'Available once the app has a version in source control.'
                : 'Lists the app’s repository in Available Apps, so others can get a copy.',
            ),
          )
        : null,
    );
  }

  function syncError(app: AppView): HTMLElement {
    const sc = app.sourceControl;
    const code = sc.lastError?.code ?? 'internal';
    const text = errorText(code, sc.lastError?.message);
    const retryLine = sc.nextRetryAt
      ? `The gateway tries again by itself at ${formatDate(sc.nextRetryAt)}.`
      : 'The gateway will not retry by itself.';
    return h(
      'div',
      { class: 'error-box', id: 'sync-error', 'data-code': code },
      h('p', { class: 'error-what' }, `The last sync failed: ${continued(text.what)}`),
      sc.lastError?.message && sc.lastError.message !== text.what
        ? h('p', { class: 'error-detail' }, `The gateway said: ${sc.lastError.message}`)
        : null,
      h('p', { class: 'error-todo' }, `${text.todo} ${retryLine}`),
    );
  }

  function versionsSection(
    state: AppState,
    current: number | null,
    options: { builder: boolean; act: typeof act },
  ): HTMLElement {
    const { app, versions } = state;
    const heading = h('h2', { id: 'versions-title' }, 'Versions');
    if (versions instanceof Error) {
      return h(
        'section',
        { class: 'card', 'aria-labelledby': 'versions-title' },
        heading,
        errorBox(versions, 'The versions could not be loaded.'),
      );
    }
    if (versions.length === 0) {
      return h(
        'section',
        { class: 'card', 'aria-labelledby': 'versions-title' },
        heading,
        h(
          'p',
          {},
          app.sourceControl.backed
            ? 'No version yet: the first one appears when its sync is done.'
            : 'No versions: versions are made when the app is kept in source control.',
        ),
      );
    }

    return h(
      'section',
      { class: 'card', 'aria-labelledby': 'versions-title' },
      heading,
      h(
        'table',
        { class: 'table', id: 'versions-table' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col' }, 'Version'),
            h('th', { scope: 'col' }, 'Summary'),
            h('th', { scope: 'col' }, 'Built'),
            h('th', { scope: 'col' }, 'Pushed'),
            h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')),
          ),
        ),
        h(
          'tbody',
          {},
          ...versions.map((version) =>
            h(
              'tr',
              {
                'data-version': version.version,
                class: version.version === current ? 'current' : undefined,
              },
              h(
                'th',
                { scope: 'row' },
                h(
                  'a',
                  {
                    href: `/apps/${encodeURIComponent(app.id)}?version=${version.version}`,
                    'aria-current': version.version === current ? 'page' : undefined,
                  },
                  `v${version.version}`,
                ),
                h('span', { class: 'tag' }, version.tag),
              ),
              h('td', { class: 'summary-cell' }, firstLine(version.summary) || '—'),
              h('td', {}, formatDate(version.createdAt)),
              h('td', {}, version.pushed ? 'Pushed' : 'Not pushed yet'),
              h(
                'td',
                { class: 'row-actions' },
                h(
                  'a',
                  {
                    href: versionPreview(app.id, version.version),
                    target: '_blank',
                    rel: 'noopener',
                    'aria-label': `Preview version ${version.version} (opens in a new tab)`,
                  },
                  'Preview',
                ),
                options.builder ? restoreButton(app, version, options.act) : null,
              ),
            ),
          ),
        ),
      ),
    );
  }

  function restoreButton(app: AppView, version: VersionView, run: typeof act): HTMLButtonElement {
    const button = h(
      'button',
      {
        type: 'button',
        class: 'button-small',
        id: `restore-${version.version}`,
        'aria-label': `Restore version ${version.version} as the draft`,
      },
      'Restore as draft',
    );
    button.addEventListener(
      'click',
      () =>
        void run(button, 'Restoring…', async () => {
          await api('POST', `${base}/versions/${version.version}/restore-draft`);
          const said = `Version ${version.version} is now the draft.`;
          if (viewing !== null) {
            flash = said;
            context.navigate(`/apps/${encodeURIComponent(app.id)}`);
          }
          return said;
        }),
    );
    return button;
  }
}

function parseVersion(value: string | null): number | null {
  if (value === null || !/^[1-9]\d{0,8}$/.test(value)) return null;
  return Number(value);
}

function versionPreview(appId: string, version: number): string {
  return `/preview/${encodeURIComponent(appId)}/v/${version}/`;
}

/** The sync status as a sentence. */
function statusSentence(app: AppView): string {
  const sc = app.sourceControl;
  switch (sc.status) {
    case 'disabled':
      return 'Local only: the app’s source is kept in the gateway, not in source control.';
    case 'pending':
      return 'Pending: a sync is queued or running.';
    case 'synced':
      return sc.version === null
        ? 'Synced.'
        : `Synced: version ${sc.version} is in source control.`;
    case 'failed':
      return 'Failed: the last sync did not reach source control. The app still works from its stored copy.';
  }
}
