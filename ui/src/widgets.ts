import type { AppView, SyncStatus } from './api-types.js';
import { byId, h, type Child } from './dom.js';
import { describeError } from './error-text.js';

const STATUS_WORDS: Record<SyncStatus, string> = {
  synced: 'Synced',
  pending: 'Pending',
  failed: 'Failed',
  disabled: 'Local only',
};

/** The source-control status at a glance: a word and a mark, never colour alone. */
export function statusBadge(status: SyncStatus): HTMLSpanElement {
  const marks: Record<SyncStatus, string> = {
    synced: '✓',
    pending: '…',
    failed: '!',
    disabled: '–',
  };
  return h(
    'span',
    { class: `badge badge-${status}`, 'data-status': status },
    h('span', { 'aria-hidden': 'true', class: 'badge-mark' }, marks[status]),
    STATUS_WORDS[status],
  );
}

/** The status word of an app, for announcements. */
export function statusWord(app: AppView): string {
  return STATUS_WORDS[app.sourceControl.status];
}

/** Tells screen readers what just changed, without moving focus. */
export function announce(text: string): void {
  const region = byId('status');
  // Clearing first makes a repeated message be read again.
  region.textContent = '';
  window.setTimeout(() => (region.textContent = text), 30);
}

/** An error as a person reads it: what happened, what to do, and the code for an operator. */
export function errorBox(error: unknown, lead?: string): HTMLDivElement {
  const text = describeError(error);
  const showDetail = text.detail && text.detail !== text.what && text.code !== 'network';
  return h(
    'div',
    { class: 'error-box', role: 'alert', 'data-code': text.code },
    h('p', { class: 'error-what' }, lead ? `${lead} ${text.what}` : text.what),
    showDetail ? h('p', { class: 'error-detail' }, `The gateway said: ${text.detail}`) : null,
    h('p', { class: 'error-todo' }, text.todo),
  );
}

/** A short success or information line. */
export function notice(text: Child, kind: 'ok' | 'info' = 'info'): HTMLParagraphElement {
  return h('p', { class: `notice notice-${kind}` }, text);
}

/** The heading a page starts with; the router moves focus to it after a navigation. */
export function pageHeading(text: string, ...extra: Child[]): HTMLElement {
  return h(
    'div',
    { class: 'page-heading' },
    h('h1', { tabindex: '-1', id: 'page-title' }, text),
    ...extra,
  );
}

/** Marks a button as working (disabled, busy, with a progress word) until `done` is called. */
export function busy(button: HTMLButtonElement, working: string): () => void {
  const label = button.textContent ?? '';
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  button.textContent = working;
  return () => {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    button.textContent = label;
  };
}
