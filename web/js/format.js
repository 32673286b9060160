// Number, size, duration and time formatting. Sizes are decimal (1 GB = 10^9 bytes), as the
// API's `_gb` figures are.

let timeZone;
/** Times are shown in the sidecar's zone, the one that defines its "today". */
export function setTimeZone(zone) {
  try {
    new Intl.DateTimeFormat(undefined, { timeZone: zone });
    timeZone = zone;
  } catch {
    timeZone = undefined;
  }
}

const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

export function formatNumber(n) {
  return n === null || n === undefined ? '–' : integer.format(n);
}

export function formatDecimal(n) {
  return n === null || n === undefined ? '–' : oneDecimal.format(n);
}

export function formatPercent(n) {
  return n === null || n === undefined ? '–' : `${oneDecimal.format(n)} %`;
}

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
export function formatBytes(bytes) {
  if (bytes === null || bytes === undefined) return '–';
  let value = Number(bytes);
  let unit = 0;
  while (Math.abs(value) >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/** Decimal gigabytes, as the API gives disk figures. */
export function formatGb(gb) {
  return gb === null || gb === undefined ? '–' : formatBytes(gb * 1e9);
}

export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined) return '–';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  return hours % 24 ? `${Math.floor(hours / 24)} d ${hours % 24} h` : `${Math.floor(hours / 24)} d`;
}

/** Watch time: minutes and hours, then whole hours (how much, not how long ago). */
export function formatMinutes(minutes) {
  if (minutes === null || minutes === undefined) return '–';
  if (minutes < 600) return formatDuration(minutes * 60);
  return `${integer.format(Math.round(minutes / 60))} h`;
}

export function formatDateTime(iso) {
  if (!iso) return '–';
  return new Intl.DateTimeFormat(undefined, {
    timeZone, month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit',
  }).format(new Date(iso));
}

export function formatTime(ms, withDay = false) {
  const options = { timeZone, hour: '2-digit', minute: '2-digit' };
  if (withDay) Object.assign(options, { weekday: 'short' });
  return new Intl.DateTimeFormat(undefined, options).format(new Date(ms));
}

export function formatClock(date = new Date()) {
  return new Intl.DateTimeFormat(undefined, {
    timeZone, hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).format(date);
}

/** A `YYYY-MM-DD` local date as "Mar 29" (the date itself, no zone shift). */
export function formatDay(day) {
  const [y, m, d] = day.split('-').map(Number);
  return new Intl.DateTimeFormat(undefined, { timeZone: 'UTC', month: 'short', day: 'numeric' })
    .format(new Date(Date.UTC(y, m - 1, d)));
}

export function formatAgo(iso, now = Date.now()) {
  if (!iso) return 'never';
  const seconds = Math.round((now - new Date(iso).getTime()) / 1000);
  if (seconds < 0) return 'just now';
  if (seconds < 90) return `${seconds} s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} days ago`;
}

const PLAYBACK = { direct_play: 'Direct play', direct_stream: 'Direct stream', transcode: 'Transcode' };
export function playbackLabel(type) {
  return PLAYBACK[type] ?? type ?? '–';
}

/** CineVault's media types (its `media_type` enum), in its order, with their labels. */
export const MEDIA_TYPES = [
  ['movies', 'Movies'],
  ['tv_shows', 'TV shows'],
  ['adult_movies', 'Adult movies'],
  ['music', 'Music'],
  ['music_videos', 'Music videos'],
  ['home_videos', 'Home videos'],
  ['other_videos', 'Other videos'],
  ['images', 'Images'],
  ['audiobooks', 'Audiobooks'],
];
const MEDIA_TYPE_LABELS = new Map(MEDIA_TYPES);
/** "tv_shows" as "TV shows"; a value CineVault may add later as itself, made readable. */
export function mediaTypeLabel(type) {
  if (type === null || type === undefined || type === '') return '–';
  return MEDIA_TYPE_LABELS.get(type) ?? String(type).replace(/_/g, ' ');
}

/** `YYYY-MM-DD` of a Date in UTC. */
export function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

/**
 * How full a disk is, as `df` shows it: used / (used + free), where free is what unprivileged
 * users may still write. Blocks reserved for root count as neither, so this is the figure
 * that reaches 100 % when writes start failing.
 */
export function diskUsePercent(usedGb, freeGb) {
  const usable = (usedGb ?? 0) + (freeGb ?? 0);
  return usable > 0 ? ((usedGb ?? 0) / usable) * 100 : 0;
}
