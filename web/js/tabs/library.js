// Library Health: per library, how complete its metadata is and what its files are made of.

import { h } from '../dom.js';
import { formatBytes, formatNumber, formatPercent, mediaTypeLabel } from '../format.js';
import { Panel, empty, meter, statCard } from '../ui.js';

function distribution(title, items, total) {
  if (!items.length) return null;
  const top = items.slice(0, 6);
  const rest = items.slice(6).reduce((n, i) => n + i.count, 0);
  if (rest) top.push({ name: `${items.length - 6} more`, count: rest });
  return h('div', { class: 'dist' },
    h('h4', { text: title }),
    h('ul', { class: 'bars' }, top.map((i) => h('li', {},
      h('span', { class: 'bar-label', text: i.name }),
      h('span', { class: 'bar-track' }, h('span', { class: 'bar-fill', style: { width: `${total ? (i.count / total) * 100 : 0}%` } })),
      h('span', { class: 'bar-value num', text: formatNumber(i.count) })))));
}

function share(count, total) {
  return formatPercent(total ? (count / total) * 100 : 0);
}

function missing(label, count) {
  return h('li', { class: count > 0 ? 'missing-some' : 'missing-none' },
    h('span', { text: label }), h('span', { class: 'num', text: formatNumber(count) }));
}

function libraryCard(lib, storage) {
  const name = lib.name ?? 'Not in a library';
  const tone = lib.metadata_completeness_percent >= 90 ? 'ok' : lib.metadata_completeness_percent >= 70 ? 'warning' : 'danger';
  return h('article', { class: 'library', 'data-library': name },
    h('header', { class: 'library-head' },
      h('div', {}, h('h3', { text: name }), h('span', { class: 'muted small', text: lib.library_type ? mediaTypeLabel(lib.library_type) : 'items without a library' })),
      h('div', { class: 'library-size' },
        h('span', { class: 'library-count', text: `${formatNumber(lib.total_items)} items` }),
        h('span', { class: 'muted small', text: formatBytes(storage?.total_bytes ?? null) }))),
    lib.total_items === 0
      ? empty('This library is empty.')
      : [
        meter('Metadata complete', lib.metadata_completeness_percent,
          `${formatPercent(lib.metadata_completeness_percent)} · ${formatNumber(lib.complete_items)} of ${formatNumber(lib.total_items)}`, { tone }),
        h('div', { class: 'library-grid' },
          h('div', { class: 'dist' }, h('h4', { text: 'Missing' }), h('ul', { class: 'missing' },
            missing('Overview', lib.missing_overview),
            missing('Poster', lib.missing_poster),
            missing('Year', lib.missing_year),
            missing('Genres', lib.missing_genres))),
          h('div', { class: 'dist' }, h('h4', { text: 'Premium formats' }), h('div', { class: 'mini-stats' },
            statCard('HDR', formatNumber(lib.hdr_count), { sub: `${share(lib.hdr_count, lib.total_items)} of items` }),
            statCard('Dolby Atmos', formatNumber(lib.atmos_count), { sub: `${share(lib.atmos_count, lib.total_items)} of items` }))),
          distribution('Resolution', lib.resolutions, lib.total_items),
          distribution('HDR format', lib.hdr_formats, lib.total_items),
          distribution('Video codec', lib.video_codecs, lib.total_items),
          distribution('Audio codec', lib.audio_codecs, lib.total_items)),
      ]);
}

export default {
  id: 'library',
  title: 'Library Health',
  description: 'Metadata completeness and the make-up of every library.',
  live: false,
  mount(view) {
    const panel = new Panel('Libraries', { className: 'panel-wide panel-plain' });
    view.root.append(h('div', { class: 'grid' }, panel.el));
    view.load(panel, 'the library health report', async () => {
      const [health, storage] = await Promise.all([
        view.api('/analytics/library-health'),
        view.api('/analytics/storage'),
      ]);
      const sizes = new Map(storage.libraries.map((l) => [l.library_id, l]));
      panel.show(health.libraries.length
        ? [
          h('p', { class: 'muted small', text: `${formatNumber(storage.total_items)} items, ${formatBytes(storage.total_bytes)} in all.` }),
          h('div', { class: 'libraries' }, health.libraries.map((lib) => libraryCard(lib, sizes.get(lib.library_id)))),
        ]
        : empty('No libraries yet.'));
    });
  },
};
