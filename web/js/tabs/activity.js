// Activity: who watched what, filtered by user, date range and media type, page by page;
// and each user's totals.

import { completionBasis, playDuration } from '../cinevault.js';
import { h } from '../dom.js';
import {
  MEDIA_TYPES, formatAgo, formatDateTime, formatMinutes, formatNumber, mediaTypeLabel, playbackLabel,
} from '../format.js';
import { isAbort } from '../api.js';
import { Panel, badge, field, setFieldError, table } from '../ui.js';

// Filters survive leaving the tab and coming back.
const filters = { user_id: '', from: '', to: '', media_type: '' };
const PAGE = 100;

const COMPLETION = {
  completed: ['Completed', 'ok'],
  in_progress: ['Watching', 'accent'],
  partial: ['Partial', 'warning'],
  unknown: ['Unknown', 'neutral'],
};

function completion(entry) {
  const [text, tone] = COMPLETION[entry.completion_status] ?? [entry.completion_status, 'neutral'];
  const percent = entry.completion_percent === null ? '' : ` ${Math.round(entry.completion_percent)} %`;
  // What it was judged on: a tooltip, and the same words for screen readers.
  const basis = completionBasis(entry);
  return h('span', { class: 'completion', title: basis, 'data-completion-source': entry.completion_source },
    badge(text, tone), h('span', { class: 'muted small', text: percent }),
    h('span', { class: 'visually-hidden', text: ` ${basis}` }));
}

const COLUMNS = [
  { label: 'User', value: (e) => e.username },
  { label: 'Title', value: (e) => h('span', { class: 'title-cell', text: e.title }), class: 'wrap' },
  { label: 'Type', value: (e) => mediaTypeLabel(e.media_type) },
  { label: 'Playback', value: (e) => playbackLabel(e.playback_type) },
  { label: 'Started', value: (e) => formatDateTime(e.started_at) },
  { label: 'Duration', value: playDuration, numeric: true },
  { label: 'Completion', value: completion },
];

const USER_COLUMNS = [
  { label: 'User', value: (u) => u.username },
  { label: 'Plays', value: (u) => formatNumber(u.total_plays), numeric: true },
  { label: 'Watch time', value: (u) => formatMinutes(u.watch_minutes), numeric: true },
  { label: 'Last active', value: (u) => formatAgo(u.last_active) },
  { label: 'Favourite genre', value: (u) => u.favorite_genre ?? '–' },
];

export default {
  id: 'activity',
  title: 'Activity',
  description: 'Who watched what, and how far they got.',
  live: false,
  mount(view) {
    const feed = new Panel('Watch history', { className: 'panel-wide' });
    const users = new Panel('Users', { className: 'panel-wide', note: 'All-time totals per user.' });

    const userSelect = h('select', { name: 'user_id' }, h('option', { value: '', text: 'All users' }));
    const from = h('input', { type: 'date', name: 'from', value: filters.from });
    const to = h('input', { type: 'date', name: 'to', value: filters.to });
    // CineVault's media types, the only names the API accepts.
    const mediaType = h('select', { name: 'media_type' },
      h('option', { value: '', text: 'Any' }),
      MEDIA_TYPES.map(([value, text]) => h('option', { value, text })));
    mediaType.value = filters.media_type;
    const fields = {
      user_id: field('User', userSelect),
      from: field('From', from),
      to: field('To', to),
      media_type: field('Media type', mediaType),
    };
    const form = h('form', { class: 'filters', 'aria-label': 'Filter the watch history', novalidate: true },
      Object.values(fields).map((f) => f.el),
      h('div', { class: 'filter-actions' },
        h('button', { type: 'submit', class: 'btn btn-primary', text: 'Apply' }),
        h('button', {
          type: 'button', class: 'btn btn-ghost', text: 'Reset',
          onclick: () => {
            Object.assign(filters, { user_id: '', from: '', to: '', media_type: '' });
            userSelect.value = '';
            from.value = '';
            to.value = '';
            mediaType.value = '';
            loadFeed();
          },
        })));
    const summary = h('p', { class: 'muted small', 'aria-live': 'polite' });
    const rowsHost = h('div');
    const more = h('div', { class: 'more' });
    view.root.append(h('div', { class: 'grid' }, h('section', { class: 'panel panel-wide filters-panel', 'aria-label': 'Filters' }, form), feed.el, users.el));

    let entries = [];
    let cursor = null;

    const renderRows = () => {
      rowsHost.replaceChildren(table(COLUMNS, entries, {
        caption: 'Watch history', testid: 'activity',
        emptyText: 'No plays match these filters.',
      }));
      summary.textContent = entries.length
        ? `Showing ${formatNumber(entries.length)} plays${cursor ? ' (more available)' : ''}, newest first.`
        : '';
      more.replaceChildren(cursor
        ? h('button', { type: 'button', class: 'btn', 'data-action': 'more', text: `Load ${PAGE} more`, onclick: loadMore })
        : '');
    };

    const query = () => ({ ...filters, limit: PAGE });

    const loadFeed = async () => {
      try {
        const answer = await view.latest('feed', view.api('/analytics/watch-activity', { query: query() }));
        entries = answer.entries;
        cursor = answer.next_cursor;
        renderRows();
        feed.show(summary, rowsHost, more);
      } catch (err) {
        if (isAbort(err) || !view.alive || err?.status === 401) return;
        feed.fail('the watch history', err);
        // The API names a refused filter in error.field: show it on that control too.
        if (err.field && fields[err.field]) setFieldError(fields[err.field], err.message);
      }
    };

    async function loadMore(event) {
      const button = event.currentTarget;
      button.disabled = true;
      button.textContent = 'Loading…';
      await view.load(feed, 'the next page', async () => {
        const answer = await view.latest('feed', view.api('/analytics/watch-activity', { query: { ...query(), cursor } }));
        entries = entries.concat(answer.entries);
        cursor = answer.next_cursor;
        renderRows();
        feed.ok();
      });
      button.disabled = false;
    }

    form.addEventListener('submit', (event) => {
      event.preventDefault();
      Object.values(fields).forEach((f) => setFieldError(f, null));
      if (from.value && to.value && from.value > to.value) {
        setFieldError(fields.from, '“From” must be on or before “To”.');
        from.focus();
        return;
      }
      Object.assign(filters, {
        user_id: userSelect.value, from: from.value, to: to.value, media_type: mediaType.value,
      });
      loadFeed();
    });

    view.load(users, 'the user summaries', async () => {
      const answer = await view.api('/analytics/users/activity');
      const list = answer.users;
      const byName = [...list].sort((a, b) => a.username.localeCompare(b.username));
      userSelect.append(...byName.map((u) => h('option', { value: u.user_id, text: u.username })));
      userSelect.value = filters.user_id;
      users.show(table(USER_COLUMNS, list, { caption: 'Users', testid: 'users', emptyText: 'No users yet.' }));
    });
    loadFeed();
  },
};
