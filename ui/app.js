// app.js — the single-page app's router. The part of the address after #
// names the page (#/topics/user_data?partition=0); each route is a row of
// ROUTES: a pattern whose :names capture one segment, and the page's
// render(main, params, query), which may return a function that stops what
// the page started (its refresh loops) when another page is shown.

import { onLogin } from './api.js';
import { fill, h, notify, queryOf, reportError } from './dom.js';
import * as alerts from './alerts.js';
import * as dags from './dags.js';
import * as deadLetters from './dead_letters.js';
import * as groups from './groups.js';
import * as pipelines from './pipelines.js';
import * as topics from './topics.js';

const ROUTES = [
  { pattern: '/', section: 'pipelines', title: 'Pipelines', render: pipelines.renderList },
  { pattern: '/topics', section: 'topics', title: 'Topics', render: topics.renderList },
  { pattern: '/topics/:topic', section: 'topics', title: 'Topic', render: topics.renderTopic },
  { pattern: '/groups', section: 'groups', title: 'Consumer groups', render: groups.renderList },
  { pattern: '/groups/:group', section: 'groups', title: 'Consumer group', render: groups.renderGroup },
  { pattern: '/dead-letters', section: 'dead-letters', title: 'Dead letters', render: deadLetters.renderList },
  { pattern: '/dead-letters/:topic', section: 'dead-letters', title: 'Dead letters', render: deadLetters.renderTopic },
  { pattern: '/dags', section: 'dags', title: 'DAGs', render: dags.renderList },
  { pattern: '/dags/:dag', section: 'dags', title: 'DAG', render: dags.renderDag },
  { pattern: '/dags/:dag/runs/:run/tasks/:task/log', section: 'dags', title: 'Task log', render: dags.renderLog },
  { pattern: '/alerts', section: 'alerts', title: 'Alerts', render: alerts.renderList },
];

function match(pattern, path) {
  const want = pattern.split('/'), got = path.split('/');
  if (want.length !== got.length) return null;
  const params = {};
  for (let i = 0; i < want.length; i++) {
    if (want[i].startsWith(':')) {
      if (!got[i]) return null;
      try { params[want[i].slice(1)] = decodeURIComponent(got[i]); } catch { return null; }
    } else if (want[i] !== got[i]) {
      return null;
    }
  }
  return params;
}

let stopPage = null;
let shownPath = null;

function show() {
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, search] = hash.split('?', 2);
  const main = document.getElementById('main');
  if (stopPage) { stopPage(); stopPage = null; }
  if (path !== shownPath) fill(document.getElementById('notice'));
  let route = null, params = null;
  for (const candidate of ROUTES) {
    params = match(candidate.pattern, path);
    if (params) { route = candidate; break; }
  }
  for (const link of document.querySelectorAll('#nav a')) {
    if (route && link.dataset.section === route.section) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  closeMenu();
  if (!route) {
    document.title = 'sluice: not found';
    fill(main, h('h1', {}, 'Not found'), h('p', {}, `No page at #${path}. `, h('a', { href: '#/' }, 'Pipelines')));
    shownPath = path;
    return;
  }
  document.title = `sluice: ${route.title}`;
  fill(main);
  try {
    const stop = route.render(main, params, queryOf(search));
    if (typeof stop === 'function') stopPage = stop;
  } catch (error) {
    reportError(error);
  }
  // After a move to another page (not on the first load), focus goes to its content, as a
  // page load would put a screen reader there.
  if (shownPath !== null && path !== shownPath) main.focus({ preventScroll: true });
  shownPath = path;
}

function closeMenu() {
  const toggle = document.getElementById('menu-toggle');
  toggle.setAttribute('aria-expanded', 'false');
  document.getElementById('nav').classList.remove('open');
}

document.getElementById('menu-toggle').addEventListener('click', (event) => {
  const nav = document.getElementById('nav');
  const open = !nav.classList.contains('open');
  nav.classList.toggle('open', open);
  event.currentTarget.setAttribute('aria-expanded', String(open));
});

window.addEventListener('hashchange', show);
// Shown on the page too; the browser's console still gets it (a bug).
window.addEventListener('unhandledrejection', (event) => reportError(event.reason));
onLogin(() => {
  notify('logged in');
  show();
});
show();
