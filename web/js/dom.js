// Building DOM nodes without ever parsing data as HTML: text goes in as text nodes, so a
// title or user name holding "<script>" shows as those characters.

/**
 * h('a', {href: '#x', class: 'link', onclick: fn}, 'text', child, [more])
 * Props: `class`, `text`, `dataset` (object), `style` (object, set through CSSOM so the
 * strict CSP allows it), `on<event>` functions, `value`/`checked`/`disabled`/`selected`
 * (set as properties, after the children), anything else as an attribute (true = present,
 * false/null/undefined = absent).
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  const late = [];
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = String(value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'style') {
      for (const [prop, v] of Object.entries(value)) {
        if (prop.startsWith('--')) el.style.setProperty(prop, v);
        else el.style[prop] = v;
      }
    } else if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (['value', 'checked', 'disabled', 'selected'].includes(key)) {
      late.push([key, value]);
    } else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  for (const [key, value] of late) el[key] = value;
  return el;
}

/** Appends children (nodes, strings, numbers, nested arrays; null and false are skipped). */
export function append(el, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

let counter = 0;
/** A unique id for label/aria wiring. */
export function uid(prefix = 'id') {
  counter += 1;
  return `${prefix}-${counter}`;
}
