// Overview: today's figures as stat cards, CPU/memory/disk gauges, and the daily trends; on
// CineVault's database, a notice about CineVault's own workers.

import { isAbort } from '../api.js';
import { workersNotice } from '../cinevault.js';
import { h } from '../dom.js';
import { ChartBox, fade, gaugeConfig, palette } from '../charts.js';
import {
  diskUsePercent, formatAgo, formatBytes, formatDay, formatGb, formatMinutes, formatNumber, formatPercent, isoDay,
} from '../format.js';
import { Panel, banner, empty, failure, segmented, statCard } from '../ui.js';

let trendDays = 30;

function cards(o) {
  return h('div', { class: 'stats' },
    statCard('Active streams', formatNumber(o.active_streams), { testid: 'active-streams', tone: 'accent', sub: `${formatNumber(o.active_transcodes)} transcoding now` }),
    statCard('Plays today', formatNumber(o.plays_today), { testid: 'plays-today', sub: `${formatMinutes(o.watch_minutes_today)} watched` }),
    statCard('Plays this week', formatNumber(o.plays_this_week), { testid: 'plays-week', sub: `since ${formatDay(o.week_start)}` }),
    statCard('Unique users today', formatNumber(o.unique_users_today), { testid: 'unique-users' }),
    statCard('Bandwidth today', formatBytes(o.bytes_served_today), { testid: 'bandwidth', sub: 'served to clients' }),
    statCard('Library', `${formatNumber(o.library_items)} items`, { testid: 'library', sub: formatBytes(o.library_bytes) }),
    statCard('Transcodes today', formatNumber(o.transcodes_today), { testid: 'transcodes', sub: 'sessions transcoded' }),
    statCard('Direct plays today', formatNumber(o.direct_plays_today), { testid: 'direct-plays', sub: `${formatNumber(o.direct_streams_today)} direct streams` }),
    statCard('Transcode failures today', formatNumber(o.transcode_failures_today), {
      testid: 'failures',
      tone: o.transcode_failures_today > 0 ? 'danger' : null,
      sub: o.transcode_failures_today > 0 ? 'see Transcodes' : 'none',
    }));
}

/** "29 of today's 54 plays from CineVault's request rows", when any are. */
function sourceLine(o) {
  const fromCinevault = o.plays_today_by_source?.cinevault ?? 0;
  if (!fromCinevault) return null;
  return h('p', {
    class: 'muted small', 'data-plays-source': 'cinevault',
    text: `${formatNumber(fromCinevault)} of today’s ${formatNumber(o.plays_today)} plays from CineVault’s request rows, grouped into plays by the sidecar.`,
  });
}

function gauge(box, title, value, detail) {
  return h('div', { class: 'gauge' },
    h('div', { class: 'gauge-chart' }, box.el,
      h('div', { class: 'gauge-value', text: formatPercent(value) })),
    h('div', { class: 'gauge-title', text: title }),
    h('div', { class: 'gauge-detail', text: detail }));
}

function trendsConfig(answer) {
  const rows = new Map(answer.days.map((d) => [d.stat_date, d]));
  const labels = [];
  const days = [];
  // Every day of the range, so a day without a row shows as a gap, not as a joined line.
  for (let d = new Date(`${answer.from}T00:00:00Z`); isoDay(d) <= answer.to; d.setUTCDate(d.getUTCDate() + 1)) {
    labels.push(formatDay(isoDay(d)));
    days.push(rows.get(isoDay(d)) ?? null);
  }
  const [c1, c2, c3] = palette();
  const series = (label, colour, pick, axis = 'y') => ({
    label, data: days.map((r) => (r ? pick(r) : null)), borderColor: colour,
    backgroundColor: fade(colour), pointRadius: 2, spanGaps: false, yAxisID: axis, tension: 0.25,
  });
  return {
    type: 'line',
    data: {
      labels,
      datasets: [
        series('Plays', c1, (r) => r.total_plays),
        series('Unique users', c2, (r) => r.unique_users),
        series('Watch hours', c3, (r) => Math.round(r.total_watch_minutes / 6) / 10, 'y2'),
      ],
    },
    options: {
      interaction: { mode: 'index', intersect: false },
      scales: {
        x: { ticks: { maxTicksLimit: 10, autoSkip: true } },
        y: { beginAtZero: true, title: { display: true, text: 'plays, users' } },
        y2: { beginAtZero: true, position: 'right', grid: { drawOnChartArea: false }, title: { display: true, text: 'hours' } },
      },
      plugins: { legend: { position: 'bottom' } },
    },
  };
}

export default {
  id: 'overview',
  title: 'Overview',
  description: 'Today at a glance: plays, bandwidth, transcodes and the server’s health.',
  live: true,
  mount(view) {
    const today = new Panel('Today', { className: 'panel-wide' });
    const health = new Panel('Server health', { className: 'panel-wide' });
    const trendsPanel = new Panel('Daily trends', {
      className: 'panel-wide',
      note: 'From the nightly rollup; today appears tomorrow.',
      actions: [segmented('Trend range', [[7, '7 days'], [30, '30 days'], [90, '90 days']], trendDays, (v) => {
        trendDays = Number(v);
        loadTrends();
      })],
    });
    const boxes = ['CPU', 'Memory', 'Disk'].map((n) => view.track(new ChartBox(`${n} usage gauge`, { className: 'chart chart-gauge' })));
    const trends = view.track(new ChartBox('Daily plays, unique users and watch hours', { className: 'chart chart-tall' }));
    // Filled on CineVault's database only; empty (and taking no room) on a standalone one.
    const notice = h('div', { class: 'notice-slot panel-wide' });
    view.root.append(h('div', { class: 'grid' }, notice, today.el, health.el, trendsPanel.el));

    const loadNotice = async () => {
      try {
        const status = await view.api('/status');
        notice.replaceChildren(workersNotice(status) ?? '');
      } catch (err) {
        if (isAbort(err) || !view.alive || err?.status === 401) return;
        // A failed refresh keeps the last notice; with none yet, the failure is shown.
        if (!notice.querySelector('[data-notice]')) notice.replaceChildren(banner('error', failure('the server status', err)));
      }
    };

    const loadOverview = () => view.load(today, 'the overview', async () => {
      const o = await view.api('/analytics/overview');
      today.show(cards(o), sourceLine(o));
      const diskPercent = diskUsePercent(o.disk_used_gb, o.disk_free_gb);
      if (!o.metrics_recorded_at) {
        health.show(empty('No system metrics yet: the collector writes its first reading within a minute.'));
        return;
      }
      health.show(
        h('div', { class: 'gauges' },
          gauge(boxes[0], 'CPU', o.cpu_percent, 'all cores'),
          gauge(boxes[1], 'Memory', o.memory_percent, `${formatBytes(o.memory_used_mb * 1048576)} used`),
          gauge(boxes[2], 'Disk', diskPercent, `${formatGb(o.disk_free_gb)} free · ${formatGb(o.disk_used_gb)} used`)),
        h('p', { class: 'muted small', text: `Reading from ${o.metrics_host}, ${formatAgo(o.metrics_recorded_at)}.` }));
      boxes[0].render(gaugeConfig(o.cpu_percent, 'CPU'));
      boxes[1].render(gaugeConfig(o.memory_percent, 'Memory'));
      boxes[2].render(gaugeConfig(diskPercent, 'Disk'));
    });

    const loadTrends = () => view.load(trendsPanel, 'the daily trends', async () => {
      // `to` defaults to the sidecar's today; `from` counts back from the browser's date.
      const from = new Date(Date.now() - (trendDays - 1) * 86400000);
      const answer = await view.latest('trends', view.api('/analytics/trends', { query: { from: isoDay(from) } }));
      if (!answer.days.length) {
        trends.destroy();
        trendsPanel.show(empty('No daily statistics yet: the rollup writes a day once it is over.'));
        return;
      }
      trendsPanel.show(trends.el);
      trends.render(trendsConfig(answer));
    });

    const refresh = async () => {
      await Promise.all([loadOverview(), loadNotice()]);
    };
    loadNotice();
    loadOverview();
    loadTrends();
    return { refresh };
  },
};
