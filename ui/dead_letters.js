// dead_letters.js — the dead-letter topics (paged): which pipeline writes
// each, how many messages it holds and why they failed (counts by reason
// over the latest ones), and one topic's dead letters with their error,
// stage and the position they came from.

import { get } from './api.js';
import { count, enc, fill, h, reportError } from './dom.js';
import { messageBrowser } from './messages.js';
import { pagedList } from './pager.js';

function reasons(map) {
  const entries = Object.entries(map || {}).sort((a, b) => b[1] - a[1]);
  if (!entries.length) return h('span', { class: 'muted' }, 'none');
  return h('ul', { class: 'reasons' }, entries.map(([reason, n]) => h('li', {}, h('span', { class: 'num' }, count(n)), ' ', reason)));
}

export function renderList(main, params, query) {
  const list = pagedList({
    id: 'dead-letters', path: '/api/v1/dead-letters', key: 'dead_letter_topics', route: '/dead-letters',
    noun: 'dead-letter topics', query, filters: [],
    headings: ['Topic', 'Pipeline', 'Messages', 'Reasons (latest up to 1000)'],
    row: (t) => h('tr', { 'data-topic': t.topic },
      h('th', { scope: 'row' }, h('a', { href: `#/dead-letters/${enc(t.topic)}` }, t.topic)),
      h('td', {}, t.pipeline || '—'), h('td', { class: 'num' }, count(t.messages)), h('td', {}, reasons(t.reasons))),
  });
  fill(main, h('h1', {}, 'Dead letters'), list.element);
}

export function renderTopic(main, params, query) {
  const name = params.topic;
  fill(main, h('p', { class: 'muted' }, 'Loading…'));
  (async () => {
    let topic;
    try {
      topic = await get(`/api/v1/topics/${enc(name)}`);
    } catch (error) {
      fill(main, h('h1', {}, name), h('p', { class: 'error-text' }, error.message));
      return;
    }
    const browser = messageBrowser({ id: 'dead-letter-messages', path: `/api/v1/dead-letters/${enc(name)}/messages`,
      partitions: (topic.partitions || []).length, query, isDeadLetter: true, route: `/dead-letters/${enc(name)}` });
    fill(main,
      h('p', { class: 'crumbs' }, h('a', { href: '#/dead-letters' }, 'Dead letters'), ' / '),
      h('h1', {}, name),
      h('p', {}, `${count(topic.messages)} dead letters. `, h('a', { href: `#/topics/${enc(name)}` }, 'As a topic')),
      browser.element);
  })().catch(reportError);
}
