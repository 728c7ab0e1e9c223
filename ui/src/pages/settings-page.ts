import {
  DEFAULT_REPO_PREFIX,
  isValidRepoPrefix,
  repoNameFor,
} from '../../../gateway/sync/repo-name.js';
import { PROVIDER_IDS } from '../../../core/model.js';
import { api } from '../api.js';
import type { AppView, ProviderId, SettingsInput, SettingsView } from '../api-types.js';
import { field, h, replace } from '../dom.js';
import { formatDate } from '../format.js';
import { debounce } from '../live-events.js';
import { grantAdvice, PROVIDERS } from '../provider-text.js';
import type { PageContext } from '../router.js';
import { can } from '../session.js';
import { announce, busy, errorBox, notice, pageHeading } from '../widgets.js';

const API = '/api/v1/source-control';

/**
 * Settings → Source control: which provider and owner the workspace stores app source under,
 * the token (write-only), repository naming and visibility, and in onprem/managed mode the
 * storage policy. Owners and admins edit; everyone else reads.
 */
export async function settingsPage(context: PageContext): Promise<void> {
  const { view, session } = context;
  const editable = can(session, 'admin');

  const [settings, apps] = await Promise.all([
    api<{ settings: SettingsView }>('GET', API).then((body) => body.settings),
    api<{ apps: AppView[] }>('GET', '/api/v1/apps')
      .then((body) => body.apps)
      .catch(() => [] as AppView[]),
  ]);

  const connectionSlot = h('section', { class: 'card', 'aria-labelledby': 'connection-title' });
  const resultSlot = h('div', { class: 'outcome', id: 'save-result' });
  const sampleName = apps[0]?.name ?? 'Customer Console';
  const form = settingsForm({ settings, editable, mode: session.mode, sampleName, resultSlot });

  const showConnection = (current: SettingsView) =>
    replace(
      connectionSlot,
      h('h2', { id: 'connection-title' }, 'Connection'),
      connectionSummary(current),
      editable && current.connected ? disconnectControl(context) : null,
    );
  form.onSaved = (saved) => showConnection(saved);
  showConnection(settings);

  // Another admin may save or disconnect meanwhile: keep the connection facts current. The form
  // is left as the person is editing it.
  const refresh = debounce(async () => {
    const focusedId = document.activeElement?.id;
    try {
      showConnection((await api<{ settings: SettingsView }>('GET', API)).settings);
    } catch {
      // The facts on screen stay as they were; the next hint or a reload tries again.
      return;
    }
    if (focusedId) document.getElementById(focusedId)?.focus();
  });
  context.onLeave(
    context.live.subscribe((hint) => {
      if (hint.type === 'settings.updated') refresh();
    }),
  );

  replace(
    view,
    pageHeading('Source control'),
    h(
      'p',
      { class: 'lead' },
      'Where this workspace keeps the source of its apps. Connecting a provider uploads nothing by itself.',
    ),
    editable
      ? null
      : notice(
          'Only workspace owners and admins can change these settings. You can read them here.',
        ),
    connectionSlot,
    resultSlot,
    form.element,
  );
}

function connectionSummary(settings: SettingsView): HTMLElement {
  if (!settings.connected || !settings.provider) {
    return h(
      'p',
      { id: 'connection-state' },
      'Not connected. Apps are kept in the gateway’s own store only.',
    );
  }
  const provider = PROVIDERS[settings.provider];
  const owner = settings.owner
    ? `${settings.owner} (${settings.ownerType === 'user' ? 'user' : provider.orgWord.replace(/ \(.*\)$/, '').toLowerCase()})`
    : '—';
  return h(
    'dl',
    { class: 'facts', id: 'connection-state' },
    h('dt', {}, 'Provider'),
    h('dd', {}, provider.label),
    settings.baseUrl ? h('dt', {}, 'Server') : null,
    settings.baseUrl ? h('dd', {}, settings.baseUrl) : null,
    h('dt', {}, 'Owner'),
    h('dd', {}, owner),
    h('dt', {}, 'Account'),
    h(
      'dd',
      {},
      settings.account ?? (settings.provider === 'git' ? 'Not reported by plain git servers' : '—'),
    ),
    h('dt', {}, 'Token'),
    h('dd', {}, tokenLine(settings)),
    h('dt', {}, 'Last checked'),
    h('dd', {}, formatDate(settings.validatedAt)),
  );
}

function tokenLine(settings: SettingsView): string {
  if (!settings.token.set) return 'No token set.';
  const by = settings.token.updatedBy ? ` by ${settings.token.updatedBy}` : '';
  return `Set on ${formatDate(settings.token.updatedAt)}${by}.`;
}

function disconnectControl(context: PageContext): HTMLElement {
  const slot = h('div', { class: 'disconnect' });
  const start = h(
    'button',
    { type: 'button', class: 'button-danger', id: 'disconnect' },
    'Disconnect…',
  );

  const ask = () => {
    const yes = h(
      'button',
      { type: 'button', class: 'button-danger', id: 'confirm-disconnect' },
      'Disconnect and delete the token',
    );
    const no = h('button', { type: 'button' }, 'Cancel');
    const outcome = h('div', { class: 'outcome' });
    no.addEventListener('click', () => {
      replace(slot, start);
      start.focus();
    });
    yes.addEventListener('click', async () => {
      const done = busy(yes, 'Disconnecting…');
      try {
        await api('DELETE', API);
        announce('Source control disconnected.');
        context.navigate('/settings/source-control');
      } catch (error) {
        done();
        replace(outcome, errorBox(error, 'Disconnecting failed.'));
      }
    });
    replace(
      slot,
      h(
        'div',
        { class: 'confirm', role: 'group', 'aria-labelledby': 'disconnect-question' },
        h(
          'p',
          { id: 'disconnect-question' },
          'Disconnect source control? The stored token is deleted. Repositories already on the provider stay there; new builds are kept in the gateway only.',
        ),
        h('div', { class: 'actions' }, yes, no),
        outcome,
      ),
    );
    yes.focus();
  };
  start.addEventListener('click', ask);
  replace(slot, start);
  return slot;
}

interface SettingsForm {
  element: HTMLFormElement;
  onSaved: (settings: SettingsView) => void;
}

function settingsForm(options: {
  settings: SettingsView;
  editable: boolean;
  mode: PageContext['session']['mode'];
  sampleName: string;
  resultSlot: HTMLElement;
}): SettingsForm {
  const { settings, editable, mode, resultSlot } = options;
  const handle: SettingsForm = {
    element: null as unknown as HTMLFormElement,
    onSaved: () => undefined,
  };

  const provider = h(
    'select',
    { id: 'provider', name: 'provider', required: true },
    h(
      'option',
      { value: '', disabled: true, selected: settings.provider === null },
      'Choose a provider',
    ),
    ...PROVIDER_IDS.map((id) =>
      h('option', { value: id, selected: settings.provider === id }, PROVIDERS[id].label),
    ),
  );

  const selfHosted = h('input', {
    type: 'checkbox',
    id: 'self-hosted',
    checked:
      settings.baseUrl !== null &&
      settings.provider !== null &&
      PROVIDERS[settings.provider].baseUrl === 'optional',
  });
  const selfHostedLabel = h('label', { for: 'self-hosted' }, '');
  const selfHostedRow = h('div', { class: 'check' }, selfHosted, selfHostedLabel);

  const baseUrl = h('input', {
    id: 'base-url',
    name: 'baseUrl',
    type: 'url',
    inputmode: 'url',
    autocomplete: 'off',
    value: settings.baseUrl ?? '',
  });
  const baseUrlHint = h('span', {});
  const baseUrlField = field('Base URL', baseUrl, baseUrlHint);

  const owner = h('input', {
    id: 'owner',
    name: 'owner',
    required: true,
    autocomplete: 'off',
    spellcheck: 'false',
    value: settings.owner ?? '',
  });
  const ownerUser = h('input', {
    type: 'radio',
    name: 'ownerType',
    id: 'owner-type-user',
    value: 'user',
    checked: settings.ownerType === 'user',
  });
  const ownerOrg = h('input', {
    type: 'radio',
    name: 'ownerType',
    id: 'owner-type-org',
    value: 'org',
    checked: settings.ownerType !== 'user',
  });
  const orgLabel = h('label', { for: 'owner-type-org' }, 'Organization');

  const token = h('input', {
    id: 'token',
    name: 'token',
    type: 'password',
    autocomplete: 'new-password',
    spellcheck: 'false',
    required: !settings.token.set,
  });
  const tokenHint = h('span', {});

  const prefix = h('input', {
    id: 'repo-prefix',
    name: 'repoPrefix',
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: DEFAULT_REPO_PREFIX,
    value: settings.repoPrefix ?? '',
  });
  const sample = h('input', { id: 'sample-name', autocomplete: 'off', value: options.sampleName });
  const preview = h('output', {
    id: 'repo-preview',
    for: 'repo-prefix sample-name',
    class: 'repo-preview',
  });
  const prefixError = h('p', { class: 'field-error', id: 'repo-prefix-error', role: 'alert' });

  const isPublic = settings.visibility === 'public';
  const visPrivate = h('input', {
    type: 'radio',
    name: 'visibility',
    id: 'visibility-private',
    value: 'private',
    checked: !isPublic,
  });
  const visPublic = h('input', {
    type: 'radio',
    name: 'visibility',
    id: 'visibility-public',
    value: 'public',
    checked: isPublic,
  });

  const storePolicy = h('input', {
    type: 'checkbox',
    role: 'switch',
    id: 'store-app-source',
    name: 'storeAppSource',
    checked: settings.storeAppSource,
    'aria-describedby': 'store-app-source-hint',
  });

  const submit = h(
    'button',
    { type: 'submit', class: 'button-primary', id: 'save-settings' },
    'Save and check',
  );

  const updateProvider = () => {
    const id = provider.value as ProviderId | '';
    const text = id ? PROVIDERS[id] : null;
    const optional = text?.baseUrl === 'optional';
    selfHostedRow.hidden = !optional;
    selfHostedLabel.textContent = text?.selfHostedLabel ?? '';
    const showBase = text?.baseUrl === 'required' || (optional && selfHosted.checked);
    baseUrlField.hidden = !showBase;
    baseUrl.required = text?.baseUrl === 'required';
    baseUrl.placeholder = text?.baseUrlExample ?? '';
    baseUrlHint.textContent = text?.baseUrlHint ?? '';
    orgLabel.textContent = text?.orgWord ?? 'Organization';
    tokenHint.textContent = [
      text?.tokenHint ?? '',
      settings.token.set
        ? `Currently: ${tokenLine(settings)} Leave empty to keep it.`
        : 'Required.',
    ]
      .filter(Boolean)
      .join(' ');
  };

  const updatePreview = () => {
    const value = prefix.value.trim();
    const valid = value === '' || isValidRepoPrefix(value);
    prefix.setAttribute('aria-invalid', valid ? 'false' : 'true');
    prefixError.textContent = valid
      ? ''
      : 'Use lower-case letters, digits and single dashes (at most 40 characters), like "second-app".';
    preview.textContent = valid
      ? repoNameFor(sample.value, { prefix: value || DEFAULT_REPO_PREFIX })
      : '—';
  };

  provider.addEventListener('change', updateProvider);
  selfHosted.addEventListener('change', updateProvider);
  prefix.addEventListener('input', updatePreview);
  sample.addEventListener('input', updatePreview);
  updateProvider();
  updatePreview();

  const body = h(
    'fieldset',
    { class: 'form-body', disabled: !editable },
    h('legend', { class: 'visually-hidden' }, 'Source-control settings'),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'provider-title' },
      h('h2', { id: 'provider-title' }, 'Provider and owner'),
      field('Provider', provider),
      selfHostedRow,
      baseUrlField,
      field('Owner', owner, 'The user or organization the repositories are created under.'),
      h(
        'fieldset',
        { class: 'choice' },
        h('legend', {}, 'Owner type'),
        h('div', { class: 'check' }, ownerUser, h('label', { for: 'owner-type-user' }, 'User')),
        h('div', { class: 'check' }, ownerOrg, orgLabel),
      ),
      editable ? field('Token', token, tokenHint) : null,
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'repos-title' },
      h('h2', { id: 'repos-title' }, 'Repositories'),
      field('Repository name prefix', prefix, `Empty means "${DEFAULT_REPO_PREFIX}".`),
      prefixError,
      field('Example app name', sample),
      h('p', { class: 'preview-line' }, 'Its repository would be named ', preview),
      h(
        'fieldset',
        { class: 'choice' },
        h('legend', {}, 'Visibility of new repositories'),
        h(
          'div',
          { class: 'check' },
          visPrivate,
          h('label', { for: 'visibility-private' }, 'Private'),
        ),
        h('div', { class: 'check' }, visPublic, h('label', { for: 'visibility-public' }, 'Public')),
      ),
    ),
    mode === 'local'
      ? null
      : h(
          'section',
          { class: 'card', 'aria-labelledby': 'policy-title' },
          h('h2', { id: 'policy-title' }, 'Storage policy'),
          h(
            'div',
            { class: 'check switch' },
            storePolicy,
            h('label', { for: 'store-app-source' }, 'Store app source in source control'),
          ),
          h(
            'p',
            { class: 'hint', id: 'store-app-source-hint' },
            'When on, every successful build is committed and pushed to the app’s repository under the owner above, and source control becomes the authoritative copy of the app; apps built earlier move there at their next build. When off, the gateway’s own store keeps the source and nothing is pushed.',
          ),
        ),
    editable ? h('div', { class: 'actions' }, submit) : null,
  );

  const form = h(
    'form',
    { class: 'settings-form', novalidate: true, 'aria-label': 'Source-control settings' },
    body,
  );
  handle.element = form;

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const problem = checkForm({ provider, baseUrl, baseUrlField, owner, token, prefix });
    if (problem) {
      replace(
        resultSlot,
        h('div', { class: 'error-box', role: 'alert' }, h('p', {}, problem.text)),
      );
      problem.control.focus();
      return;
    }

    const input: SettingsInput = {
      provider: provider.value as ProviderId,
      baseUrl: baseUrlField.hidden ? null : baseUrl.value.trim(),
      owner: owner.value.trim(),
      ownerType: ownerUser.checked ? 'user' : 'org',
      repoPrefix: prefix.value.trim(),
      visibility: visPublic.checked ? 'public' : 'private',
    };
    if (token.value !== '') input.token = token.value;
    if (mode !== 'local') input.storeAppSource = storePolicy.checked;

    const done = busy(submit, 'Checking with the provider…');
    replace(
      resultSlot,
      h(
        'p',
        { class: 'notice notice-info', role: 'status' },
        'Checking the token with the provider…',
      ),
    );
    try {
      const saved = (await api<{ settings: SettingsView }>('PUT', API, input)).settings;
      token.value = '';
      settings.token = saved.token;
      token.required = !saved.token.set;
      updateProvider();
      replace(resultSlot, validationReport(saved));
      handle.onSaved(saved);
      announce(
        saved.missingPermissions.length === 0
          ? 'Settings saved and checked.'
          : 'Settings saved; the token is missing permissions.',
      );
    } catch (error) {
      replace(resultSlot, errorBox(error, 'The settings were not saved.'));
    } finally {
      done();
    }
  });

  return handle;
}

function checkForm(controls: {
  provider: HTMLSelectElement;
  baseUrl: HTMLInputElement;
  baseUrlField: HTMLElement;
  owner: HTMLInputElement;
  token: HTMLInputElement;
  prefix: HTMLInputElement;
}): { text: string; control: HTMLElement } | null {
  const { provider, baseUrl, baseUrlField, owner, token, prefix } = controls;
  if (!provider.value) return { text: 'Choose a provider.', control: provider };
  if (!baseUrlField.hidden && baseUrl.value.trim() === '') {
    return { text: 'Enter the base URL of your server.', control: baseUrl };
  }
  if (owner.value.trim() === '') return { text: 'Enter the owner.', control: owner };
  if (token.required && token.value === '') return { text: 'Paste the token.', control: token };
  const value = prefix.value.trim();
  if (value !== '' && !isValidRepoPrefix(value)) {
    return { text: 'Fix the repository name prefix.', control: prefix };
  }
  return null;
}

/** What the provider said about the saved settings: the account and what the token lacks. */
function validationReport(settings: SettingsView): HTMLElement {
  const provider = settings.provider ? PROVIDERS[settings.provider] : null;
  const who =
    settings.account !== null
      ? `Connected to ${provider?.label ?? 'the provider'} as ${settings.account}.`
      : `Connected: the server accepted the token under ${settings.baseUrl ?? ''}/${settings.owner ?? ''}/.`;

  if (settings.missingPermissions.length === 0) {
    return h(
      'div',
      { class: 'report report-ok', id: 'permission-report', role: 'status' },
      h('p', { class: 'report-title' }, who),
      h('p', {}, 'The token has every permission the gateway needs.'),
    );
  }

  return h(
    'div',
    { class: 'report report-warn', id: 'permission-report', role: 'status' },
    h('p', { class: 'report-title' }, who),
    h(
      'p',
      {},
      'Saved, but the token is missing permissions. Publishing and syncing fail until you grant them:',
    ),
    h(
      'ul',
      { class: 'missing' },
      ...settings.missingPermissions.map((item) => h('li', {}, missingLine(item))),
    ),
    settings.provider
      ? h(
          'div',
          { class: 'advice' },
          h('p', { class: 'advice-title' }, 'What to grant'),
          h(
            'ul',
            {},
            ...grantAdvice(settings.provider, settings.owner ?? '').map((line) =>
              h('li', {}, line),
            ),
          ),
          h('p', {}, 'Then save again to check.'),
        )
      : null,
  );
}

/** Providers name some missing permissions by their scope id alone; say what to do with it. */
function missingLine(item: string): string {
  return /^[\w:.-]+$/.test(item) ? `Grant the scope "${item}" to the token.` : item;
}
