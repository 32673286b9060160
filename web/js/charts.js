// Chart.js (vendored UMD build, global `Chart`) with the page's colours: every chart reads
// the CSS custom properties of the current light or dark scheme when it is drawn.

const Chart = window.Chart;

function css(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** The series colours of the current scheme, in order. */
export function palette() {
  return [1, 2, 3, 4, 5, 6].map((i) => css(`--series-${i}`));
}

export function tone(name) {
  return css(`--${name}`);
}

/** Transparent version of a `#rrggbb` colour, for areas under lines. */
export function fade(hex, alpha = 0.15) {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) return hex;
  const [r, g, b] = m.slice(1).map((x) => parseInt(x, 16));
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

function applyDefaults() {
  Chart.defaults.color = css('--text-muted');
  Chart.defaults.borderColor = css('--grid');
  Chart.defaults.font.family = css('--font');
  Chart.defaults.font.size = 12;
  // Live charts are redrawn every 15 s: no animation, no jumping.
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.responsive = true;
  Chart.defaults.plugins.legend.labels.boxWidth = 12;
  Chart.defaults.plugins.legend.labels.boxHeight = 12;
  Chart.defaults.plugins.tooltip.backgroundColor = css('--tooltip-bg');
  Chart.defaults.plugins.tooltip.titleColor = css('--tooltip-text');
  Chart.defaults.plugins.tooltip.bodyColor = css('--tooltip-text');
  Chart.defaults.elements.line.borderWidth = 2;
  Chart.defaults.elements.point.radius = 0;
  Chart.defaults.elements.point.hoverRadius = 4;
}

/**
 * A canvas that keeps its chart across refreshes: `render(config)` creates the chart the
 * first time and afterwards swaps in the new data and options, so a refresh never flickers.
 * `label` describes the chart for screen readers.
 */
export class ChartBox {
  constructor(label, { className = 'chart' } = {}) {
    this.canvas = document.createElement('canvas');
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute('aria-label', label);
    this.el = document.createElement('div');
    this.el.className = className;
    this.el.append(this.canvas);
    this.chart = null;
  }

  render(config) {
    applyDefaults();
    if (this.chart && this.chart.config.type === config.type) {
      this.chart.data = config.data;
      this.chart.options = config.options ?? {};
      this.chart.update('none');
      return;
    }
    this.destroy();
    this.chart = new Chart(this.canvas, config);
  }

  destroy() {
    if (this.chart) this.chart.destroy();
    this.chart = null;
  }
}

/** Half-doughnut gauge options for a 0-100 value; green, amber from 70, red from 90. */
export function gaugeConfig(value, label) {
  const v = Math.max(0, Math.min(100, Number(value) || 0));
  const colour = v >= 90 ? tone('danger') : v >= 70 ? tone('warning') : tone('ok');
  return {
    type: 'doughnut',
    data: {
      labels: [label, 'Free'],
      datasets: [{
        data: [v, 100 - v],
        backgroundColor: [colour, tone('track')],
        borderWidth: 0,
      }],
    },
    options: {
      rotation: -90,
      circumference: 180,
      cutout: '72%',
      plugins: { legend: { display: false }, tooltip: { enabled: false } },
    },
  };
}
