// End-to-end tests of the built-in dashboard, in Debian's Chromium driven by playwright-core,
// against a sidecar serving demo data from a database of its own, and one serving
// `demo --cinevault` from CineVault's own schema (both started by scripts/test-browser, which
// passes their URLs and the admin token). The tests run in order and share one browser page,
// as an admin would; the CineVault tests use a second page.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const BASE = process.env.CINEVAULT_URL;
const CV_BASE = process.env.CINEVAULT_CV_URL;
const TOKEN = process.env.CINEVAULT_ADMIN_TOKEN;
const SHOTS = process.env.CINEVAULT_SCREENSHOTS ?? path.resolve('../../target/browser-screenshots');
assert.ok(BASE && CV_BASE && TOKEN, 'run through scripts/test-browser (CINEVAULT_URL, CINEVAULT_CV_URL, CINEVAULT_ADMIN_TOKEN)');

const TABS = ['overview', 'activity', 'streams', 'transcodes', 'system', 'library', 'alerts'];
const TOKEN_KEY = 'cinevault-analytics.admin-token';

let context;
let page;
let userDataDir;
const consoleErrors = [];
const foreignRequests = [];
const apiCalls = [];
// Browsers log a refused fetch (4xx) as a console error; only the tests that provoke one on
// purpose may see them.
let allowHttpErrors = false;

// A local webhook receiver: the channel test message must really arrive somewhere.
const received = [];
const receiver = http.createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => { body += chunk; });
  req.on('end', () => {
    received.push({ method: req.method, url: req.url, headers: req.headers, body });
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{"ok":true}');
  });
});

function isLocal(url) {
  if (url.startsWith('data:') || url.startsWith('blob:') || url.startsWith('about:')) return true;
  const { hostname } = new URL(url);
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
}

function watch(p) {
  p.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    if (allowHttpErrors && /Failed to load resource: the server responded with a status of (400|401|409|503)/.test(text)) return;
    consoleErrors.push(`${text} (${msg.location().url})`);
  });
  p.on('pageerror', (err) => consoleErrors.push(`uncaught: ${err.message}`));
}

before(async () => {
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinevault-chromium-'));
  fs.mkdirSync(SHOTS, { recursive: true });
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
    viewport: { width: 1440, height: 900 },
    colorScheme: 'light',
  });
  context.on('request', (req) => {
    if (!isLocal(req.url())) foreignRequests.push(req.url());
    if (req.url().includes('/api/v1/')) apiCalls.push({ method: req.method(), url: req.url() });
  });
  page = context.pages()[0] ?? await context.newPage();
  watch(page);
});

after(async () => {
  await context?.close();
  receiver.close();
  if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
});

// ---- helpers ----------------------------------------------------------------------------

/** Waits until the current tab has loaded every panel. */
async function settled(p = page) {
  await p.waitForFunction(() => document.querySelector('main .tab-content')
    && !document.querySelector('main [aria-busy="true"]'));
}

async function openTab(id, p = page) {
  await p.click(`#tabs a[data-tab="${id}"]`);
  await p.waitForFunction((tab) => document.querySelector('main')?.dataset.tab === tab, id);
  await settled(p);
}

/** Every visible canvas of the tab, with how many of its pixels are painted. */
async function canvases(p = page) {
  return p.evaluate(() => [...document.querySelectorAll('main canvas')]
    .filter((c) => c.offsetParent !== null)
    .map((c) => {
      const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
      let painted = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted += 1;
      return { label: c.getAttribute('aria-label'), width: c.width, height: c.height, painted };
    }));
}

async function assertChartsDrawn(expected) {
  const list = await canvases();
  assert.equal(list.length, expected, `canvases: ${JSON.stringify(list)}`);
  for (const c of list) {
    assert.ok(c.width > 0 && c.height > 0, `${c.label} has no size`);
    // A drawn chart paints a good share of its area; an empty one paints nothing.
    assert.ok(c.painted > (c.width * c.height) / 100, `${c.label} is blank: ${JSON.stringify(c)}`);
  }
}

async function rows(selector, p = page) {
  return p.locator(`table[data-table="${selector}"] tbody tr`).count();
}

async function columnTexts(table, index, p = page) {
  return p.$$eval(`table[data-table="${table}"] tbody tr td:nth-child(${index})`, (cells) => cells.map((c) => c.textContent));
}

async function noErrorBanners(p = page) {
  const banners = await p.locator('main .banner-error').allTextContents();
  assert.deepEqual(banners, [], 'error banners on the page');
}

async function shoot(name, scheme, p = page) {
  await p.emulateMedia({ colorScheme: scheme });
  // The tab redraws itself in the new scheme's colours.
  await p.waitForTimeout(50);
  await settled(p);
  await p.screenshot({ path: path.join(SHOTS, `${name}-${scheme}.png`), fullPage: true });
}

async function shootBoth(name, p = page) {
  await shoot(name, 'dark', p);
  await shoot(name, 'light', p);
}

/** Submits the Activity filters and waits for the watch history answer whose URL passes `match`. */
async function applyFilters(match, p = page) {
  await Promise.all([
    p.waitForResponse((r) => r.url().includes('/analytics/watch-activity') && match(r.url())),
    p.click('.filters button[type="submit"]'),
  ]);
  await settled(p);
}

async function signIn(p = page, token = TOKEN) {
  await p.fill('#token', token);
  await p.click('#signin-button');
}

// ---- tests ------------------------------------------------------------------------------

test('the page is served with a strict CSP and asks for a token', async () => {
  const response = await page.goto(`${BASE}/`);
  assert.equal(response.status(), 200);
  const csp = response.headers()['content-security-policy'];
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'/);
  await page.waitForSelector('#signin:not([hidden])');
  assert.equal(await page.title(), 'Sign in · CineVault Analytics');
  await page.screenshot({ path: path.join(SHOTS, 'signin-light.png') });
});

test('an empty or wrong token is refused with a message', async () => {
  const before = apiCalls.length;
  await page.click('#signin-button');
  assert.equal(await page.textContent('#token-error'), 'Enter an admin token.');
  assert.equal(apiCalls.length, before, 'an empty token is not sent');

  allowHttpErrors = true;
  await signIn(page, 'not-the-token-000');
  await page.waitForSelector('#token-error:not([hidden])');
  assert.match(await page.textContent('#token-error'), /not accepted/);
  assert.equal(await page.getAttribute('#token', 'aria-invalid'), 'true');
  allowHttpErrors = false;
  assert.equal(await page.evaluate((k) => sessionStorage.getItem(k), TOKEN_KEY), null);
});

test('signing in opens the overview with its figures, gauges and trends', async () => {
  await signIn();
  await page.waitForSelector('#app:not([hidden])');
  await settled();
  assert.equal(await page.evaluate(() => document.querySelector('main').dataset.tab), 'overview');
  assert.equal(await page.textContent('#tabs a[aria-current="page"]'), 'Overview');
  assert.equal(await page.locator('#tabs a').count(), 7);
  assert.deepEqual(await page.$$eval('#tabs a', (as) => as.map((a) => a.textContent)),
    ['Overview', 'Activity', 'Streams', 'Transcodes', 'System', 'Library Health', 'Alerts']);
  assert.equal(await page.locator('.stat').count(), 9);
  const playsWeek = await page.textContent('[data-stat="plays-week"] .stat-value');
  assert.ok(Number(playsWeek.replace(/\D/g, '')) > 0, `plays this week: ${playsWeek}`);
  assert.match(await page.textContent('[data-stat="bandwidth"] .stat-value'), /^\d+(\.\d)? (B|kB|MB|GB|TB)$/);
  assert.match(await page.textContent('#server-info'), /media-1/);
  await noErrorBanners();
  await assertChartsDrawn(4);
  await shootBoth('overview');
});

test('the standalone demo says it runs on its own database, with no CineVault notice', async () => {
  await page.waitForSelector('#server-info .server-db');
  assert.equal(await page.textContent('#server-info .server-db'), 'Own database');
  assert.equal(await page.getAttribute('#server-info .server-db', 'data-db-mode'), 'standalone');
  assert.doesNotMatch(await page.textContent('#server-info'), /CineVault database/);
  for (const tab of ['overview', 'alerts']) {
    await openTab(tab);
    assert.equal(await page.locator('main [data-notice]').count(), 0, `${tab}: a CineVault notice`);
    assert.equal(await page.locator('main .notice-slot:visible').count(), 0, `${tab}: the notice takes room`);
    assert.equal(await page.locator('main .banner-warning').count(), 0, `${tab}: a warning`);
  }
  await openTab('overview');
  // Every play came through the ingest API: no line about CineVault's request rows.
  assert.equal(await page.locator('[data-plays-source]').count(), 0);
});

test('activity lists who watched what, and its filters change the rows', async () => {
  await openTab('activity');
  await noErrorBanners();
  assert.equal(await rows('activity'), 100);
  assert.ok(await rows('users') >= 10);
  // Media types by their labels, not CineVault's enum names.
  const firstTypes = new Set(await columnTexts('activity', 3));
  assert.ok([...firstTypes].every((t) => ['Movies', 'TV shows'].includes(t)), `types: ${[...firstTypes]}`);
  await shootBoth('activity');

  // Next page.
  await page.click('[data-action="more"]');
  await page.waitForFunction(() => document.querySelectorAll('table[data-table="activity"] tbody tr').length > 100);

  // By user: every row is that user's.
  const users = await page.$$eval('select[name="user_id"] option', (os) => os.map((o) => ({ value: o.value, text: o.textContent })));
  const someone = users.find((u) => u.value);
  const allFirst = await columnTexts('activity', 1);
  await page.selectOption('select[name="user_id"]', someone.value);
  await Promise.all([
    page.waitForResponse((r) => r.url().includes('/analytics/watch-activity') && r.url().includes(`user_id=${someone.value}`)),
    page.click('.filters button[type="submit"]'),
  ]);
  await settled();
  const byUser = await columnTexts('activity', 1);
  assert.ok(byUser.length > 0, 'the user has plays');
  assert.ok(byUser.every((u) => u === someone.text), `rows of other users: ${byUser}`);
  assert.notDeepEqual(byUser, allFirst);

  // By media type: a choice of CineVault's media types, by their labels, "Any" first.
  const choices = await page.$$eval('select[name="media_type"] option', (os) => os.map((o) => [o.value, o.textContent]));
  assert.deepEqual(choices, [
    ['', 'Any'], ['movies', 'Movies'], ['tv_shows', 'TV shows'], ['adult_movies', 'Adult movies'], ['music', 'Music'],
    ['music_videos', 'Music videos'], ['home_videos', 'Home videos'], ['other_videos', 'Other videos'],
    ['images', 'Images'], ['audiobooks', 'Audiobooks'],
  ]);
  await page.selectOption('select[name="user_id"]', '');
  await page.selectOption('select[name="media_type"]', 'tv_shows');
  await applyFilters((url) => url.includes('media_type=tv_shows'));
  const types = await columnTexts('activity', 3);
  assert.ok(types.length > 0 && types.every((t) => t === 'TV shows'), `types: ${[...new Set(types)]}`);
  // Plays reported through the ingest API: one row each, their duration as reported.
  assert.equal(await page.locator('table[data-table="activity"] .play-requests').count(), 0);

  // By date range: one day in the past has fewer plays than the whole history.
  await page.selectOption('select[name="media_type"]', '');
  const day = new Date(Date.now() - 3 * 86400000).toISOString().slice(0, 10);
  await page.fill('input[name="from"]', day);
  await page.fill('input[name="to"]', day);
  await Promise.all([
    page.waitForResponse((r) => r.url().includes(`from=${day}`) && r.url().includes(`to=${day}`)),
    page.click('.filters button[type="submit"]'),
  ]);
  await settled();
  const oneDay = await rows('activity');
  assert.ok(oneDay > 0 && oneDay < 100, `plays on ${day}: ${oneDay}`);

  // A range that ends before it starts is caught before anything is sent.
  const sent = apiCalls.length;
  await page.fill('input[name="from"]', '2026-02-10');
  await page.fill('input[name="to"]', '2026-02-01');
  await page.click('.filters button[type="submit"]');
  await page.waitForSelector('.filters .field-error:not([hidden])');
  assert.match(await page.textContent('.filters .field-error:not([hidden])'), /on or before/);
  assert.equal(apiCalls.length, sent);

  await page.click('.filters button:has-text("Reset")');
  await page.waitForFunction(() => document.querySelectorAll('table[data-table="activity"] tbody tr').length === 100);
});

test('streams shows active and recent sessions and the playback doughnut', async () => {
  await openTab('streams');
  await noErrorBanners();
  assert.ok(await rows('active-streams') >= 1, 'active streams in the demo');
  assert.equal(await rows('recent-streams'), 50);
  assert.equal(await page.locator('.legend-list li:not(.legend-total)').count(), 3);
  await assertChartsDrawn(1);
  await shootBoth('streams');
});

test('transcodes shows its cards, codec chart and history with outcomes', async () => {
  await openTab('transcodes');
  await noErrorBanners();
  assert.equal(await page.locator('.stat').count(), 4);
  assert.match(await page.textContent('[data-stat="success-rate"] .stat-value'), /%$/);
  assert.ok(await rows('transcodes') > 0);
  const outcomes = await columnTexts('transcodes', 9);
  assert.ok(outcomes.some((o) => o.includes('Succeeded')), 'a success mark');
  await assertChartsDrawn(1);
  await shootBoth('transcodes');
});

test('system shows live readings and history charts over a chosen range', async () => {
  await openTab('system');
  await noErrorBanners();
  assert.equal(await page.locator('.host[data-host="media-1"]').count(), 1);
  assert.ok(await page.locator('.host .meter').count() >= 3);
  // CPU, memory, GPU (the demo's week has GPU readings), streams and transcodes.
  await assertChartsDrawn(4);
  await shootBoth('system');
  await Promise.all([
    page.waitForResponse((r) => r.url().includes('/analytics/system/history?hours=1')),
    page.click('.segmented label:has-text("1 h")'),
  ]);
  await settled();
  await assertChartsDrawn(4);
  await Promise.all([
    page.waitForResponse((r) => r.url().includes('/analytics/system/history?hours=168')),
    page.click('.segmented label:has-text("7 d")'),
  ]);
  await settled();
  await assertChartsDrawn(4);
});

test('library health shows a card per library', async () => {
  await openTab('library');
  await noErrorBanners();
  const names = await page.$$eval('.library h3', (hs) => hs.map((x) => x.textContent));
  assert.deepEqual([...names].sort(), ['4K Movies', 'Anime', 'Movies', 'TV Shows']);
  // CineVault's media types by their labels.
  const types = await page.$$eval('.library', (ls) => Object.fromEntries(ls.map((l) => [l.dataset.library, l.querySelector('.library-head .muted').textContent])));
  assert.deepEqual(types, { '4K Movies': 'Movies', Anime: 'TV shows', Movies: 'Movies', 'TV Shows': 'TV shows' });
  assert.ok(await page.locator('.library .meter').count() >= 4);
  await shootBoth('library');
});

test('alerts: a channel and a rule are created, edited, tested and deleted', async () => {
  await openTab('alerts');
  await noErrorBanners();
  assert.match(await page.textContent('main'), /No channels yet/);
  const hook = `http://127.0.0.1:${receiver.address().port}/hook`;

  // Bad input caught in the page: nothing is sent.
  await page.click('[data-action="new-channel"]');
  await page.waitForSelector('dialog[open] form[data-form="channel"]');
  const sent = apiCalls.length;
  await page.click('dialog[open] button[type="submit"]');
  assert.equal(await page.textContent('dialog[open] #' + await page.getAttribute('dialog[open] input[name="name"]', 'id') + '-error'), 'Enter a name.');
  assert.equal(apiCalls.length, sent);

  // Bad input the API refuses: its message shows on the field it names.
  allowHttpErrors = true;
  await page.fill('dialog[open] input[name="name"]', 'Metadata thief');
  await page.selectOption('dialog[open] select[name="channel_type"]', 'generic');
  await page.fill('dialog[open] input[name="webhook_url"]', 'http://169.254.169.254/latest/meta-data');
  const [refused] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/notifications/channels') && r.request().method() === 'POST'),
    page.click('dialog[open] button[type="submit"]'),
  ]);
  assert.equal(refused.status(), 400);
  const apiMessage = (await refused.json()).error.message;
  const urlError = await page.waitForSelector('dialog[open] [name="webhook_url"] ~ .field-error:not([hidden])');
  assert.equal(await urlError.textContent(), apiMessage);
  assert.match(await page.textContent('dialog[open] .form-status'), /The server refused this/);
  await page.screenshot({ path: path.join(SHOTS, 'alerts-refused-light.png') });
  allowHttpErrors = false;

  // Create.
  await page.fill('dialog[open] input[name="name"]', 'Ops webhook');
  await page.fill('dialog[open] input[name="webhook_url"]', hook);
  await page.click('dialog[open] button[type="submit"]');
  await page.waitForSelector('dialog[open]', { state: 'detached' });
  await page.waitForSelector('table[data-table="channels"]');
  assert.equal(await rows('channels'), 1);
  assert.match(await page.textContent('table[data-table="channels"]'), /Ops webhook/);

  // Edit: rename and narrow the alerts it takes.
  await page.click('table[data-table="channels"] [data-action="edit"]');
  await page.waitForSelector('dialog[open] form[data-form="channel"]');
  await page.fill('dialog[open] input[name="name"]', 'Ops webhook (disk)');
  await page.uncheck('dialog[open] input[name="events"][value="all"]');
  await page.check('dialog[open] input[name="events"][value="disk_space_low"]');
  await page.click('dialog[open] button[type="submit"]');
  await page.waitForSelector('dialog[open]', { state: 'detached' });
  await page.waitForFunction(() => document.querySelector('table[data-table="channels"]')?.textContent.includes('Ops webhook (disk)'));
  assert.match(await page.textContent('table[data-table="channels"]'), /Disk space low/);

  // Test: the message reaches the local receiver and the page says so.
  await page.click('table[data-table="channels"] [data-action="test"]');
  await page.waitForFunction(() => /Test message delivered/.test(document.querySelector('main').textContent));
  assert.equal(received.length, 1);
  assert.equal(received[0].url, '/hook');
  assert.equal(JSON.parse(received[0].body).status, 'test');
  await page.waitForFunction(() => document.querySelectorAll('table[data-table="log"] tbody tr').length === 1);
  assert.equal(await page.textContent('table[data-table="log"] thead th:nth-child(8)'), 'Sent by');
  assert.deepEqual(await columnTexts('log', 8), ['Sidecar']);

  // A rule: bad threshold caught in the page, then created.
  await page.click('[data-action="new-rule"]');
  await page.waitForSelector('dialog[open] form[data-form="rule"]');
  await page.fill('dialog[open] input[name="name"]', 'Low disk space');
  await page.fill('dialog[open] input[name="threshold"]', '-5');
  await page.click('dialog[open] button[type="submit"]');
  assert.equal(await page.textContent('dialog[open] [name="threshold"] ~ .field-error'), 'Zero or more.');
  await page.fill('dialog[open] input[name="threshold"]', '50');
  await page.fill('dialog[open] input[name="cooldown_minutes"]', '120');
  await page.click('dialog[open] button[type="submit"]');
  await page.waitForSelector('dialog[open]', { state: 'detached' });
  await page.waitForSelector('table[data-table="rules"]');
  assert.match(await page.textContent('table[data-table="rules"]'), /free disk < 50 GB/);
  assert.deepEqual(await columnTexts('rules', 4), ['2 h']);

  // Edit the rule.
  await page.click('table[data-table="rules"] [data-action="edit"]');
  await page.waitForSelector('dialog[open] form[data-form="rule"]');
  await page.fill('dialog[open] input[name="threshold"]', '25');
  await page.uncheck('dialog[open] input[name="is_enabled"]');
  await page.click('dialog[open] button[type="submit"]');
  await page.waitForSelector('dialog[open]', { state: 'detached' });
  await page.waitForFunction(() => /free disk < 25 GB/.test(document.querySelector('table[data-table="rules"]')?.textContent ?? ''));
  assert.match(await page.textContent('table[data-table="rules"]'), /Disabled/);
  await settled();
  await shootBoth('alerts');

  // A channel that a rule uses cannot be deleted: the API's 409 message is shown.
  allowHttpErrors = true;
  await page.click('table[data-table="channels"] [data-action="delete"]');
  await page.click('dialog[open] [data-action="confirm-delete"]');
  await page.waitForSelector('dialog[open] .banner-error');
  assert.match(await page.textContent('dialog[open] .banner-error'), /Low disk space/);
  await page.click('dialog[open] button:has-text("Cancel")');
  allowHttpErrors = false;

  // Delete the rule, then the channel.
  await page.click('table[data-table="rules"] [data-action="delete"]');
  await page.click('dialog[open] [data-action="confirm-delete"]');
  await page.waitForFunction(() => /No alert rules yet/.test(document.querySelector('main').textContent));
  await page.click('table[data-table="channels"] [data-action="delete"]');
  await page.click('dialog[open] [data-action="confirm-delete"]');
  await page.waitForFunction(() => /No channels yet/.test(document.querySelector('main').textContent));
  // The log keeps the test message of the deleted channel.
  assert.equal(await rows('log'), 1);
});

test('a failing endpoint shows a banner naming what failed; no data shows an empty state', async () => {
  allowHttpErrors = true;
  const unavailable = { error: { code: 'unavailable', message: 'the database did not answer in time', field: null } };
  await page.route('**/api/v1/analytics/transcodes?*', (route) => route.fulfill({
    status: 503, contentType: 'application/json', body: JSON.stringify(unavailable),
  }));
  await page.route('**/api/v1/analytics/streams', (route) => route.fulfill({
    status: 200, contentType: 'application/json', body: JSON.stringify({ active: [], recent: [] }),
  }));
  await openTab('transcodes');
  assert.equal(await page.textContent('main .banner-error .banner-text'),
    'Could not load the transcode statistics: the database did not answer in time (HTTP 503)');
  await openTab('streams');
  assert.match(await page.textContent('main'), /No streams right now\./);
  await page.unrouteAll();
  allowHttpErrors = false;
});

test('the tab is in the URL: a reload or a link opens it, and the keyboard moves between tabs', async () => {
  await page.goto(`${BASE}/#system`);
  await page.reload();
  await settled();
  assert.equal(await page.evaluate(() => document.querySelector('main').dataset.tab), 'system');
  await page.focus('#tabs a[data-tab="streams"]');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('main').dataset.tab === 'streams');
  assert.equal(new URL(page.url()).hash, '#streams');
  // Every form control has a label.
  for (const tab of TABS) {
    await openTab(tab);
    const unlabelled = await page.$$eval('main input, main select', (els) => els
      .filter((el) => !(el.labels?.length || el.getAttribute('aria-label')))
      .map((el) => el.outerHTML));
    assert.deepEqual(unlabelled, [], `${tab}: controls without labels`);
  }
});

test('usable at phone width', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  for (const tab of ['overview', 'alerts']) {
    await openTab(tab);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${tab} scrolls sideways by ${overflow}px`);
  }
  await openTab('overview');
  await page.screenshot({ path: path.join(SHOTS, 'overview-phone-light.png'), fullPage: true });
  await page.setViewportSize({ width: 1440, height: 900 });
});

test('a 401 at any time returns to sign-in with a message; sign-out forgets the token', async () => {
  await openTab('overview');
  allowHttpErrors = true;
  await page.evaluate((k) => sessionStorage.setItem(k, 'revoked-token-0000'), TOKEN_KEY);
  await page.click('[data-action="refresh"]');
  await page.waitForSelector('#signin:not([hidden])');
  assert.match(await page.textContent('#signin-message'), /session has ended/);
  allowHttpErrors = false;
  assert.equal(await page.evaluate((k) => sessionStorage.getItem(k), TOKEN_KEY), null);

  await signIn();
  await page.waitForSelector('#app:not([hidden])');
  await settled();
  await page.click('#signout');
  await page.waitForSelector('#signin:not([hidden])');
  assert.match(await page.textContent('#signin-message'), /signed out/);
  assert.equal(await page.evaluate((k) => sessionStorage.getItem(k), TOKEN_KEY), null);
});

// ---- CineVault's own database (demo --cinevault) ----------------------------------------

let cv;

test('on CineVault’s database the top bar says so and the overview shows CineVault’s workers', async () => {
  cv = await context.newPage();
  watch(cv);
  await cv.goto(`${CV_BASE}/`);
  await cv.waitForSelector('#signin:not([hidden])');
  await signIn(cv);
  await cv.waitForSelector('#app:not([hidden])');
  await settled(cv);
  await noErrorBanners(cv);
  await cv.waitForSelector('#server-info .server-db');
  assert.equal(await cv.textContent('#server-info .server-db'), 'CineVault database');
  assert.equal(await cv.getAttribute('#server-info .server-db', 'data-db-mode'), 'cinevault');

  // A named region, with the collector (its rows arrive every minute) and what is done about it.
  const notice = cv.getByRole('region', { name: 'CineVault’s own workers' });
  await notice.waitFor();
  assert.equal(await notice.getAttribute('data-notice'), 'cinevault-workers');
  const collector = notice.locator('[data-worker="collector"]');
  assert.equal(await collector.count(), 1, 'the collector is detected');
  const text = await collector.textContent();
  assert.match(text, /Metrics collector/);
  assert.match(text, /last seen (\d+ s|\d+ min|just now)/);
  assert.match(text, /left out of the sidecar's answers/);
  // The plays cards say how many of today's plays come from CineVault's request rows.
  assert.match(await cv.textContent('[data-plays-source="cinevault"]'),
    /^[\d,.]+ of today’s [\d,.]+ plays from CineVault’s request rows/);
  await shootBoth('overview-cinevault', cv);
  // The notice fits a phone's width too.
  await cv.setViewportSize({ width: 390, height: 844 });
  await cv.click('main details.schema-changes summary');
  const overflow = await cv.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the overview scrolls sideways by ${overflow}px`);
  await cv.screenshot({ path: path.join(SHOTS, 'overview-cinevault-phone-light.png') });
  await cv.click('main details.schema-changes summary');
  await cv.setViewportSize({ width: 1440, height: 900 });
});

test('on CineVault’s database the activity filters by CineVault’s media types and shows grouped plays', async () => {
  await openTab('activity', cv);
  await noErrorBanners(cv);
  assert.equal(await rows('activity', cv), 100);
  await cv.selectOption('select[name="media_type"]', 'tv_shows');
  await applyFilters((url) => url.includes('media_type=tv_shows'), cv);
  const types = await columnTexts('activity', 3, cv);
  assert.ok(types.length > 0 && types.every((t) => t === 'TV shows'), `types: ${[...new Set(types)]}`);

  // A play grouped from several of CineVault's request rows says how many.
  const requests = cv.locator('table[data-table="activity"] .play-requests');
  assert.ok(await requests.count() > 0, 'a play grouped from several request rows');
  const first = requests.first();
  assert.match(await first.textContent(), /^\d+ requests$/);
  assert.ok(Number(await first.getAttribute('data-requests')) > 1);
  assert.match(await first.locator('xpath=..').getAttribute('title'), /CineVault’s request rows, grouped into one play/);
  // The completion says what it was judged on.
  const judged = cv.locator('table[data-table="activity"] [data-completion-source="watch_history"]');
  assert.ok(await judged.count() > 0, 'plays judged on watch_history');
  assert.match(await judged.first().getAttribute('title'), /^Judged on CineVault’s watch history/);
  await shootBoth('activity-cinevault', cv);

  await openTab('streams', cv);
  await noErrorBanners(cv);
  assert.match(await cv.textContent('[data-plays-source="cinevault"]'), /^[\d,.]+ of these [\d,.]+ sessions from CineVault’s request rows/);
});

test('on CineVault’s database the alerts tab shows its evaluator, and warns when alerts may arrive twice', async () => {
  await openTab('alerts', cv);
  await noErrorBanners(cv);
  const notice = cv.getByRole('region', { name: 'CineVault’s alert evaluator' });
  await notice.waitFor();
  assert.equal(await cv.locator('main [data-worker="collector"], main [data-worker="rollup"]').count(), 0, 'only the evaluator');
  // The demo's evaluator has sent nothing: no warning.
  assert.equal(await cv.locator('main .banner-warning').count(), 0);

  // Once CineVault's evaluator is seen sending while the sidecar sends too: a warning, with
  // the note that says how to stop it.
  const note = 'it evaluates the same rules and cannot be switched off: each alert may arrive twice '
    + '(set --evaluate-alerts false to leave them to CineVault)';
  await cv.route('**/api/v1/status', async (route) => {
    const response = await route.fetch();
    const json = await response.json();
    const seen = new Date(Date.now() - 3 * 60000).toISOString();
    Object.assign(json.cinevault_workers, { duplicate_alerts: true, days_restored: ['2026-01-10'], daily_stats_rows_not_ours: 2 });
    Object.assign(json.cinevault_workers.alert_evaluator, { detected: true, running: true, last_seen: seen, note });
    Object.assign(json.cinevault_workers.rollup, { detected: true, running: false, last_seen: seen });
    await route.fulfill({ response, json });
  });
  await cv.click('[data-action="refresh"]');
  await settled(cv);
  const warning = cv.locator('main .banner-warning[data-banner="duplicate-alerts"]');
  await warning.waitFor();
  const warningText = await warning.textContent();
  assert.match(warningText, /Each alert may arrive twice/);
  assert.match(warningText, /last seen \d+ min ago/);
  assert.match(warningText, /--evaluate-alerts false/);
  assert.equal(await cv.locator('main [data-notice]').count(), 0, 'the warning replaces the notice');
  await shootBoth('alerts-cinevault-duplicate', cv);

  // The overview lists every worker seen, the rollup with the days it wrote back.
  await openTab('overview', cv);
  const workers = await cv.$$eval('main [data-worker]', (ws) => ws.map((w) => w.dataset.worker));
  assert.deepEqual(workers, ['collector', 'rollup', 'alert_evaluator']);
  assert.match(await cv.textContent('main [data-worker="rollup"]'), /Days written back: Jan 10/);
  await shoot('overview-cinevault-all-workers', 'light', cv);
  await cv.unrouteAll();
  await cv.close();
});

test('live tabs refresh every 15 s, and not while the page is hidden', async () => {
  const p = await context.newPage();
  watch(p);
  await p.clock.install();
  await p.goto(`${BASE}/#streams`);
  await signIn(p);
  await settled(p);
  const count = () => apiCalls.filter((c) => c.url.endsWith('/api/v1/analytics/streams')).length;
  const first = count();
  await p.clock.runFor(15500);
  await p.waitForFunction(() => !document.querySelector('main [aria-busy="true"]'));
  await p.waitForTimeout(200);
  assert.equal(count(), first + 1, 'one refresh after 15 s');

  const setVisibility = (state) => p.evaluate((s) => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => s });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => s === 'hidden' });
    document.dispatchEvent(new Event('visibilitychange'));
  }, state);
  await setVisibility('hidden');
  await p.clock.runFor(60000);
  await p.waitForTimeout(200);
  assert.equal(count(), first + 1, 'no refresh while hidden');
  await setVisibility('visible');
  await p.waitForTimeout(300);
  assert.equal(count(), first + 2, 'refreshed as soon as visible again');
  await p.close();
});

test('no console errors, and no request left localhost', () => {
  assert.deepEqual(foreignRequests, [], 'requests to other hosts');
  assert.deepEqual(consoleErrors, [], 'console errors');
});
