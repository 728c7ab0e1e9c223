import { api } from '../api.js';
import type { AppView, AuditEvent } from '../api-types.js';
import { field, h, replace } from '../dom.js';
import { formatDate } from '../format.js';
import type { PageContext } from '../router.js';
import { can } from '../session.js';
import { errorBox, notice, pageHeading } from '../widgets.js';

/** Recent audit events of the workspace, newest first, filterable by app (owners and admins). */
export async function auditPage(context: PageContext): Promise<void> {
  const { view, session, query } = context;
  if (!can(session, 'admin')) {
    replace(
      view,
      pageHeading('Audit'),
      notice('Only workspace owners and admins can read the audit log.'),
    );
    return;
  }

  const apps = await api<{ apps: AppView[] }>('GET', '/api/v1/apps')
    .then((body) => body.apps)
    .catch(() => [] as AppView[]);
  const names = new Map(apps.map((app) => [app.id, app.name]));
  const selected = query.get('appId') ?? '';

  const filter = h(
    'select',
    { id: 'audit-app', name: 'appId' },
    h('option', { value: '' }, 'All apps'),
    ...apps.map((app) => h('option', { value: app.id, selected: app.id === selected }, app.name)),
  );
  filter.addEventListener('change', () => {
    const next = filter.value ? `/audit?appId=${encodeURIComponent(filter.value)}` : '/audit';
    context.navigate(next);
  });

  const listSlot = h('div', {});
  replace(
    view,
    pageHeading('Audit'),
    h(
      'p',
      { class: 'lead' },
      'Who changed what: settings, publishing, retries, installs and restores, newest first.',
    ),
    h(
      'form',
      { class: 'inline-form', role: 'search', 'aria-label': 'Filter the audit log' },
      field('App', filter),
    ),
    listSlot,
  );

  const path = selected ? `/api/v1/audit?appId=${encodeURIComponent(selected)}` : '/api/v1/audit';
  try {
    const { events } = await api<{ events: AuditEvent[] }>('GET', path);
    replace(
      listSlot,
      events.length === 0
        ? h('p', { class: 'empty' }, 'No events recorded yet.')
        : auditTable(events, names),
    );
  } catch (error) {
    replace(listSlot, errorBox(error, 'The audit log could not be loaded.'));
  }
}

/** Audit actions in words; an action this page does not know is shown by its name. */
const ACTION_WORDS: Record<string, string> = {
  'settings.save': 'Saved the source-control settings',
  'settings.delete': 'Disconnected source control',
  'source-control.publish': 'Asked to publish',
  'source-control.retry': 'Asked to retry a sync',
  'source-control.share': 'Changed sharing in Available Apps',
  'source-control.topic': 'Set the repository topic',
  'app.restore-draft': 'Restored a version as the draft',
  'worker.restore': 'Restored files for a worker',
  'sync.build': 'Synced a build',
  'sync.publish': 'Published to source control',
  'sync.share': 'Committed the sharing change',
  'sync.retry': 'Retried a sync',
  'catalog.install': 'Installed from Available Apps',
  'catalog.update': 'Updated from Available Apps',
};

function auditTable(events: AuditEvent[], names: Map<string, string>): HTMLTableElement {
  return h(
    'table',
    { class: 'table', id: 'audit-table' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, 'When'),
        h('th', { scope: 'col' }, 'Who'),
        h('th', { scope: 'col' }, 'Action'),
        h('th', { scope: 'col' }, 'App'),
        h('th', { scope: 'col' }, 'Outcome'),
      ),
    ),
    h(
      'tbody',
      {},
      ...events.map((event) =>
        h(
          'tr',
          {},
          h('td', {}, formatDate(event.at)),
          h('td', {}, event.actor),
          h(
            'td',
            {},
            ACTION_WORDS[event.action] ?? event.action,
            h('code', { class: 'action-name' }, event.action),
          ),
          h(
            'td',
            {},
            event.appId
              ? h(
                  'a',
                  { href: `/apps/${encodeURIComponent(event.appId)}` },
                  names.get(event.appId) ?? event.appId,
                )
              : '—',
          ),
          h('td', {}, event.code ? `${event.outcome} (${event.code})` : event.outcome),
        ),
      ),
    ),
  );
}
