// topics.js — the topics browser: the topics (paged on the server, filtered
// by a name prefix), one topic's settings, partitions and the groups that
// read it, its messages (messages.js), and a form that produces a message
// (POST /api/v1/topics/{topic}/messages).

import { get, post } from './api.js';
import { bytes, count, duration, enc, fill, h, notify, reportError } from './dom.js';
import { messageBrowser } from './messages.js';
import { pagedList } from './pager.js';

export function renderList(main, params, query) {
  const list = pagedList({
    id: 'topics', path: '/api/v1/topics', key: 'topics', route: '/topics', noun: 'topics', query,
    filters: [{ name: 'prefix', label: 'Name starts with' }],
    headings: ['Topic', 'Partitions', 'Messages', 'Size', 'Retention', 'Compression'],
    row: (t) => h('tr', { 'data-topic': t.name },
      h('th', { scope: 'row' }, h('a', { href: `#/topics/${enc(t.name)}` }, t.name),
        t.is_dead_letter ? h('span', { class: 'badge state-failed' }, 'dead letters') : null),
      h('td', { class: 'num' }, count(t.partitions)), h('td', { class: 'num' }, count(t.messages)),
      h('td', { class: 'num' }, bytes(t.bytes)), h('td', {}, retention(t)), h('td', {}, t.compression || '—')),
  });
  fill(main, h('h1', {}, 'Topics'), list.element);
}

function retention(topic) {
  const parts = [];
  if (typeof topic.retention_ms === 'number' && topic.retention_ms >= 0) parts.push(duration(topic.retention_ms));
  if (typeof topic.retention_bytes === 'number' && topic.retention_bytes >= 0) parts.push(bytes(topic.retention_bytes));
  return parts.length ? parts.join(', ') : 'forever';
}

function produceForm(topic, partitions, afterWrite) {
  const key = h('input', { id: 'produce-key', name: 'key', type: 'text', autocomplete: 'off' });
  const value = h('textarea', { id: 'produce-value', name: 'value', rows: 5, required: true,
    placeholder: '{"hello": "world"} — JSON is written as JSON, anything else as text' });
  const headers = h('textarea', { id: 'produce-headers', name: 'headers', rows: 2, placeholder: 'one header a line: name: value' });
  const partition = h('select', { id: 'produce-partition', name: 'partition' },
    h('option', { value: '' }, 'By key (or round robin)'),
    Array.from({ length: partitions }, (_, p) => h('option', { value: p }, `Partition ${p}`)));
  const result = h('p', { class: 'form-result', role: 'status' });
  const form = h('form', { class: 'produce' },
    h('div', { class: 'field' }, h('label', { for: key.id }, 'Key (empty: none)'), key),
    h('div', { class: 'field wide' }, h('label', { for: value.id }, 'Value'), value),
    h('div', { class: 'field wide' }, h('label', { for: headers.id }, 'Headers'), headers),
    h('div', { class: 'field' }, h('label', { for: partition.id }, 'Partition'), partition),
    h('button', { type: 'submit' }, 'Produce'), result);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = {};
    if (key.value !== '') body.key = key.value;
    try { body.value = JSON.parse(value.value); } catch { body.value = value.value; }
    const lines = headers.value.split('\n').map((line) => line.trim()).filter(Boolean);
    if (lines.length) {
      body.headers = [];
      for (const line of lines) {
        const colon = line.indexOf(':');
        if (colon <= 0) { result.textContent = `a header line needs "name: value": ${line}`; return; }
        body.headers.push({ key: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() });
      }
    }
    if (partition.value !== '') body.partition = Number(partition.value);
    try {
      const answer = await post(`/api/v1/topics/${enc(topic)}/messages`, body);
      result.textContent = `Written to partition ${answer.partition} at offset ${answer.offset}.`;
      notify(`${topic}: a message written to partition ${answer.partition} at offset ${answer.offset}`);
      afterWrite(answer);
    } catch (error) {
      result.textContent = error.message;
      reportError(error);
    }
  });
  return form;
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
    const partitions = topic.partitions || [];
    const browser = messageBrowser({ id: 'topic-messages', path: `/api/v1/topics/${enc(name)}/messages`,
      partitions: partitions.length, query, route: `/topics/${enc(name)}` });
    fill(main,
      h('p', { class: 'crumbs' }, h('a', { href: '#/topics' }, 'Topics'), ' / '),
      h('h1', {}, name, topic.is_dead_letter ? h('span', { class: 'badge state-failed' }, 'dead letters') : null),
      h('dl', { class: 'facts' },
        h('dt', {}, 'Messages'), h('dd', {}, count(topic.messages)),
        h('dt', {}, 'Size'), h('dd', {}, bytes(topic.bytes)),
        h('dt', {}, 'Retention'), h('dd', {}, retention(topic)),
        h('dt', {}, 'Compression'), h('dd', {}, topic.compression || '—'),
        h('dt', {}, 'Read by'), h('dd', {}, (topic.groups || []).length
          ? (topic.groups || []).flatMap((g, i) => [i ? ', ' : '', h('a', { href: `#/groups/${enc(g)}` }, g)])
          : h('span', { class: 'muted' }, 'no group'))),
      h('h2', {}, 'Partitions'),
      h('div', { class: 'table-wrap' }, h('table', { id: 'partitions' },
        h('thead', {}, h('tr', {}, ['Partition', 'Start offset', 'End offset', 'Messages', 'Size'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, partitions.map((p) => h('tr', {},
          h('td', { class: 'num' }, p.partition), h('td', { class: 'num' }, count(p.start_offset)),
          h('td', { class: 'num' }, count(p.end_offset)), h('td', { class: 'num' }, count(p.end_offset - p.start_offset)),
          h('td', { class: 'num' }, bytes(p.bytes))))))),
      h('h2', {}, 'Messages'),
      browser.element,
      h('h2', {}, 'Produce a message'),
      produceForm(name, partitions.length, () => browser.reload()));
  })().catch(reportError);
}
