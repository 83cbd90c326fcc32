// pager.js — a list paged on the server, as every list route of the API
// is (?limit= 1..1000 and an opaque ?cursor=, next_cursor null on the last
// page). Only one page is ever fetched and drawn: the cursors of the pages
// before are kept so Previous works, and the filters (query parameters the
// server applies) live in the address, so a reload shows the same list.

import { get } from './api.js';
import { fill, h, hashOf, reportError } from './dom.js';

const PAGE_SIZES = [25, 50, 100, 500, 1000];

// options: {id, path: the API route, key: the list's field in the answer,
// route: the page's #path, filters: [{name, label}], headings, row(item),
// noun: what the items are, query: the page's parameters}
export function pagedList(options) {
  const query = options.query || {};
  const limit = PAGE_SIZES.includes(Number(query.limit)) ? Number(query.limit) : 100;
  const inputs = {};
  const filterFields = options.filters.map((filter) => {
    const id = `${options.id}-${filter.name}`;
    inputs[filter.name] = h('input', { id, name: filter.name, type: 'search', value: query[filter.name] || '', autocomplete: 'off' });
    return h('div', { class: 'field' }, h('label', { for: id }, filter.label), inputs[filter.name]);
  });
  const sizeId = `${options.id}-limit`;
  const size = h('select', { id: sizeId, name: 'limit' },
    PAGE_SIZES.map((n) => h('option', { value: n, selected: n === limit }, n)));
  const form = h('form', { class: 'filters', role: 'search' }, filterFields,
    h('div', { class: 'field' }, h('label', { for: sizeId }, 'Per page'), size),
    h('button', { type: 'submit' }, 'Show'));
  const status = h('p', { class: 'page-status', 'aria-live': 'polite', 'data-page': '0' });
  const tbody = h('tbody');
  const first = h('button', { type: 'button', 'data-page-action': 'first', disabled: true }, 'First');
  const previous = h('button', { type: 'button', 'data-page-action': 'previous', disabled: true }, 'Previous');
  const next = h('button', { type: 'button', 'data-page-action': 'next', disabled: true }, 'Next');
  const nav = h('nav', { class: 'pager', 'aria-label': `${options.noun} pages` }, first, previous, next);
  const element = h('div', { class: 'paged', id: options.id },
    form,
    h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, options.headings.map((t) => h('th', { scope: 'col' }, t)))), tbody)),
    status, nav);

  let cursors = [null];   // the cursor of each page shown so far; the last is the current page's
  let nextCursor = null;
  let loading = false;

  const filterValues = () => {
    const values = {};
    for (const [name, input] of Object.entries(inputs)) if (input.value.trim()) values[name] = input.value.trim();
    return values;
  };

  const load = async () => {
    loading = true;
    for (const button of [first, previous, next]) button.disabled = true;
    status.textContent = 'Loading…';
    const params = new URLSearchParams({ ...filterValues(), limit: size.value });
    const cursor = cursors[cursors.length - 1];
    if (cursor) params.set('cursor', cursor);
    try {
      const page = await get(`${options.path}?${params}`);
      const items = page[options.key] || [];
      nextCursor = page.next_cursor || null;
      fill(tbody, items.length ? items.map(options.row)
        : h('tr', {}, h('td', { colspan: options.headings.length, class: 'muted' }, `No ${options.noun}.`)));
      const pageNumber = cursors.length;
      status.dataset.page = String(pageNumber);
      status.dataset.last = String(!nextCursor);
      status.textContent = `Page ${pageNumber}: ${items.length} ${options.noun}${nextCursor ? '' : ' (the last page)'}`;
    } catch (error) {
      status.textContent = 'Could not load this page.';
      reportError(error);
    } finally {
      loading = false;
      first.disabled = previous.disabled = cursors.length <= 1;
      next.disabled = !nextCursor;
    }
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    cursors = [null];
    history.replaceState(null, '', hashOf(options.route, { ...filterValues(), limit: size.value }));
    load();
  });
  size.addEventListener('change', () => form.requestSubmit());
  first.addEventListener('click', () => { if (!loading) { cursors = [null]; load(); } });
  previous.addEventListener('click', () => { if (!loading && cursors.length > 1) { cursors.pop(); load(); } });
  next.addEventListener('click', () => { if (!loading && nextCursor) { cursors.push(nextCursor); load(); } });

  load();
  return { element, reload: load };
}
