// pipelines.js — the overview: every continuous pipeline with its state,
// records in and out per second, lag, dead letters, restarts and last
// error, its start/stop/restart buttons, and two charts per pipeline
// (throughput, lag) over the server's last 15 minutes
// (GET /api/v1/pipelines/{name}/history). Refreshed every 3 seconds; rows
// and charts are kept and updated in place, so keyboard focus stays put.

import { get, post } from './api.js';
import { LineChart } from './chart.js';
import { badge, bytes, count, enc, every, fill, h, notify, rate, reportError, time } from './dom.js';

const REFRESH_MS = 3000;
// The table's cells and their headings (a phone shows each row as a card, the heading beside each value).
const LABELS = { state: 'State', in: 'In', out: 'Out', lag: 'Lag', dead_letters: 'Dead letters', restarts: 'Restarts', last_error: 'Last error' };

// The rate the server gives, or one from the change since the last refresh.
function rateOf(pipeline, field, total, previous, now) {
  if (typeof pipeline[field] === 'number') return pipeline[field];
  if (!previous || typeof pipeline[total] !== 'number') return null;
  const seconds = (now - previous.at) / 1000;
  return seconds > 0 ? Math.max(0, (pipeline[total] - previous[total]) / seconds) : null;
}

function actionButtons(name, busy) {
  const run = async (action, button) => {
    for (const other of button.parentElement.querySelectorAll('button')) other.disabled = true;
    busy.add(name);
    try {
      const answer = await post(`/api/v1/pipelines/${enc(name)}/${action}`);
      notify(`${name}: ${answer.detail}`);
    } catch (error) {
      reportError(error);
    } finally {
      busy.delete(name);
      for (const other of button.parentElement.querySelectorAll('button')) other.disabled = false;
    }
  };
  return h('div', { class: 'actions' }, ['start', 'stop', 'restart'].map((action) =>
    h('button', { type: 'button', 'data-action': action, 'aria-label': `${action} ${name}`,
      onclick: (event) => run(action, event.currentTarget) }, action[0].toUpperCase() + action.slice(1))));
}

function partitionsTable(partitions) {
  if (!partitions || !partitions.length) return h('p', { class: 'muted' }, 'No topic partitions (not a topic or Kafka source).');
  return h('div', { class: 'table-wrap' }, h('table', {},
    h('thead', {}, h('tr', {}, ['Topic', 'Partition', 'Position', 'End offset', 'Lag'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, partitions.map((p) => h('tr', {},
      h('td', {}, h('a', { href: `#/topics/${enc(p.topic)}` }, p.topic)), h('td', { class: 'num' }, p.partition),
      h('td', { class: 'num' }, count(p.position)), h('td', { class: 'num' }, count(p.end_offset)),
      h('td', { class: 'num' }, count(p.lag)))))));
}

function restartsList(history) {
  if (!history || !history.length) return h('p', { class: 'muted' }, 'No restarts.');
  return h('ol', { class: 'restarts' }, history.map((r) => h('li', {}, time(r.at), ' ', r.reason)));
}

export function renderList(main) {
  const tbody = h('tbody');
  const empty = h('p', { class: 'muted', hidden: true }, 'This server runs no continuous pipeline.');
  const cards = h('div', { class: 'cards' });
  fill(main,
    h('h1', {}, 'Pipelines'),
    empty,
    h('div', { class: 'table-wrap' }, h('table', { id: 'pipelines' },
      h('thead', {}, h('tr', {}, ['Pipeline', 'State', 'In', 'Out', 'Lag', 'Dead letters', 'Restarts', 'Last error', 'Actions']
        .map((t) => h('th', { scope: 'col' }, t)))),
      tbody)),
    h('h2', {}, 'Throughput and lag, last 15 minutes'),
    cards);

  const shown = new Map();   // name → {row, cells, card, charts, previous}
  const busy = new Set();

  const build = (name) => {
    const cells = {};
    for (const [key, label] of Object.entries(LABELS))
      cells[key] = h('td', { 'data-field': key, 'data-label': label, class: ['in', 'out', 'lag', 'dead_letters', 'restarts'].includes(key) ? 'num' : null });
    cells.records_in = h('span', { 'data-field': 'records_in' });
    cells.in.append(h('span', { 'data-field': 'records_in_per_s' }), h('br'), h('small', { class: 'muted' }, cells.records_in, ' total'));
    cells.records_out = h('span', { 'data-field': 'records_out' });
    cells.out.append(h('span', { 'data-field': 'records_out_per_s' }), h('br'), h('small', { class: 'muted' }, cells.records_out, ' total'));
    const row = h('tr', { 'data-pipeline': name },
      h('th', { scope: 'row' }, name), cells.state, cells.in, cells.out, cells.lag, cells.dead_letters,
      cells.restarts, cells.last_error, h('td', { 'data-label': 'Actions' }, actionButtons(name, busy)));
    const throughput = new LineChart(`${name} records per second`, [
      { key: 'records_in_per_s', label: 'in/s' }, { key: 'records_out_per_s', label: 'out/s' },
      { key: 'dead_letters_per_s', label: 'dead letters/s' }]);
    throughput.canvas.dataset.chart = 'throughput';
    const lag = new LineChart(`${name} lag (records)`, [{ key: 'lag', label: 'lag' }]);
    lag.canvas.dataset.chart = 'lag';
    const details = h('div', { class: 'details-body' });
    const historyNote = h('p', { class: 'muted history-note' });
    const card = h('section', { class: 'card', 'data-pipeline': name, 'aria-label': `${name} charts` },
      h('h3', {}, name),
      h('div', { class: 'charts' }, throughput.canvas, lag.canvas),
      historyNote,
      h('details', {}, h('summary', {}, 'Partitions and restarts'), details));
    tbody.append(row);
    cards.append(card);
    const entry = { row, cells, card, charts: [throughput, lag], throughput, lag, details, historyNote, previous: null };
    shown.set(name, entry);
    return entry;
  };

  const refresh = async () => {
    const { pipelines } = await get('/api/v1/pipelines?limit=1000');
    const now = Date.now();
    empty.hidden = pipelines.length > 0;
    const names = new Set(pipelines.map((p) => p.name));
    for (const [name, entry] of shown) {
      if (names.has(name)) continue;
      entry.row.remove();
      entry.card.remove();
      entry.charts.forEach((c) => c.stop());
      shown.delete(name);
    }
    for (const p of pipelines) {
      const entry = shown.get(p.name) || build(p.name);
      const c = entry.cells;
      fill(c.state, badge(p.state), p.state === 'backoff' && p.next_start_at ? h('small', {}, ' until ', time(p.next_start_at)) : null,
        p.stopped_by ? h('small', { class: 'muted' }, ` by ${p.stopped_by}`) : null);
      c.in.querySelector('[data-field=records_in_per_s]').textContent =
        rate(rateOf(p, 'records_in_per_s', 'records_in', entry.previous, now));
      c.records_in.textContent = count(p.records_in);
      c.out.querySelector('[data-field=records_out_per_s]').textContent =
        rate(rateOf(p, 'records_out_per_s', 'records_out', entry.previous, now));
      c.records_out.textContent = count(p.records_out);
      c.lag.textContent = count(p.lag);
      c.dead_letters.textContent = count(p.dead_letters);
      c.restarts.textContent = count(p.restarts);
      fill(c.last_error, p.last_error ? h('span', { class: 'error-text' }, p.last_error) : h('span', { class: 'muted' }, 'none'));
      entry.previous = { at: now, records_in: p.records_in, records_out: p.records_out };
      if (!entry.details.contains(document.activeElement))
        fill(entry.details,
          h('p', {}, `Bytes in ${bytes(p.bytes_in)}`, p.bytes_out !== undefined ? `, out ${bytes(p.bytes_out)}` : '',
            `; filtered ${count(p.records_filtered)}`, p.errors !== undefined ? `; errors ${count(p.errors)}` : ''),
          partitionsTable(p.partitions), h('h4', {}, 'Restarts'), restartsList(p.restart_history));
    }
    await Promise.all(pipelines.map(async (p) => {
      const entry = shown.get(p.name);
      try {
        const history = await get(`/api/v1/pipelines/${enc(p.name)}/history`);
        entry.throughput.update(history.samples);
        entry.lag.update(history.samples);
        const n = history.samples.length;
        entry.historyNote.textContent = `${n} ${n === 1 ? 'sample' : 'samples'}, one every ${history.interval_s} s`;
      } catch (error) {
        entry.historyNote.textContent = `No history: ${error.message}`;
        if (error.status === 401) throw error;
      }
    }));
  };

  const stop = every(REFRESH_MS, refresh);
  return () => {
    stop();
    for (const entry of shown.values()) entry.charts.forEach((c) => c.stop());
  };
}
