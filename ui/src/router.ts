import type { SessionView } from './api-types.js';
import type { LiveEvents } from './live-events.js';

/** What a page gets to render itself. */
export interface PageContext {
  session: SessionView;
  live: LiveEvents;
  params: Record<string, string>;
  query: URLSearchParams;
  /** The page's own element; a page left before its data arrived writes into a detached one. */
  view: HTMLElement;
  navigate(path: string): void;
  /** Runs `cleanup` when the person leaves the page (unsubscribe from hints, stop timers). */
  onLeave(cleanup: () => void): void;
}

/** Renders a page into `context.view`. */
export type Page = (context: PageContext) => void | Promise<void>;

/** A page address (`:name` segments are params) and the page shown there. */
export interface Route {
  path: string;
  title: string;
  page: Page;
}

/** A route matched against a path: `:name` segments become params. */
export function matchRoute(
  routes: Route[],
  pathname: string,
): { route: Route; params: Record<string, string> } | null {
  const parts = trimSlashes(pathname).split('/');
  for (const route of routes) {
    const pattern = trimSlashes(route.path).split('/');
    if (pattern.length !== parts.length) continue;

    const params: Record<string, string> = {};
    const matched = pattern.every((segment, index) => {
      const part = parts[index] ?? '';
      if (segment.startsWith(':')) {
        if (part === '') return false;
        try {
          params[segment.slice(1)] = decodeURIComponent(part);
        } catch {
          return false;
        }
        return true;
      }
      return segment === part;
    });
    if (matched) return { route, params };
  }
  return null;
}

function trimSlashes(path: string): string {
  return path.replace(/^\/+|\/+$/g, '');
}

/** True for a click the page should handle itself: a plain left click on one of its own links. */
export function isInternalLinkClick(event: MouseEvent): HTMLAnchorElement | null {
  if (event.defaultPrevented || event.button !== 0) return null;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return null;

  const anchor = (event.target as Element | null)?.closest('a');
  if (!anchor || anchor.target || anchor.hasAttribute('download')) return null;

  const url = new URL(anchor.href, location.href);
  if (url.origin !== location.origin) return null;
  // App previews and the API are served by the gateway itself, not by these pages.
  if (/^\/(preview|api|internal)\//.test(url.pathname)) return null;
  return anchor;
}
