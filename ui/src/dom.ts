/** A child of an element: text is always inserted as text, never parsed as HTML. */
export type Child = Node | string | number | null | undefined | false;

type Listener = (event: Event) => void;

/** Attributes by name; `on<event>` keys take listeners, `false`/`undefined` leave it out. */
export type Props = Record<string, string | number | boolean | Listener | undefined>;

/**
 * Builds an element. Page code never assigns `innerHTML`, so nothing a provider or a build sent
 * (names, summaries, error messages) can become markup.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);

  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') {
      element.addEventListener(name.slice(2).toLowerCase(), value);
      continue;
    }
    element.setAttribute(name, value === true ? '' : String(value));
  }

  append(element, ...children);
  return element;
}

/** Appends children, skipping the empty ones. */
export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces every child of `parent`. */
export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

/** Looks an element up by id, failing loudly when the page shell lacks it. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element as T;
}

/** A labelled form field: the label wraps nothing, it points at the control by id. */
export function field(label: string, control: HTMLElement, hint?: Child): HTMLDivElement {
  const hintId = hint ? `${control.id}-hint` : undefined;
  if (hintId) control.setAttribute('aria-describedby', hintId);
  return h(
    'div',
    { class: 'field' },
    h('label', { for: control.id }, label),
    control,
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
  );
}
