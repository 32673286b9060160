// The dashboard shell: sign-in, the tab router (the tab is the URL's hash, so a reload or a
// shared link opens it), the 15-second refresh of live tabs (paused while the page is
// hidden), and sign-out, also forced by any 401.

import { api, clearToken, getToken, isAbort, onUnauthorized, setToken } from './js/api.js';
import { databaseKind } from './js/cinevault.js';
import { h } from './js/dom.js';
import { formatClock, setTimeZone } from './js/format.js';
import { banner } from './js/ui.js';
import overview from './js/tabs/overview.js';
import activity from './js/tabs/activity.js';
import streams from './js/tabs/streams.js';
import transcodes from './js/tabs/transcodes.js';
import system from './js/tabs/system.js';
import library from './js/tabs/library.js';
import alerts from './js/tabs/alerts.js';

const TABS = [overview, activity, streams, transcodes, system, library, alerts];
const REFRESH_MS = 15000;

const $ = (id) => document.getElementById(id);
const signinScreen = $('signin');
const appScreen = $('app');
const main = $('main');

let current = null;

/** What a tab gets: its root element, API calls that stop when it is left, chart cleanup. */
class View {
  constructor(tab) {
    this.tab = tab;
    this.controller = new AbortController();
    this.charts = [];
    this.calls = {};
    this.root = h('div', { class: 'tab-content' });
  }

  api(path, options = {}) {
    return api(path, { ...options, signal: this.controller.signal });
  }

  /**
   * Resolves like `promise`, unless a newer call with the same `key` started meanwhile (a
   * range clicked twice): then it rejects as aborted, so an older answer never overwrites a
   * newer one.
   */
  async latest(key, promise) {
    const n = (this.calls[key] = (this.calls[key] ?? 0) + 1);
    const value = await promise;
    if (this.calls[key] !== n) throw new DOMException('superseded by a newer request', 'AbortError');
    return value;
  }

  get alive() {
    return !this.controller.signal.aborted;
  }

  track(chartBox) {
    this.charts.push(chartBox);
    return chartBox;
  }

  /** Runs `work`, showing its failure on `panel` as "Could not load <what>". */
  async load(panel, what, work) {
    try {
      await work();
    } catch (err) {
      if (isAbort(err) || !this.alive || err?.status === 401) return;
      panel.fail(what, err);
    }
  }

  destroy() {
    this.controller.abort();
    for (const c of this.charts) c.destroy();
  }
}

function tabFromHash() {
  const id = window.location.hash.replace(/^#/, '');
  return TABS.find((t) => t.id === id) ?? TABS[0];
}

function renderNav(active) {
  for (const link of document.querySelectorAll('#tabs a')) {
    if (link.dataset.tab === active.id) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

function stopRefresh() {
  if (current?.timer) clearTimeout(current.timer);
  if (current) current.timer = null;
}

function scheduleRefresh() {
  stopRefresh();
  if (!current?.tab.live) return;
  current.timer = setTimeout(() => runRefresh(), REFRESH_MS);
}

async function runRefresh() {
  const state = current;
  if (!state || !state.refresh) return;
  if (document.visibilityState === 'hidden') {
    // Paused: refreshed as soon as the page is visible again.
    state.due = true;
    return;
  }
  state.due = false;
  try {
    await state.refresh();
    if (current === state) stampUpdated(state);
  } catch {
    // Each panel shows its own failure.
  } finally {
    if (current === state) scheduleRefresh();
  }
}

function stampUpdated(state) {
  state.updated.textContent = state.tab.live
    ? `Updated ${formatClock()} · refreshes every 15 s`
    : `Loaded ${formatClock()}`;
}

function mountTab(tab) {
  stopRefresh();
  if (current) current.view.destroy();
  const view = new View(tab);
  const updated = h('p', { class: 'updated', 'aria-live': 'off' });
  const refreshButton = h('button', {
    type: 'button', class: 'btn btn-ghost', 'data-action': 'refresh',
    onclick: () => (tab.live ? runRefresh() : mountTab(tab)),
  }, h('span', { 'aria-hidden': 'true', text: '↻ ' }), 'Refresh');
  const head = h('div', { class: 'tab-head' },
    h('div', {}, h('h1', { id: 'tab-title', text: tab.title }), h('p', { class: 'tab-sub', text: tab.description })),
    h('div', { class: 'tab-tools' }, updated, refreshButton));
  main.replaceChildren(head, view.root);
  main.dataset.tab = tab.id;
  document.title = `${tab.title} · CineVault Analytics`;
  renderNav(tab);
  const mounted = tab.mount(view) ?? {};
  current = { tab, view, refresh: mounted.refresh, timer: null, due: false, updated };
  stampUpdated(current);
  scheduleRefresh();
}

function route() {
  if (!getToken()) {
    showSignin();
    return;
  }
  const tab = tabFromHash();
  if (current && current.tab === tab && !appScreen.hidden) return;
  showApp();
  mountTab(tab);
}

function showSignin(message = null, kind = 'error') {
  stopRefresh();
  if (current) current.view.destroy();
  current = null;
  main.replaceChildren();
  appScreen.hidden = true;
  signinScreen.hidden = false;
  const box = $('signin-message');
  box.replaceChildren(message ? banner(kind, message) : '');
  document.title = 'Sign in · CineVault Analytics';
  $('token').value = '';
  $('token').focus();
}

function showApp() {
  if (!appScreen.hidden) return;
  signinScreen.hidden = true;
  appScreen.hidden = false;
  loadServerInfo();
}

async function loadServerInfo() {
  const info = $('server-info');
  try {
    const status = await api('/status');
    setTimeZone(status.timezone);
    const db = databaseKind(status);
    info.replaceChildren(
      h('span', { class: 'server-host', title: 'Host', text: status.host }),
      h('span', { class: 'server-meta' },
        db ? [h('span', { class: 'server-db', 'data-db-mode': status.database.mode, title: db.title, text: db.text }), ' · '] : null,
        `${status.timezone} · v${status.version}`));
  } catch (err) {
    if (err?.status !== 401) info.replaceChildren(h('span', { class: 'server-meta', text: 'status unavailable' }));
  }
}

function signOut(message, kind) {
  clearToken();
  $('server-info').replaceChildren();
  showSignin(message, kind);
}

async function signIn(event) {
  event.preventDefault();
  const input = $('token');
  const error = $('token-error');
  const token = input.value.trim();
  const button = $('signin-button');
  error.hidden = true;
  input.removeAttribute('aria-invalid');
  $('signin-message').replaceChildren();
  if (!token) {
    error.textContent = 'Enter an admin token.';
    error.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    input.focus();
    return;
  }
  button.disabled = true;
  button.textContent = 'Signing in…';
  try {
    await api('/status', { token });
    setToken(token);
    input.value = '';
    route();
  } catch (err) {
    const message = err.status === 401
      ? 'That token was not accepted. Check it and try again.'
      : err.status === 403
        ? 'That credential is valid but is not an admin’s.'
        : `Could not sign in: ${err.message}`;
    error.textContent = message;
    error.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  } finally {
    button.disabled = false;
    button.textContent = 'Sign in';
  }
}

function buildNav() {
  const nav = $('tabs');
  nav.replaceChildren(...TABS.map((t) => h('a', { href: `#${t.id}`, 'data-tab': t.id, text: t.title })));
}

onUnauthorized(() => {
  if (appScreen.hidden) return;
  signOut('Your session has ended: the server no longer accepts this token. Sign in again.');
});

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && current?.due) runRefresh();
});

// Charts take their colours from the scheme: redraw the tab when it changes.
window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
  if (current) mountTab(current.tab);
});

buildNav();
$('signin-form').addEventListener('submit', signIn);
$('signout').addEventListener('click', () => signOut('You have signed out.', 'info'));
window.addEventListener('hashchange', route);
route();
