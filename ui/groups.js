// groups.js — consumer groups: the list (paged on the server, filtered by a
// name prefix or a topic they read; with thousands of groups only one page
// is ever fetched) and one group's committed offsets and lag per partition.

import { get } from './api.js';
import { count, enc, fill, h, reportError } from './dom.js';
import { pagedList } from './pager.js';

export function renderList(main, params, query) {
  const list = pagedList({
    id: 'groups', path: '/api/v1/groups', key: 'groups', route: '/groups', noun: 'groups', query,
    filters: [{ name: 'prefix', label: 'Name starts with' }, { name: 'topic', label: 'Reads topic' }],
    headings: ['Group', 'Where', 'Topics', 'Lag'],
    row: (g) => h('tr', { 'data-group': g.group },
      h('th', { scope: 'row' }, h('a', { href: `#/groups/${enc(g.group)}` }, g.group)),
      h('td', {}, g.source),
      h('td', {}, (g.topics || []).flatMap((t, i) => [i ? ', ' : '', h('a', { href: `#/topics/${enc(t)}` }, t)])),
      h('td', { class: 'num' }, count(g.lag))),
  });
  fill(main, h('h1', {}, 'Consumer groups'), list.element);
}

export function renderGroup(main, params) {
  const name = params.group;
  fill(main, h('p', { class: 'muted' }, 'Loading…'));
  (async () => {
    let group;
    try {
      group = await get(`/api/v1/groups/${enc(name)}`);
    } catch (error) {
      fill(main, h('h1', {}, name), h('p', { class: 'error-text' }, error.message));
      return;
    }
    fill(main,
      h('p', { class: 'crumbs' }, h('a', { href: '#/groups' }, 'Consumer groups'), ' / '),
      h('h1', {}, name),
      h('dl', { class: 'facts' }, h('dt', {}, 'Where'), h('dd', {}, group.source), h('dt', {}, 'Lag'), h('dd', {}, count(group.lag))),
      h('div', { class: 'table-wrap' }, h('table', { id: 'offsets' },
        h('thead', {}, h('tr', {}, ['Topic', 'Partition', 'Committed', 'End offset', 'Lag'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, (group.offsets || []).map((o) => h('tr', {},
          h('td', {}, h('a', { href: `#/topics/${enc(o.topic)}` }, o.topic)), h('td', { class: 'num' }, o.partition),
          h('td', { class: 'num' }, count(o.committed)), h('td', { class: 'num' }, count(o.end_offset)),
          h('td', { class: 'num' }, count(o.lag))))))));
  })().catch(reportError);
}
