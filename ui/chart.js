// chart.js — a line chart on <canvas>: time on x, one or more series on y
// from 0 to a rounded maximum, grid lines with labels, a legend. Drawn at
// the screen's pixel density and again when the canvas changes size. The
// canvas says what it shows for screen readers and tests (aria-label with
// the latest values, data-points with how many samples it drew).

const COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728'];

function niceMax(value) {
  if (!(value > 0)) return 1;
  const power = Math.pow(10, Math.floor(Math.log10(value)));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function shortNumber(value) {
  if (value >= 1e9) return `${+(value / 1e9).toFixed(1)}G`;
  if (value >= 1e6) return `${+(value / 1e6).toFixed(1)}M`;
  if (value >= 1e3) return `${+(value / 1e3).toFixed(1)}k`;
  return `${+value.toFixed(1)}`;
}

export class LineChart {
  // title: what the chart shows; series: [{key, label}] read from each sample.
  constructor(title, series) {
    this.title = title;
    this.series = series;
    this.samples = [];
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'chart';
    this.canvas.setAttribute('role', 'img');
    this.canvas.dataset.points = '0';
    this.canvas.setAttribute('aria-label', `${title}: no samples yet`);
    this.resizeObserver = new ResizeObserver(() => this.draw());
    this.resizeObserver.observe(this.canvas);
  }

  // samples: [{t: ISO time, key: number|null, ...}], oldest first.
  update(samples) {
    this.samples = samples || [];
    const last = this.samples[this.samples.length - 1];
    this.canvas.dataset.points = String(this.samples.length);
    this.canvas.setAttribute('aria-label', last
      ? `${this.title}: ${this.series.map((s) => `${s.label} ${last[s.key] ?? 'none'}`).join(', ')} at ${last.t}`
      : `${this.title}: no samples yet`);
    this.draw();
  }

  stop() {
    this.resizeObserver.disconnect();
  }

  draw() {
    const canvas = this.canvas;
    const width = canvas.clientWidth, height = canvas.clientHeight;
    if (!width || !height) return;
    const ratio = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
    }
    const g = canvas.getContext('2d');
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, width, height);
    const style = getComputedStyle(canvas);
    const ink = style.color || '#222';
    g.font = '11px system-ui, sans-serif';
    const left = 44, right = 8, top = 22, bottom = 20;
    const plotWidth = Math.max(10, width - left - right), plotHeight = Math.max(10, height - top - bottom);

    const times = this.samples.map((s) => Date.parse(s.t));
    let maxValue = 0;
    for (const sample of this.samples)
      for (const s of this.series) if (typeof sample[s.key] === 'number') maxValue = Math.max(maxValue, sample[s.key]);
    const yMax = niceMax(maxValue);
    const tEnd = times.length ? times[times.length - 1] : Date.now();
    const tStart = Math.min(times.length ? times[0] : tEnd, tEnd - 60 * 1000);
    const x = (t) => left + ((t - tStart) / Math.max(1, tEnd - tStart)) * plotWidth;
    const y = (v) => top + plotHeight - (v / yMax) * plotHeight;

    // grid and labels
    g.strokeStyle = 'rgba(128,128,128,0.3)';
    g.fillStyle = ink;
    g.lineWidth = 1;
    g.textAlign = 'right';
    g.textBaseline = 'middle';
    for (let i = 0; i <= 4; i++) {
      const value = (yMax * i) / 4;
      g.beginPath();
      g.moveTo(left, Math.round(y(value)) + 0.5);
      g.lineTo(left + plotWidth, Math.round(y(value)) + 0.5);
      g.stroke();
      g.fillText(shortNumber(value), left - 4, y(value));
    }
    g.textAlign = 'center';
    g.textBaseline = 'top';
    const spanMinutes = (tEnd - tStart) / 60000;
    g.fillText(`−${spanMinutes >= 1 ? Math.round(spanMinutes) + ' min' : Math.round(spanMinutes * 60) + ' s'}`,
      left + 16, top + plotHeight + 4);
    g.fillText('now', left + plotWidth - 12, top + plotHeight + 4);

    // legend
    g.textAlign = 'left';
    g.textBaseline = 'middle';
    let legendX = left;
    this.series.forEach((s, i) => {
      g.fillStyle = COLOURS[i % COLOURS.length];
      g.fillRect(legendX, 7, 10, 10);
      g.fillStyle = ink;
      g.fillText(s.label, legendX + 14, 12);
      legendX += g.measureText(s.label).width + 30;
    });

    // lines (a gap where a sample has no value)
    this.series.forEach((s, i) => {
      g.strokeStyle = COLOURS[i % COLOURS.length];
      g.lineWidth = 2;
      g.beginPath();
      let drawing = false;
      this.samples.forEach((sample, j) => {
        const value = sample[s.key];
        if (typeof value !== 'number') { drawing = false; return; }
        if (drawing) g.lineTo(x(times[j]), y(value));
        else g.moveTo(x(times[j]), y(value));
        drawing = true;
      });
      g.stroke();
      if (this.samples.length === 1 && typeof this.samples[0][s.key] === 'number') {
        g.fillStyle = COLOURS[i % COLOURS.length];
        g.beginPath();
        g.arc(x(times[0]), y(this.samples[0][s.key]), 3, 0, 2 * Math.PI);
        g.fill();
      }
    });
  }
}
