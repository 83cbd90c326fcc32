// alerts.js — the alert rules and their states (inactive, pending,
// firing), since when, the value that decided it, its labels and summary,
// and how its last notification went. Refreshed every 5 seconds.

import { get } from './api.js';
import { badge, every, fill, h, time } from './dom.js';

const REFRESH_MS = 5000;

function labels(map) {
  const entries = Object.entries(map || {});
  if (!entries.length) return h('span', { class: 'muted' }, 'none');
  return h('ul', { class: 'labels' }, entries.map(([k, v]) => h('li', {}, h('code', {}, `${k}=${v}`))));
}

function notification(last) {
  if (!last) return h('span', { class: 'muted' }, 'none');
  return [time(last.at), ' ', String(last.status), last.attempts > 1 ? ` after ${last.attempts} attempts` : ''];
}

export function renderList(main) {
  const tbody = h('tbody');
  const status = h('p', { class: 'muted' });
  fill(main, h('h1', {}, 'Alerts'), status,
    h('div', { class: 'table-wrap' }, h('table', { id: 'alerts' },
      h('thead', {}, h('tr', {}, ['Alert', 'State', 'Since', 'Value', 'Labels', 'Summary', 'Last notification'].map((t) => h('th', { scope: 'col' }, t)))),
      tbody)));
  return every(REFRESH_MS, async () => {
    const { alerts } = await get('/api/v1/alerts');
    const firing = alerts.filter((a) => a.state === 'firing').length;
    status.textContent = alerts.length ? `${alerts.length} alerts, ${firing} firing.` : 'No alert rules (the alerts: setting).';
    fill(tbody, alerts.map((a) => h('tr', { 'data-alert': a.name, 'data-state': a.state },
      h('th', { scope: 'row' }, a.name), h('td', {}, badge(a.state)), h('td', {}, time(a.since)),
      h('td', { class: 'num' }, a.value === null || a.value === undefined ? '—' : String(a.value)),
      h('td', {}, labels(a.labels)), h('td', {}, a.summary || ''), h('td', {}, notification(a.last_notification)))));
  });
}
