import { h, replace } from '../dom.js';
import type { PageContext } from '../router.js';
import { pageHeading } from '../widgets.js';

/** An address the admin pages do not have. */
export function notFoundPage(context: PageContext): void {
  replace(
    context.view,
    pageHeading('Page not found'),
    h('p', {}, 'There is no page at this address. ', h('a', { href: '/apps' }, 'Go to the apps.')),
  );
}
