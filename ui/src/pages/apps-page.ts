import { api } from '../api.js';
import type { AppView } from '../api-types.js';
import { field, h, replace } from '../dom.js';
import { formatDate } from '../format.js';
import { debounce } from '../live-events.js';
import type { PageContext } from '../router.js';
import { can } from '../session.js';
import { announce, busy, errorBox, pageHeading, statusBadge, statusWord } from '../widgets.js';

/** Every app of the workspace with its source-control status, kept current by the hint stream. */
export async function appsPage(context: PageContext): Promise<void> {
  const { view, session, live } = context;
  const listSlot = h('div', { class: 'apps-list', 'aria-live': 'off' });
  const known = new Map<string, string>();

  const load = async (): Promise<void> => {
    let apps: AppView[];
    try {
      apps = (await api<{ apps: AppView[] }>('GET', '/api/v1/apps')).apps;
    } catch (error) {
      replace(listSlot, errorBox(error, 'The apps could not be loaded.'));
      return;
    }

    // Say aloud what changed since the last look, so a status change is not only visual.
    const changes: string[] = [];
    for (const app of apps) {
      const word = statusWord(app);
      const before = known.get(app.id);
      if (before !== undefined && before !== word) changes.push(`${app.name}: ${word}`);
      if (before === undefined && known.size > 0) changes.push(`${app.name} was added`);
      known.set(app.id, word);
    }
    if (changes.length > 0) announce(changes.join('. '));

    replace(listSlot, apps.length === 0 ? emptyState(can(session, 'builder')) : appsTable(apps));
  };

  const refresh = debounce(() => void load());
  context.onLeave(
    live.subscribe((hint) => {
      if (hint.type !== 'settings.updated') refresh();
    }, refresh),
  );

  replace(
    view,
    pageHeading('Apps'),
    h(
      'p',
      { class: 'lead' },
      'Each app of the workspace, where its source is kept, and its latest version. The list updates by itself.',
    ),
    can(session, 'builder') ? newAppForm(context) : null,
    listSlot,
  );
  await load();
}

function appsTable(apps: AppView[]): HTMLTableElement {
  return h(
    'table',
    { class: 'table', id: 'apps-table' },
    h('caption', { class: 'visually-hidden' }, 'Apps and their source-control status'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, 'App'),
        h('th', { scope: 'col' }, 'Source control'),
        h('th', { scope: 'col' }, 'Latest version'),
        h('th', { scope: 'col' }, 'Last build'),
      ),
    ),
    h(
      'tbody',
      {},
      ...apps.map((app) => {
        const sc = app.sourceControl;
        return h(
          'tr',
          { 'data-app-id': app.id },
          h(
            'th',
            { scope: 'row' },
            h('a', { href: `/apps/${encodeURIComponent(app.id)}` }, app.name),
          ),
          h(
            'td',
            {},
            statusBadge(sc.status),
            sc.status === 'failed' && sc.lastError
              ? h('span', { class: 'inline-code' }, ` ${sc.lastError.code}`)
              : null,
          ),
          h('td', { class: 'version-cell' }, sc.version === null ? '—' : `v${sc.version}`),
          h('td', {}, app.draft ? formatDate(app.draft.createdAt) : 'No build yet'),
        );
      }),
    ),
  );
}

function emptyState(canCreate: boolean): HTMLElement {
  return h(
    'div',
    { class: 'empty' },
    h('p', {}, 'No apps yet.'),
    h(
      'p',
      { class: 'hint' },
      canCreate
        ? 'Create one above, or build an app in Second: it appears here with its first build.'
        : 'Apps appear here when someone builds one in Second.',
    ),
  );
}

function newAppForm(context: PageContext): HTMLElement {
  const name = h('input', { id: 'new-app-name', name: 'name', required: true, maxlength: 200 });
  const submit = h('button', { type: 'submit' }, 'Create app');
  const outcome = h('div', { class: 'outcome' });

  const form = h(
    'form',
    { class: 'inline-form', 'aria-label': 'New app' },
    field('New app name', name),
    submit,
    outcome,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const done = busy(submit, 'Creating…');
    replace(outcome);
    try {
      const { app } = await api<{ app: AppView }>('POST', '/api/v1/apps', {
        name: name.value.trim(),
      });
      context.navigate(`/apps/${encodeURIComponent(app.id)}`);
    } catch (error) {
      done();
      replace(outcome, errorBox(error, 'The app was not created.'));
    }
  });

  return h('details', { class: 'new-app' }, h('summary', {}, 'New app'), form);
}
