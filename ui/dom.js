// dom.js — building the page without innerHTML: h() makes an element from
// a tag, attributes and children (strings become text nodes, so data from
// the server is never parsed as HTML), plus the formatting every page
// shares (numbers, rates, bytes, times) and a refresh loop that never
// overlaps itself and stops when its page is left.

export function h(tag, attrs, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (name === 'class') element.className = value;
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : String(child));
  }
}

// Replaces every child of element with children.
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

const integer = new Intl.NumberFormat('en', { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat('en', { maximumFractionDigits: 1 });

export function count(n) {
  return n === null || n === undefined ? '—' : integer.format(n);
}

export function rate(n) {
  if (n === null || n === undefined) return '—';
  return (n >= 100 ? integer : decimal).format(n) + '/s';
}

export function bytes(n) {
  if (n === null || n === undefined) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n, unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
  return (unit ? decimal.format(value) : integer.format(value)) + ' ' + units[unit];
}

export function duration(ms) {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 120) return `${decimal.format(s)} s`;
  if (s < 7200) return `${decimal.format(s / 60)} min`;
  if (s < 172800) return `${decimal.format(s / 3600)} h`;
  return `${decimal.format(s / 86400)} d`;
}

// An ISO-8601 time as the reader's local time, the UTC text in its title.
export function time(iso) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return h('span', {}, iso);
  return h('time', { datetime: iso, title: iso }, date.toLocaleString());
}

// A coloured label for a state (pipelines, runs, tries, alerts).
export function badge(state) {
  const text = state === null || state === undefined ? 'none' : String(state);
  return h('span', { class: `badge state-${text.replace(/[^a-z_]/gi, '')}` }, text.replace(/_/g, ' '));
}

// A table inside a box that scrolls sideways on a narrow screen.
export function table(caption, headings, rows, attrs) {
  return h('div', { class: 'table-wrap' },
    h('table', attrs || {},
      caption ? h('caption', {}, caption) : null,
      h('thead', {}, h('tr', {}, headings.map((heading) => h('th', { scope: 'col' }, heading)))),
      h('tbody', {}, rows)));
}

// Runs task() now and again interval ms after each run ends (never two at
// once; paused while the tab is hidden). The returned function stops it.
export function every(interval, task) {
  let timer = null, stopped = false;
  const run = async () => {
    timer = null;
    if (stopped) return;
    if (!document.hidden) {
      try { await task(); } catch (error) { reportError(error); }
    }
    if (!stopped) timer = setTimeout(run, interval);
  };
  run();
  return () => { stopped = true; if (timer) clearTimeout(timer); };
}

// Shows a message in the page's notice area (role=status): kind 'error' or 'ok'.
export function notify(message, kind = 'ok') {
  const notice = document.getElementById('notice');
  if (!notice) return;
  fill(notice, h('p', { class: `notice-${kind}`, role: kind === 'error' ? 'alert' : null }, message,
    h('button', { type: 'button', class: 'link', 'aria-label': 'Dismiss', onclick: () => fill(notice) }, '×')));
}

export function reportError(error) {
  if (error && error.status === 401) return;   // the login form is showing
  notify(error && error.message ? error.message : String(error), 'error');
}

// A query string's parameters as a plain object.
export function queryOf(search) {
  return Object.fromEntries(new URLSearchParams(search || ''));
}

// '#/path?query' from a path and parameters (empty ones left out).
export function hashOf(path, params) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params || {}))
    if (value !== undefined && value !== null && value !== '') query.set(name, value);
  const text = query.toString();
  return `#${path}${text ? `?${text}` : ''}`;
}

export function enc(segment) {
  return encodeURIComponent(segment);
}
