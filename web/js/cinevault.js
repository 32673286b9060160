// On CineVault's own database: which kind of database the sidecar runs on, the notice about
// CineVault's always-on workers (from /api/v1/status), and where a play's figures come from
// (CineVault writes one stream_sessions row per HTTP request; the sidecar groups them).

import { h, uid } from './dom.js';
import { formatAgo, formatDateTime, formatDay, formatDuration, formatNumber } from './format.js';
import { badge, banner } from './ui.js';

/** CineVault's workers, as /status names them. */
const WORKERS = [
  ['collector', 'Metrics collector'],
  ['rollup', 'Nightly rollup'],
  ['alert_evaluator', 'Alert evaluator'],
];

export function isCinevault(status) {
  return status?.database?.mode === 'cinevault';
}

/** "CineVault database" or "Own database", with a sentence for its tooltip; null when unknown. */
export function databaseKind(status) {
  const db = status?.database;
  if (db?.mode === 'cinevault') {
    return {
      text: 'CineVault database',
      title: `Runs on CineVault's own database (${db.decided_by ?? 'mode'}); `
        + `its timestamps are read as ${db.db_timezone ?? 'UTC'}.`,
    };
  }
  if (db?.mode === 'standalone') {
    return { text: 'Own database', title: `Runs on a database of its own (${db.decided_by ?? 'mode'}).` };
  }
  return null;
}

/** The backend's notes are clauses ("its rows are …"): shown as a sentence. */
function sentence(text) {
  const s = String(text ?? '').trim();
  if (!s) return '';
  return `${s[0].toUpperCase()}${s.slice(1)}${/[.!?)]$/.test(s) ? '' : '.'}`;
}

/** Text with its command-line flags ("--evaluate-alerts false") as code, never broken. */
function withFlags(text) {
  return String(text).split(/(--[a-z][a-z-]*(?: (?:true|false))?)/).map((part, i) => (i % 2 ? h('code', { class: 'flag', text: part }) : part));
}

function lastSeen(seen) {
  if (!seen.last_seen) return h('span', { class: 'muted small', text: 'last seen: time not known' });
  return h('span', { class: 'muted small', title: formatDateTime(seen.last_seen), text: `last seen ${formatAgo(seen.last_seen)}` });
}

function rollupDetails(workers) {
  const days = workers.days_restored ?? [];
  const lines = [];
  if (days.length) {
    const shown = days.slice(0, 5).map(formatDay).join(', ');
    const rest = days.length > 5 ? ` and ${formatNumber(days.length - 5)} more` : '';
    lines.push(`Days written back: ${shown}${rest}.`);
  }
  if (workers.daily_stats_rows_not_ours > 0) {
    const n = workers.daily_stats_rows_not_ours;
    lines.push(`${formatNumber(n)} day${n === 1 ? '' : 's'} in daily_stats ${n === 1 ? 'is' : 'are'} CineVault's own, not the sidecar's.`);
  }
  return lines.map((text) => h('p', { class: 'worker-extra muted small', text }));
}

function workerItem(key, label, seen, workers) {
  return h('li', { class: 'worker', 'data-worker': key },
    h('div', { class: 'worker-head' },
      h('span', { class: 'worker-name', text: label }),
      seen.running ? badge('Running', 'ok') : null,
      lastSeen(seen)),
    h('p', { class: 'worker-note' }, withFlags(sentence(seen.note))),
    key === 'rollup' ? rollupDetails(workers) : null);
}

function schemaChanges(status) {
  const changes = status?.schema?.changes ?? [];
  if (!changes.length) return null;
  const counts = new Map();
  for (const c of changes) counts.set(c.change, (counts.get(c.change) ?? 0) + 1);
  const summary = [...counts].map(([change, n]) => `${change} ${formatNumber(n)}`).join(', ');
  return h('details', { class: 'schema-changes' },
    h('summary', { text: `What the sidecar changed in this database (${summary})` }),
    h('ul', { class: 'schema-list' }, changes.map((c) => h('li', {},
      h('span', { class: 'schema-change', text: c.change }), ' ',
      h('code', { text: c.object }), ' ',
      h('span', { class: 'muted small', text: formatDateTime(c.at) })))));
}

/**
 * The notice about CineVault's own workers, for CineVault's database only (null otherwise).
 * `only`: the workers to list (the Alerts tab shows the evaluator alone); `full` adds the
 * database's time zone and the sidecar's schema changes.
 */
export function workersNotice(status, { only = WORKERS.map(([k]) => k), title = 'CineVault’s own workers', full = true } = {}) {
  if (!isCinevault(status)) return null;
  const workers = status.cinevault_workers ?? {};
  const listed = WORKERS.filter(([key]) => only.includes(key));
  const detected = listed.filter(([key]) => workers[key]?.detected);
  const unseen = listed.filter(([key]) => !workers[key]?.detected);
  const headingId = uid('notice');
  let summary;
  if (!workers.checked_at) summary = 'Not looked for yet: the sidecar looks once a minute.';
  else if (!detected.length) summary = listed.length === 1 ? 'Not seen writing to the shared tables yet.' : 'None of them seen writing to the shared tables yet.';
  else if (unseen.length) summary = `Not seen yet: ${unseen.map(([, label]) => label.toLowerCase()).join(', ')}.`;
  return h('section', { class: 'notice panel-wide', 'aria-labelledby': headingId, 'data-notice': 'cinevault-workers' },
    h('span', { class: 'notice-icon', 'aria-hidden': 'true', text: 'i' }),
    h('div', { class: 'notice-body' },
      h('div', { class: 'notice-head' },
        h('h2', { id: headingId, text: title }),
        workers.checked_at
          ? h('span', { class: 'muted small', title: formatDateTime(workers.checked_at), text: `checked ${formatAgo(workers.checked_at)}` })
          : null),
      full
        ? h('p', { class: 'muted small', text: 'CineVault starts these itself, beside the sidecar and over the same tables; nothing switches them off.' })
        : null,
      detected.length
        ? h('ul', { class: 'workers' }, detected.map(([key, label]) => workerItem(key, label, workers[key], workers)))
        : null,
      summary ? h('p', { class: 'muted small', 'data-unseen': '', text: summary }) : null,
      full && status.database?.db_timezone
        ? h('p', { class: 'muted small' }, withFlags(`CineVault’s timestamps are read as ${status.database.db_timezone} (--db-timezone).`))
        : null,
      full ? schemaChanges(status) : null));
}

/** On CineVault's database, when both it and the sidecar send the rules' alerts. */
export function duplicateAlertsBanner(status) {
  const workers = status?.cinevault_workers;
  if (!isCinevault(status) || !workers?.duplicate_alerts) return null;
  const evaluator = workers.alert_evaluator ?? {};
  const seen = evaluator.last_seen ? ` (last seen ${formatAgo(evaluator.last_seen)})` : '';
  const el = banner('warning', [
    h('strong', { text: 'Each alert may arrive twice.' }), ' ',
    withFlags(`CineVault’s own alert evaluator${seen}: ${evaluator.note ?? 'it evaluates the same rules'}${/[.)]$/.test(evaluator.note ?? '') ? '' : '.'}`),
  ]);
  el.dataset.banner = 'duplicate-alerts';
  return el;
}

// ---- plays ---------------------------------------------------------------------------

/**
 * A play's time watched: "unknown" when CineVault recorded only its start; with how many of
 * CineVault's request rows it was grouped from when more than one.
 */
export function playDuration(p) {
  const unknown = p.duration_source === 'unknown';
  const grouped = p.request_rows > 1;
  const title = unknown
    ? 'CineVault recorded only when this play started, not how long it lasted.'
    : p.duration_source === 'requests'
      ? `The time covered by ${grouped ? `${formatNumber(p.request_rows)} of CineVault’s request rows, grouped into one play` : 'CineVault’s request row'}.`
      : null;
  return h('span', { class: 'play-duration', title },
    h('span', { class: unknown ? 'muted' : null, text: unknown ? 'unknown' : formatDuration(p.duration_seconds) }),
    grouped ? [' ', h('span', { class: 'play-requests', 'data-requests': String(p.request_rows), text: `${formatNumber(p.request_rows)} requests` })] : null);
}

/** What a play's completion was judged on, in a sentence (for its tooltip). */
export function completionBasis(e) {
  const of = e.runtime_seconds ? ` of ${formatDuration(e.runtime_seconds)}` : '';
  if (e.completion_source === 'watch_history') {
    return e.position_seconds === null || e.position_seconds === undefined
      ? 'Judged on CineVault’s watch history: the player’s “completed” flag.'
      : `Judged on CineVault’s watch history: the player’s position, ${formatDuration(e.position_seconds)}${of}.`;
  }
  if (!e.runtime_seconds) return 'Judged on the time watched; the item’s runtime is not known.';
  const watched = e.duration_source === 'unknown' ? 'not known' : formatDuration(e.duration_seconds);
  return `Judged on the time watched: ${watched}${of}.`;
}
