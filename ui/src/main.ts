import { api, ApiError, whenSignedOut } from './api.js';
import type { SessionView } from './api-types.js';
import { byId, h, replace } from './dom.js';
import { LiveEvents } from './live-events.js';
import { appPage } from './pages/app-page.js';
import { appsPage } from './pages/apps-page.js';
import { auditPage } from './pages/audit-page.js';
import { catalogPage } from './pages/catalog-page.js';
import { notFoundPage } from './pages/not-found-page.js';
import { settingsPage } from './pages/settings-page.js';
import { signInPage } from './pages/sign-in-page.js';
import { isInternalLinkClick, matchRoute, type PageContext, type Route } from './router.js';
import { can, ROLE_NAMES } from './session.js';
import { announce, errorBox } from './widgets.js';

const SIGN_IN = '/sign-in';

const ROUTES: Route[] = [
  { path: '/', title: 'Apps', page: appsPage },
  { path: '/apps', title: 'Apps', page: appsPage },
  { path: '/apps/:appId', title: 'App', page: appPage },
  { path: '/settings/source-control', title: 'Source control', page: settingsPage },
  { path: '/available-apps', title: 'Available Apps', page: catalogPage },
  { path: '/audit', title: 'Audit', page: auditPage },
];

const live = new LiveEvents();
let session: SessionView | null = null;
let leaveCurrent: (() => void)[] = [];

/** Shows the page for the current address, or the sign-in page when nobody is signed in. */
async function render(): Promise<void> {
  for (const cleanup of leaveCurrent) cleanup();
  leaveCurrent = [];

  const main = byId('main');
  const view = h('div', { class: 'view' });
  replace(main, view);

  if (!session) {
    renderNav(null);
    document.title = 'Sign in · Second gateway';
    signInPage(view, { afterSignIn: signedIn });
    focusHeading();
    return;
  }
  if (location.pathname === SIGN_IN) {
    history.replaceState(null, '', '/apps');
  }

  const match = matchRoute(ROUTES, location.pathname);
  renderNav(match?.route ?? null);
  document.title = `${match?.route.title ?? 'Not found'} · Second gateway`;

  const context: PageContext = {
    session,
    live,
    params: match?.params ?? {},
    query: new URLSearchParams(location.search),
    view,
    navigate,
    onLeave: (cleanup) => leaveCurrent.push(cleanup),
  };
  const page = match?.route.page ?? notFoundPage;
  try {
    await page(context);
  } catch (error) {
    replace(view, errorBox(error, 'This page could not be shown.'));
  }
  if (view.isConnected) focusHeading();
}

/** Moves focus to the new page's heading, so keyboard and screen-reader users start there. */
function focusHeading(): void {
  const heading = document.getElementById('page-title');
  if (heading) heading.focus({ preventScroll: false });
}

function navigate(path: string): void {
  if (path !== location.pathname + location.search) history.pushState(null, '', path);
  void render();
}

function renderNav(current: Route | null): void {
  const nav = byId('nav');
  const account = byId('account');
  if (!session) {
    replace(nav);
    replace(account);
    return;
  }

  const links: { href: string; label: string; show: boolean }[] = [
    { href: '/apps', label: 'Apps', show: true },
    { href: '/available-apps', label: 'Available Apps', show: session.mode === 'local' },
    { href: '/settings/source-control', label: 'Settings', show: true },
    { href: '/audit', label: 'Audit', show: can(session, 'admin') },
  ];
  const currentPath =
    current?.path === '/' || current?.path === '/apps/:appId' ? '/apps' : current?.path;
  replace(
    nav,
    h(
      'ul',
      {},
      ...links
        .filter((link) => link.show)
        .map((link) =>
          h(
            'li',
            {},
            h(
              'a',
              { href: link.href, 'aria-current': link.href === currentPath ? 'page' : undefined },
              link.label,
            ),
          ),
        ),
    ),
  );

  replace(
    account,
    h(
      'span',
      { class: 'who' },
      h('span', { class: 'who-name' }, session.sub),
      ` · ${ROLE_NAMES[session.role]} · ${session.workspaceId}`,
    ),
    h(
      'button',
      { type: 'button', class: 'button-quiet', onClick: () => void signOut() },
      'Sign out',
    ),
  );
}

function signedIn(who: SessionView): void {
  session = who;
  live.start();
  announce(`Signed in as ${who.sub}.`);
  const target = location.pathname === SIGN_IN ? '/apps' : location.pathname + location.search;
  history.replaceState(null, '', target);
  void render();
}

async function signOut(): Promise<void> {
  try {
    await api('DELETE', '/api/v1/session');
  } catch (error) {
    // The cookie could not be cleared; stay signed in and say so rather than pretend.
    const main = byId('main');
    main.prepend(errorBox(error, 'Signing out failed.'));
    return;
  }
  live.stop();
  session = null;
  history.pushState(null, '', SIGN_IN);
  announce('Signed out.');
  void render();
}

async function start(): Promise<void> {
  whenSignedOut(() => {
    if (!session) return;
    live.stop();
    session = null;
    announce('Your session ended. Sign in again.');
    void render();
  });

  document.addEventListener('click', (event) => {
    const anchor = isInternalLinkClick(event);
    if (!anchor || !session) return;
    event.preventDefault();
    const url = new URL(anchor.href);
    navigate(url.pathname + url.search);
  });
  window.addEventListener('popstate', () => void render());

  try {
    session = await api<SessionView>('GET', '/api/v1/session');
    live.start();
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) {
      replace(byId('main'), errorBox(error, 'The gateway could not be reached.'));
      return;
    }
    session = null;
  }
  await render();
}

void start();
