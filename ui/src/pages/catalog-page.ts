import { api, ApiError } from '../api.js';
import type { AppView, CatalogEntry } from '../api-types.js';
import { h, replace } from '../dom.js';
import { errorText } from '../error-text.js';
import { continued } from '../format.js';
import { debounce } from '../live-events.js';
import type { PageContext } from '../router.js';
import { can } from '../session.js';
import { announce, errorBox, pageHeading } from '../widgets.js';

/**
 * Available Apps: the apps shared under the configured owner, with Get (install a copy), Update
 * (to the newer version) and Open. An install downloads the repository's archive and imports
 * it, which takes a while, so the row shows progress until it is done.
 */
export async function catalogPage(context: PageContext): Promise<void> {
  const { view, session, live } = context;
  const listSlot = h('div', { class: 'catalog-list' });
  const builder = can(session, 'builder');
  let working = 0;

  const load = async () => {
    try {
      const { entries } = await api<{ entries: CatalogEntry[] }>('GET', '/api/v1/catalog');
      replace(listSlot, entries.length === 0 ? emptyCatalog() : catalogTable(entries));
    } catch (error) {
      replace(listSlot, catalogError(error));
    }
  };

  // A refetch while an install runs would drop its progress row; the install refetches when done.
  const refresh = debounce(() => {
    if (working === 0) void load();
  });
  context.onLeave(
    live.subscribe((hint) => {
      if (hint.type === 'catalog.updated' || hint.type === 'settings.updated') refresh();
    }, refresh),
  );

  function catalogTable(entries: CatalogEntry[]): HTMLElement {
    return h(
      'table',
      { class: 'table', id: 'catalog-table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'App'),
          h('th', { scope: 'col' }, 'Repository'),
          h('th', { scope: 'col' }, 'Version'),
          h('th', { scope: 'col' }, 'Your copy'),
          h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')),
        ),
      ),
      h('tbody', {}, ...entries.map(entryRow)),
    );
  }

  function entryRow(entry: CatalogEntry): HTMLTableRowElement {
    const name = entry.appName ?? entry.repo;
    const actions = h('td', { class: 'row-actions' });
    const progress = h('div', { class: 'row-progress', 'aria-live': 'polite' });
    const row = h(
      'tr',
      { 'data-repo': entry.repo },
      h('th', { scope: 'row' }, name),
      h('td', { class: 'repo-cell' }, `${entry.owner}/${entry.repo}`),
      h('td', {}, entry.version === null ? '—' : `v${entry.version}`),
      h(
        'td',
        { class: 'copy-cell' },
        entry.installedAppId === null
          ? 'Not installed'
          : `v${entry.installedVersion ?? '?'}${entry.updateAvailable ? ` (v${entry.version} available)` : ''}`,
      ),
      actions,
    );

    if (entry.error) {
      const text = errorText(entry.error.code, entry.error.message);
      replace(
        actions,
        h(
          'div',
          { class: 'inline-error', 'data-code': entry.error.code },
          h('p', {}, `This repository cannot be used: ${continued(text.what)}`),
          entry.error.message && entry.error.message !== text.what
            ? h('p', { class: 'error-detail' }, entry.error.message)
            : null,
          h('p', { class: 'hint' }, text.todo),
        ),
      );
      return row;
    }

    const buttons: HTMLElement[] = [];
    if (entry.installedAppId === null && builder) {
      const get = h(
        'button',
        { type: 'button', class: 'button-primary', 'aria-label': `Get ${name}` },
        'Get',
      );
      get.addEventListener(
        'click',
        () =>
          void run(get, progress, `Getting ${name}: downloading and importing…`, async () => {
            const { app } = await api<{ app: AppView }>('POST', '/api/v1/catalog/install', {
              repo: entry.repo,
            });
            return { said: `${name} is installed.`, appId: app.id };
          }),
      );
      buttons.push(get);
    }
    if (entry.installedAppId !== null && entry.updateAvailable && builder) {
      buttons.push(updateButton(entry, name, progress, false));
    }
    if (entry.installedAppId !== null) {
      buttons.push(
        h(
          'a',
          {
            href: `/apps/${encodeURIComponent(entry.installedAppId)}`,
            class: 'button-link',
            'aria-label': `Open ${name}`,
          },
          'Open',
        ),
      );
    }
    replace(actions, ...buttons, progress);
    return row;
  }

  function updateButton(
    entry: CatalogEntry,
    name: string,
    progress: HTMLElement,
    force: boolean,
  ): HTMLButtonElement {
    const label = force ? 'Update anyway' : `Update to v${entry.version}`;
    const button = h('button', { type: 'button', 'aria-label': `${label}: ${name}` }, label);
    button.addEventListener(
      'click',
      () =>
        void run(
          button,
          progress,
          `Updating ${name} to v${entry.version}: downloading and importing…`,
          async () => {
            const { app } = await api<{ app: AppView }>('POST', '/api/v1/catalog/update', {
              appId: entry.installedAppId,
              force,
            });
            return { said: `${name} is updated to v${entry.version}.`, appId: app.id };
          },
          (error) =>
            error instanceof ApiError && error.code === 'local_changes' && !force
              ? updateButton(entry, name, progress, true)
              : null,
        ),
    );
    return button;
  }

  /** One install or update: progress in the row while it runs, its error inline when it fails. */
  async function run(
    button: HTMLButtonElement,
    progress: HTMLElement,
    working: string,
    call: () => Promise<{ said: string; appId: string }>,
    next?: (error: unknown) => HTMLElement | null,
  ): Promise<void> {
    workingChange(1);
    button.disabled = true;
    replace(progress, h('progress', { 'aria-label': working }), h('span', {}, working));
    button.closest('tr')?.setAttribute('aria-busy', 'true');
    try {
      const { said } = await call();
      announce(said);
      workingChange(-1);
      await load();
    } catch (error) {
      workingChange(-1);
      button.disabled = false;
      button.closest('tr')?.removeAttribute('aria-busy');
      const followUp = next?.(error) ?? null;
      replace(progress, errorBox(error), followUp);
      if (followUp) followUp.focus();
    }
  }

  function workingChange(delta: number) {
    working += delta;
  }

  replace(
    view,
    pageHeading('Available Apps'),
    h(
      'p',
      { class: 'lead' },
      'Apps shared in the workspace’s source control. Get a copy, update it when a newer version is shared, and open it.',
    ),
    builder
      ? null
      : h('p', { class: 'notice notice-info' }, 'Your role can look but not install or update.'),
    listSlot,
  );
  await load();
}

function emptyCatalog(): HTMLElement {
  return h(
    'div',
    { class: 'empty' },
    h('p', {}, 'No shared apps yet.'),
    h(
      'p',
      { class: 'hint' },
      'An app appears here when someone turns on “Share in Available Apps” on its page.',
    ),
  );
}

function catalogError(error: unknown): HTMLElement {
  if (error instanceof ApiError && error.code === 'not_connected') {
    return h(
      'div',
      { class: 'empty' },
      h('p', {}, 'Source control is not connected, so there is nothing to list.'),
      h('p', { class: 'hint' }, 'An owner or admin connects a provider under Settings.'),
    );
  }
  if (error instanceof ApiError && error.code === 'not_found') {
    // A gateway older than Available Apps has no such route; say that rather than "not found".
    return h(
      'div',
      { class: 'empty' },
      h('p', {}, 'This gateway does not offer Available Apps.'),
      h('p', { class: 'hint' }, 'An operator can update the gateway to a version that has it.'),
    );
  }
  return errorBox(error, 'Available Apps could not be listed.');
}
