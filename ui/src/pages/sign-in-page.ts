import { api } from '../api.js';
import type { SessionView } from '../api-types.js';
import { field, h, replace } from '../dom.js';
import { busy, errorBox, pageHeading } from '../widgets.js';

/**
 * Sign in with a pasted user token. The gateway turns it into an httpOnly cookie: the page never
 * keeps the token, and the field is cleared as soon as it is sent.
 */
export function signInPage(
  view: HTMLElement,
  options: { afterSignIn: (session: SessionView) => void },
): void {
  const token = h('textarea', {
    id: 'token',
    name: 'token',
    rows: 4,
    required: true,
    autocomplete: 'off',
    spellcheck: 'false',
    autocapitalize: 'off',
  });
  const outcome = h('div', { class: 'outcome' });
  const submit = h('button', { type: 'submit', class: 'button-primary' }, 'Sign in');

  const form = h(
    'form',
    { class: 'card narrow', 'aria-labelledby': 'page-title' },
    field(
      'Access token',
      token,
      'Paste a user token (an operator prints one with "second-gateway token"). It is sent once and then kept only in a cookie this page’s scripts cannot read.',
    ),
    outcome,
    h('div', { class: 'actions' }, submit),
  );

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const value = token.value.trim();
    if (!value) {
      replace(outcome, h('p', { class: 'field-error', role: 'alert' }, 'Paste a token first.'));
      token.focus();
      return;
    }

    const done = busy(submit, 'Signing in…');
    replace(outcome);
    try {
      const session = await api<SessionView>('POST', '/api/v1/session', { token: value });
      token.value = '';
      options.afterSignIn(session);
    } catch (error) {
      done();
      replace(outcome, errorBox(error, 'Signing in failed.'));
      token.focus();
    }
  });

  replace(
    view,
    pageHeading('Sign in'),
    h(
      'p',
      { class: 'lead' },
      'Manage where this workspace stores the source of its apps, and the apps themselves.',
    ),
    form,
  );
}
