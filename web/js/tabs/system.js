// System: each host's latest reading (CPU, memory, GPU when there is one, disk) and the
// history of the last hour, 6 hours, day or week.

import { h } from '../dom.js';
import { ChartBox, fade, palette } from '../charts.js';
import { diskUsePercent, formatAgo, formatBytes, formatDecimal, formatGb, formatNumber, formatPercent, formatTime } from '../format.js';
import { Panel, empty, meter, segmented } from '../ui.js';

let hours = 24;

function hostCard(m) {
  const diskPercent = diskUsePercent(m.disk_used_gb, m.disk_free_gb);
  const hasGpu = m.gpu_encoder_percent !== null || m.gpu_temp_celsius !== null;
  return h('article', { class: 'host', 'data-host': m.host },
    h('header', { class: 'host-head' },
      h('h3', { text: m.host }),
      h('span', { class: 'muted small', text: `reading ${formatAgo(m.recorded_at)}` })),
    h('div', { class: 'host-figures' },
      h('div', { class: 'figure' }, h('span', { class: 'figure-value', text: formatNumber(m.active_streams) }), h('span', { class: 'figure-label', text: 'streams' })),
      h('div', { class: 'figure' }, h('span', { class: 'figure-value', text: formatNumber(m.active_transcodes) }), h('span', { class: 'figure-label', text: 'transcodes' })),
      hasGpu && m.gpu_temp_celsius !== null
        ? h('div', { class: `figure${m.gpu_temp_celsius >= 80 ? ' figure-danger' : ''}` }, h('span', { class: 'figure-value', text: `${formatDecimal(m.gpu_temp_celsius)} °C` }), h('span', { class: 'figure-label', text: 'GPU temp' }))
        : null),
    h('div', { class: 'host-meters' },
    meter('CPU', m.cpu_percent, formatPercent(m.cpu_percent)),
    meter('Memory', m.memory_percent, `${formatPercent(m.memory_percent)} · ${formatBytes(m.memory_used_mb * 1048576)}`),
    hasGpu ? meter('GPU encoder', m.gpu_encoder_percent, formatPercent(m.gpu_encoder_percent)) : null,
    hasGpu ? meter('GPU memory', m.gpu_memory_percent, formatPercent(m.gpu_memory_percent)) : null,
    meter('Disk', diskPercent, `${formatGb(m.disk_used_gb)} used · ${formatGb(m.disk_free_gb)} free · ${formatGb(m.disk_total_gb)} in all`)),
    hasGpu ? null : h('p', { class: 'muted small', text: 'No NVIDIA GPU reported.' }));
}

/** A line chart of one reading for every host, on a time axis. */
function historyConfig(answer, pick, { unit, max = null, series = null }) {
  const colours = palette();
  const withDay = answer.hours > 24;
  const lines = series ?? answer.hosts.map((host, i) => ({ label: host.host, pick, host, colour: colours[i % colours.length] }));
  return {
    type: 'line',
    data: {
      datasets: lines.map((line) => ({
        label: line.label,
        data: line.host.points
          .map((p) => ({ x: Date.parse(p.recorded_at), y: line.pick(p) }))
          .filter((p) => p.y !== null && p.y !== undefined),
        borderColor: line.colour,
        backgroundColor: fade(line.colour, 0.12),
        fill: lines.length === 1,
        tension: 0.2,
        // Buckets without readings are absent: a longer pause shows as a gap.
        spanGaps: answer.bucket_seconds * 1000 * 3,
      })),
    },
    options: {
      parsing: false,
      normalized: true,
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      scales: {
        x: {
          type: 'linear',
          min: Date.parse(answer.from),
          max: Date.parse(answer.to),
          ticks: { maxTicksLimit: 8, callback: (v) => formatTime(v, withDay) },
        },
        y: { beginAtZero: true, max, title: { display: Boolean(unit), text: unit } },
      },
      plugins: {
        legend: { display: lines.length > 1, position: 'bottom' },
        tooltip: { callbacks: { title: (items) => (items.length ? formatTime(items[0].parsed.x, true) : '') } },
      },
    },
  };
}

export default {
  id: 'system',
  title: 'System',
  description: 'Live host readings from the collector, and their history.',
  live: true,
  mount(view) {
    const live = new Panel('Now', { className: 'panel-wide' });
    const range = segmented('History range', [[1, '1 h'], [6, '6 h'], [24, '24 h'], [168, '7 d']], hours, (v) => {
      hours = Number(v);
      loadHistory();
    });
    const history = new Panel('History', { className: 'panel-wide', actions: [range] });
    const charts = {
      cpu: view.track(new ChartBox('CPU usage over time')),
      memory: view.track(new ChartBox('Memory usage over time')),
      gpu: view.track(new ChartBox('GPU encoder, memory and temperature over time')),
      load: view.track(new ChartBox('Active streams and transcodes over time')),
    };
    const chartCard = (title, box) => h('figure', { class: 'chart-card' }, h('figcaption', { text: title }), box.el);
    const gpuCard = chartCard('GPU', charts.gpu);
    const grid = h('div', { class: 'chart-grid' },
      chartCard('CPU %', charts.cpu), chartCard('Memory %', charts.memory), gpuCard,
      chartCard('Streams and transcodes', charts.load));
    view.root.append(h('div', { class: 'grid' }, live.el, history.el));

    const loadLive = () => view.load(live, 'the live readings', async () => {
      const answer = await view.api('/analytics/system');
      live.show(answer.hosts.length
        ? h('div', { class: 'hosts' }, answer.hosts.map(hostCard))
        : empty('No readings yet: the collector writes its first one within a minute.'));
    });

    const loadHistory = () => view.load(history, 'the metrics history', async () => {
      const answer = await view.latest('history', view.api('/analytics/system/history', { query: { hours } }));
      const points = answer.hosts.reduce((n, host) => n + host.points.length, 0);
      if (!points) {
        Object.values(charts).forEach((c) => c.destroy());
        history.show(empty(`No readings in the last ${hours} hours.`));
        return;
      }
      const colours = palette();
      const gpuHosts = answer.hosts.filter((host) => host.points.some((p) => p.gpu_encoder_percent !== null));
      const single = answer.hosts.length === 1 ? answer.hosts[0] : null;
      gpuCard.hidden = !gpuHosts.length;
      history.show(grid);
      charts.cpu.render(historyConfig(answer, (p) => p.cpu_percent, { unit: '%', max: 100 }));
      charts.memory.render(historyConfig(answer, (p) => p.memory_percent, { unit: '%', max: 100 }));
      if (gpuHosts.length) {
        const host = gpuHosts[0];
        const prefix = gpuHosts.length > 1 || !single ? `${host.host} ` : '';
        charts.gpu.render(historyConfig(answer, null, {
          unit: '% / °C',
          series: [
            { label: `${prefix}encoder %`, pick: (p) => p.gpu_encoder_percent, host, colour: colours[3] },
            { label: `${prefix}memory %`, pick: (p) => p.gpu_memory_percent, host, colour: colours[5] },
            { label: `${prefix}temperature °C`, pick: (p) => p.gpu_temp_celsius, host, colour: colours[4] },
          ],
        }));
      } else {
        charts.gpu.destroy();
      }
      const loadSeries = answer.hosts.flatMap((host, i) => [
        { label: `${answer.hosts.length > 1 ? `${host.host} ` : ''}streams`, pick: (p) => p.active_streams, host, colour: colours[(2 * i) % 6] },
        { label: `${answer.hosts.length > 1 ? `${host.host} ` : ''}transcodes`, pick: (p) => p.active_transcodes, host, colour: colours[(2 * i + 2) % 6] },
      ]);
      charts.load.render(historyConfig(answer, null, { unit: '', series: loadSeries }));
    });

    loadLive();
    loadHistory();
    return { refresh: () => Promise.all([loadLive(), loadHistory()]) };
  },
};
