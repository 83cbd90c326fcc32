// messages.js — reading a topic's messages (GET .../messages?partition=
// &offset=&timestamp=&limit=): from an offset or a time, one partition or
// all of them merged by time, each message with its key, headers and value
// (JSON pretty-printed, other bytes as the server encoded them). Dead
// letters add why they failed and where they came from. With one partition
// chosen, "Next" reads on from the offset the server says comes next.

import { get } from './api.js';
import { bytes, enc, fill, h, hashOf, reportError, time } from './dom.js';

function valueText(value, encoding) {
  if (encoding === 'json') return JSON.stringify(value, null, 2);
  return value === null || value === undefined ? '' : String(value);
}

function encodingNote(encoding) {
  return encoding && encoding !== 'utf8' && encoding !== 'json' ? h('small', { class: 'muted' }, ` (${encoding})`) : null;
}

function messageCard(message, isDeadLetter) {
  const headers = message.headers || [];
  return h('article', { class: 'message', 'data-partition': message.partition, 'data-offset': message.offset },
    h('header', {}, h('strong', {}, `partition ${message.partition} · offset ${message.offset}`), ' · ', time(message.timestamp),
      ' · ', bytes(message.size)),
    isDeadLetter ? h('dl', { class: 'dead-letter' },
      h('dt', {}, 'Error'), h('dd', { class: 'error-text' }, message.error || '—'),
      h('dt', {}, 'Stage'), h('dd', {}, message.stage || '—'),
      h('dt', {}, 'From'), h('dd', {}, message.origin && message.origin.topic
        ? h('a', { href: hashOf(`/topics/${enc(message.origin.topic)}`, { partition: message.origin.partition, offset: message.origin.offset }) },
          `${message.origin.topic} partition ${message.origin.partition} offset ${message.origin.offset}`)
        : '—')) : null,
    h('dl', {},
      h('dt', {}, 'Key'), h('dd', {}, message.key === null || message.key === undefined ? h('span', { class: 'muted' }, 'null')
        : h('code', { class: 'key' }, message.key), encodingNote(message.key_encoding)),
      headers.length ? [h('dt', {}, 'Headers'), h('dd', {}, h('ul', { class: 'headers' }, headers.map((header) =>
        h('li', {}, h('code', {}, header.key), ': ', h('code', {}, header.value === null ? 'null' : String(header.value)), encodingNote(header.value_encoding)))))] : null,
      h('dt', {}, 'Value', encodingNote(message.value_encoding))),
    h('pre', { class: `value value-${message.value_encoding || 'utf8'}`, tabindex: 0 }, valueText(message.value, message.value_encoding)));
}

// options: {id, path: the messages route, partitions: count, query: the
// page's parameters (partition, offset, timestamp), isDeadLetter, route}
export function messageBrowser(options) {
  const query = options.query || {};
  const id = options.id;
  const partition = h('select', { id: `${id}-partition`, name: 'partition' },
    h('option', { value: '' }, 'All partitions'),
    Array.from({ length: options.partitions || 0 }, (_, p) => h('option', { value: p, selected: String(p) === query.partition }, `Partition ${p}`)));
  const offset = h('input', { id: `${id}-offset`, name: 'offset', type: 'number', min: 0, step: 1, value: query.offset || '', inputmode: 'numeric' });
  const timestamp = h('input', { id: `${id}-timestamp`, name: 'timestamp', type: 'text', value: query.timestamp || '',
    placeholder: '2024-01-01T00:00:00Z or epoch ms' });
  const limit = h('input', { id: `${id}-limit`, name: 'limit', type: 'number', min: 1, max: 1000, value: query.limit || 20 });
  const form = h('form', { class: 'filters' },
    h('div', { class: 'field' }, h('label', { for: partition.id }, 'Partition'), partition),
    h('div', { class: 'field' }, h('label', { for: offset.id }, 'From offset'), offset),
    h('div', { class: 'field' }, h('label', { for: timestamp.id }, 'or from time'), timestamp),
    h('div', { class: 'field' }, h('label', { for: limit.id }, 'How many'), limit),
    h('button', { type: 'submit' }, 'Read'));
  const list = h('div', { class: 'messages', 'aria-live': 'polite' });
  const status = h('p', { class: 'page-status' });
  const next = h('button', { type: 'button', disabled: true }, 'Next messages');
  const element = h('section', { class: 'message-browser', id, 'aria-label': 'Messages' }, form, status, list, h('nav', { class: 'pager' }, next));
  let nextOffset = null;

  const load = async () => {
    const params = new URLSearchParams();
    if (partition.value !== '') params.set('partition', partition.value);
    if (offset.value !== '') params.set('offset', offset.value);
    else if (timestamp.value.trim()) params.set('timestamp', timestamp.value.trim());
    params.set('limit', limit.value || '20');
    if (options.route) history.replaceState(null, '', hashOf(options.route, Object.fromEntries(params)));
    status.textContent = 'Reading…';
    next.disabled = true;
    try {
      const answer = await get(`${options.path}?${params}`);
      const messages = answer.messages || [];
      fill(list, messages.map((m) => messageCard(m, options.isDeadLetter)));
      const nexts = (answer.next && answer.next.partition) || {};
      nextOffset = partition.value !== '' && nexts[partition.value] !== undefined ? nexts[partition.value] : null;
      next.disabled = nextOffset === null || messages.length === 0;
      status.textContent = messages.length ? `${messages.length} messages` : 'No messages there.';
    } catch (error) {
      status.textContent = 'Could not read the messages.';
      reportError(error);
    }
  };

  form.addEventListener('submit', (event) => { event.preventDefault(); load(); });
  next.addEventListener('click', () => {
    if (nextOffset === null) return;
    offset.value = nextOffset;
    timestamp.value = '';
    load();
  });
  load();
  return { element, reload: load };
}
