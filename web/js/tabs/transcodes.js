// Transcodes: how many, how many failed, how much the hardware did, which codecs, and the
// latest ones with their outcome.

import { h } from '../dom.js';
import { ChartBox, palette } from '../charts.js';
import { formatBytes, formatDateTime, formatDuration, formatNumber, formatPercent } from '../format.js';
import { Panel, badge, empty, segmented, statCard, table } from '../ui.js';

let days = 30;

const STATUS = {
  succeeded: ['✓ Succeeded', 'ok'],
  failed: ['✗ Failed', 'danger'],
  in_progress: ['● Running', 'accent'],
};

function outcome(t) {
  const [text, tone] = STATUS[t.status] ?? [t.status, 'neutral'];
  return h('span', { class: 'outcome' }, badge(text, tone),
    t.error_message ? h('span', { class: 'error-detail', text: t.error_message }) : null);
}

const RECENT = [
  { label: 'Started', value: (t) => formatDateTime(t.started_at) },
  { label: 'User', value: (t) => t.username ?? '–' },
  { label: 'Title', value: (t) => t.title ?? '–', class: 'wrap' },
  { label: 'Codec', value: (t) => `${t.input_codec ?? '?'} → ${t.output_codec ?? '?'}` },
  { label: 'Resolution', value: (t) => `${t.input_resolution ?? '?'} → ${t.output_resolution ?? '?'}` },
  { label: 'Hardware', value: (t) => t.hw_accel ?? 'software' },
  { label: 'Took', value: (t) => formatDuration(t.duration_seconds), numeric: true },
  { label: 'Size', value: (t) => formatBytes(t.file_size_bytes), numeric: true },
  { label: 'Result', value: outcome, class: 'wrap' },
];

/** Labelled bars, each a share of `total`. */
function bars(title, items, total) {
  return h('div', { class: 'dist' }, h('h4', { text: title }),
    h('ul', { class: 'bars' }, items.map((a) => h('li', { class: a.tone ? `bars-${a.tone}` : null },
      h('span', { class: 'bar-label', text: a.name }),
      h('span', { class: 'bar-track' }, h('span', { class: 'bar-fill', style: { width: `${(a.count / total) * 100}%` } })),
      h('span', { class: 'bar-value num', text: formatNumber(a.count) })))));
}

function codecConfig(answer) {
  const top = answer.codec_distribution.slice(0, 12);
  const [c1] = palette();
  return {
    type: 'bar',
    data: {
      labels: top.map((c) => c.name),
      datasets: [{ label: 'Transcodes', data: top.map((c) => c.count), backgroundColor: c1, borderRadius: 4 }],
    },
    options: {
      indexAxis: 'y',
      plugins: { legend: { display: false } },
      scales: { x: { beginAtZero: true, ticks: { precision: 0 } }, y: { grid: { display: false } } },
    },
  };
}

export default {
  id: 'transcodes',
  title: 'Transcodes',
  description: 'Transcoding work, its success rate and the codecs involved.',
  live: false,
  mount(view) {
    const period = segmented('Period', [[1, 'Today'], [7, '7 days'], [30, '30 days'], [90, '90 days']], days, (v) => {
      days = Number(v);
      load();
    });
    const stats = new Panel('Summary', { className: 'panel-wide', actions: [period] });
    const codecs = new Panel('Codec distribution', { note: 'input → output, most frequent first' });
    const accel = new Panel('Hardware acceleration', { note: 'Which engine did the work, and how it ended.' });
    const recent = new Panel('Recent transcodes', { className: 'panel-wide', note: 'The 50 latest of the period.' });
    const chart = view.track(new ChartBox('Transcodes per codec pair', { className: 'chart chart-tall' }));
    view.root.append(h('div', { class: 'grid' }, stats.el, codecs.el, accel.el, recent.el));

    const load = () => view.load(stats, 'the transcode statistics', async () => {
      const t = await view.latest('transcodes', view.api('/analytics/transcodes', { query: { days } }));
      stats.show(h('div', { class: 'stats' },
        statCard('Transcodes', formatNumber(t.total), { testid: 'total', sub: `${formatNumber(t.in_progress)} running` }),
        statCard('Success rate', formatPercent(t.success_rate_percent), {
          testid: 'success-rate',
          tone: t.failed > 0 && t.success_rate_percent < 90 ? 'warning' : null,
          sub: `${formatNumber(t.succeeded)} succeeded`,
        }),
        statCard('Failed', formatNumber(t.failed), {
          testid: 'failed', tone: t.failed > 0 ? 'danger' : null, sub: t.failed > 0 ? `${formatPercent(100 - t.success_rate_percent)} of finished` : 'none',
        }),
        statCard('Hardware accelerated', formatPercent(t.hw_accel_percent), { testid: 'hw-accel', sub: `${formatNumber(t.hw_accel_count)} transcodes` })));

      if (t.codec_distribution.length) {
        codecs.show(chart.el);
        chart.render(codecConfig(t));
      } else {
        chart.destroy();
        codecs.show(empty('No transcodes in this period.'));
      }
      const software = t.total - t.hw_accel_count;
      const engines = [...t.by_accelerator, { name: 'software', count: software }].filter((a) => a.count > 0);
      const outcomes = [
        { name: 'Succeeded', count: t.succeeded, tone: 'ok' },
        { name: 'Failed', count: t.failed, tone: 'danger' },
        { name: 'Running', count: t.in_progress, tone: 'accent' },
      ];
      accel.show(t.total
        ? [bars('Engine', engines, t.total), bars('Outcome', outcomes, t.total)]
        : empty('No transcodes in this period.'));
      recent.show(table(RECENT, t.recent, { caption: 'Recent transcodes', testid: 'transcodes', emptyText: 'No transcodes in this period.' }));
    }).then(() => {
      if (!recent.loaded) {
        for (const p of [codecs, accel, recent]) p.show(empty('Not available.'));
      }
    });

    load();
  },
};
