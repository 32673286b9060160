// Streams: what is playing now, what played recently, and how it was delivered.

import { isAbort } from '../api.js';
import { playDuration } from '../cinevault.js';
import { h } from '../dom.js';
import { ChartBox, palette } from '../charts.js';
import { formatBytes, formatDateTime, formatNumber, formatPercent, playbackLabel } from '../format.js';
import { Panel, badge, empty, segmented, table } from '../ui.js';

let breakdownDays = 30;

const TONE = { direct_play: 'ok', direct_stream: 'accent', transcode: 'warning' };

function playback(s) {
  return badge(playbackLabel(s.playback_type), TONE[s.playback_type] ?? 'neutral');
}

function quality(s) {
  return [s.quality ?? s.resolution, s.codec, s.container].filter(Boolean).join(' · ') || '–';
}

const ACTIVE = [
  { label: 'User', value: (s) => s.username },
  { label: 'Title', value: (s) => s.title, class: 'wrap' },
  { label: 'Type', value: playback },
  { label: 'Quality', value: quality },
  { label: 'Client', value: (s) => s.client_info ?? '–' },
  { label: 'Started', value: (s) => formatDateTime(s.started_at) },
  { label: 'Duration', value: playDuration, numeric: true },
  { label: 'Served', value: (s) => formatBytes(s.bytes_served), numeric: true },
];

const RECENT = [
  { label: 'User', value: (s) => s.username },
  { label: 'Title', value: (s) => s.title, class: 'wrap' },
  { label: 'Type', value: playback },
  { label: 'Quality', value: quality },
  { label: 'Started', value: (s) => formatDateTime(s.started_at) },
  { label: 'Ended', value: (s) => formatDateTime(s.ended_at) },
  { label: 'Duration', value: playDuration, numeric: true },
  { label: 'Served', value: (s) => formatBytes(s.bytes_served), numeric: true },
];

function typeColour(type, i) {
  const colours = palette();
  return ({ direct_play: colours[1], direct_stream: colours[0], transcode: colours[2] })[type] ?? colours[3 + (i % 3)];
}

function breakdownConfig(answer) {
  return {
    type: 'doughnut',
    data: {
      labels: answer.types.map((t) => playbackLabel(t.playback_type)),
      datasets: [{
        data: answer.types.map((t) => t.count),
        backgroundColor: answer.types.map((t, i) => typeColour(t.playback_type, i)),
        borderWidth: 0,
      }],
    },
    options: {
      cutout: '60%',
      plugins: { legend: { display: false } },
    },
  };
}

export default {
  id: 'streams',
  title: 'Streams',
  description: 'Sessions playing now and the latest finished ones.',
  live: true,
  mount(view) {
    const active = new Panel('Playing now', { className: 'panel-wide' });
    const breakdown = new Panel('Playback types', {
      className: 'panel-wide',
      note: 'Sessions started in the period, by how they were delivered.',
      actions: [segmented('Breakdown period', [[7, '7 d'], [30, '30 d'], [90, '90 d']], breakdownDays, (v) => {
        breakdownDays = Number(v);
        loadBreakdown();
      })],
    });
    const recent = new Panel('Recent streams', { className: 'panel-wide', note: 'The 50 latest finished sessions.' });
    const chart = view.track(new ChartBox('Sessions by playback type'));
    const legend = h('ul', { class: 'legend-list', 'aria-label': 'Sessions by playback type' });
    const breakdownBody = h('div', { class: 'breakdown' }, chart.el, legend);
    const sourceLine = h('p', { class: 'muted small', 'data-plays-source': 'cinevault' });
    view.root.append(h('div', { class: 'grid' }, active.el, breakdown.el, recent.el));

    const loadStreams = async () => {
      try {
        const answer = await view.api('/analytics/streams');
        active.show(
          h('p', { class: 'muted small', text: `${formatNumber(answer.active.length)} active` }),
          table(ACTIVE, answer.active, { caption: 'Active streams', testid: 'active-streams', emptyText: 'No streams right now.' }));
        recent.show(table(RECENT, answer.recent, { caption: 'Recent streams', testid: 'recent-streams', emptyText: 'No finished streams yet.' }));
      } catch (err) {
        if (isAbort(err) || !view.alive || err?.status === 401) return;
        active.fail('the active streams', err);
        recent.fail('the recent streams', err);
      }
    };

    const loadBreakdown = () => view.load(breakdown, 'the playback breakdown', async () => {
      const answer = await view.latest('breakdown', view.api('/analytics/streams/breakdown', { query: { days: breakdownDays } }));
      if (!answer.total) {
        chart.destroy();
        breakdown.show(empty(`No sessions in the last ${answer.days} days.`));
        return;
      }
      legend.replaceChildren(...answer.types.map((t, i) => h('li', {},
        h('span', { class: 'legend-swatch', style: { backgroundColor: typeColour(t.playback_type, i) } }),
        h('span', { class: 'legend-name', text: playbackLabel(t.playback_type) }),
        h('span', { class: 'bar-track' }, h('span', { class: 'bar-fill', style: { width: `${t.percent}%`, backgroundColor: typeColour(t.playback_type, i) } })),
        h('span', { class: 'num', text: `${formatNumber(t.count)} · ${formatPercent(t.percent)}` }))),
      h('li', { class: 'legend-total' }, h('span'), h('span', { class: 'legend-name', text: 'All sessions' }), h('span'),
        h('span', { class: 'num', text: formatNumber(answer.total) })));
      // On CineVault's database: how many of these plays the sidecar grouped from its rows.
      const fromCinevault = answer.plays_by_source?.cinevault ?? 0;
      sourceLine.textContent = `${formatNumber(fromCinevault)} of these ${formatNumber(answer.total)} sessions from CineVault’s request rows, grouped into plays by the sidecar.`;
      breakdown.show(breakdownBody, fromCinevault ? sourceLine : null);
      chart.render(breakdownConfig(answer));
    });

    loadStreams();
    loadBreakdown();
    return { refresh: () => Promise.all([loadStreams(), loadBreakdown()]) };
  },
};
