// The building blocks every tab uses: panels with loading, empty and error states, stat
// cards, tables, badges, segmented choices and form fields.

import { h, uid } from './dom.js';

/** A message: kind `error`, `warning`, `ok` or `info`; `text` a string or nodes. */
export function banner(kind, text) {
  const icon = kind === 'error' || kind === 'warning' ? '!' : kind === 'ok' ? '✓' : 'i';
  return h('div', { class: `banner banner-${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    h('span', { class: 'banner-icon', 'aria-hidden': 'true', text: icon }),
    h('span', { class: 'banner-text' }, text));
}

export function loading(text = 'Loading…') {
  return h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), text);
}

export function empty(text) {
  return h('p', { class: 'empty' }, text);
}

/** "Could not load X: message (HTTP 503)". */
export function failure(what, err) {
  const status = err?.status ? ` (HTTP ${err.status})` : '';
  return `Could not load ${what}: ${err?.message ?? err}${status}`;
}

/**
 * A titled section of a tab. `show()` replaces its content; `fail()` shows an error banner
 * and keeps what was shown before (a failed refresh leaves the last good figures).
 */
export class Panel {
  constructor(title, { actions = [], note = null, className = '' } = {}) {
    const headingId = uid('panel');
    this.heading = h('h2', { id: headingId, text: title });
    this.note = h('p', { class: 'panel-note' }, note);
    this.status = h('div', { class: 'panel-status' });
    this.body = h('div', { class: 'panel-body' }, loading());
    this.el = h('section', { class: `panel ${className}`, 'aria-labelledby': headingId, 'aria-busy': 'true' },
      h('header', { class: 'panel-head' }, h('div', {}, this.heading, note ? this.note : null),
        actions.length ? h('div', { class: 'panel-actions' }, actions) : null),
      this.status, this.body);
    this.loaded = false;
  }

  show(...nodes) {
    this.status.replaceChildren();
    const next = nodes.flat().filter((n) => n !== null && n !== undefined && n !== false);
    const same = next.length === this.body.childNodes.length && next.every((n, i) => this.body.childNodes[i] === n);
    // Re-showing the same nodes (a chart being refreshed) leaves them where they are.
    if (!same) this.body.replaceChildren(...next);
    this.loaded = true;
    this.el.setAttribute('aria-busy', 'false');
  }

  /** Clears the error banner without touching the content. */
  ok() {
    this.status.replaceChildren();
    this.loaded = true;
    this.el.setAttribute('aria-busy', 'false');
  }

  fail(what, err) {
    this.status.replaceChildren(banner('error', failure(what, err)));
    if (!this.loaded) this.body.replaceChildren();
    this.el.setAttribute('aria-busy', 'false');
  }

  message(kind, text) {
    this.status.replaceChildren(banner(kind, text));
  }
}

export function statCard(label, value, { sub = null, tone = null, testid = null } = {}) {
  return h('div', { class: `stat${tone ? ` stat-${tone}` : ''}`, 'data-stat': testid },
    h('div', { class: 'stat-label', text: label }),
    h('div', { class: 'stat-value', text: value }),
    sub ? h('div', { class: 'stat-sub', text: sub }) : null);
}

export function badge(text, tone = 'neutral') {
  return h('span', { class: `badge badge-${tone}`, text });
}

/**
 * A table. `columns`: [{label, value: row => node|string, class?, numeric?}].
 * With no rows it shows `emptyText` instead.
 */
export function table(columns, rows, { caption, emptyText = 'Nothing to show.', testid } = {}) {
  if (!rows.length) return empty(emptyText);
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption },
    h('table', { 'data-table': testid },
      h('caption', { class: 'visually-hidden', text: caption }),
      h('thead', {}, h('tr', {}, columns.map((c) =>
        h('th', { scope: 'col', class: c.numeric ? 'num' : c.class, text: c.label })))),
      h('tbody', {}, rows.map((row) => h('tr', {}, columns.map((c) =>
        h('td', { class: c.numeric ? 'num' : c.class }, c.value(row))))))));
}

/**
 * A row of mutually exclusive choices (radio buttons styled as a segmented control), e.g.
 * the 1h/6h/24h/7d range. Calls `onChange(value)`.
 */
export function segmented(label, options, current, onChange) {
  const name = uid('seg');
  return h('fieldset', { class: 'segmented' },
    h('legend', { class: 'visually-hidden', text: label }),
    options.map(([value, text]) => {
      const id = uid('opt');
      return h('span', { class: 'segment' },
        h('input', {
          type: 'radio', id, name, value: String(value), checked: String(value) === String(current),
          onchange: () => onChange(value),
        }),
        h('label', { for: id, text }));
    }));
}

/** A labelled form control with a slot for its error message. */
export function field(label, control, { hint = null, className = '' } = {}) {
  const id = control.id || uid('field');
  control.id = id;
  const errorId = `${id}-error`;
  const hintId = hint ? `${id}-hint` : null;
  const error = h('p', { class: 'field-error', id: errorId, hidden: true });
  control.setAttribute('aria-describedby', [hintId, errorId].filter(Boolean).join(' '));
  const wrap = h('div', { class: `field ${className}` },
    h('label', { for: id, text: label }), control,
    hint ? h('p', { class: 'field-hint', id: hintId }, hint) : null, error);
  return { el: wrap, control, error };
}

export function setFieldError(f, message) {
  if (message) {
    f.error.textContent = message;
    f.error.hidden = false;
    f.control.setAttribute('aria-invalid', 'true');
  } else {
    f.error.textContent = '';
    f.error.hidden = true;
    f.control.removeAttribute('aria-invalid');
  }
}

/** A horizontal bar showing a share, with its figure as text. */
export function meter(label, percent, text, { tone: t = null } = {}) {
  const p = Math.max(0, Math.min(100, Number(percent) || 0));
  const auto = p >= 90 ? 'danger' : p >= 70 ? 'warning' : 'ok';
  return h('div', { class: 'meter' },
    h('div', { class: 'meter-head' }, h('span', { class: 'meter-label', text: label }), h('span', { class: 'meter-value', text })),
    h('div', {
      class: `meter-track meter-${t ?? auto}`, role: 'progressbar', 'aria-label': label,
      'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(Math.round(p)),
    }, h('div', { class: 'meter-fill', style: { width: `${p}%` } })));
}
