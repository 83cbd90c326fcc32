// api.js — every call the UI makes to sluice's JSON API goes through
// request(): same origin, JSON in and out, errors turned into ApiError with
// the server's {"error"} text. A 401 shows the login form (POST
// /api/v1/login with a token); the session is then an HttpOnly cookie the
// browser sends by itself, and the csrf_token of the login answer is sent
// as X-CSRF-Token on every request that is not a GET, as the server asks
// of cookie sessions. The token itself is never kept.

import { fill, h } from './dom.js';

const CSRF_KEY = 'sluice.csrf';
const WHO_KEY = 'sluice.who';

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

let afterLogin = () => {};

// What to do once a login succeeds (app.js: draw the current page again).
export function onLogin(callback) {
  afterLogin = callback;
}

export async function request(method, path, body) {
  const headers = { Accept: 'application/json' };
  const csrf = sessionStorage.getItem(CSRF_KEY);
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new ApiError(0, `cannot reach the server (${method} ${path}): ${error.message}`);
  }
  const type = response.headers.get('Content-Type') || '';
  let data = null;
  try {
    data = type.includes('json') ? await response.json() : await response.text();
  } catch (error) {
    throw new ApiError(response.status, `${method} ${path}: an answer that is not JSON (${error.message})`);
  }
  if (response.status === 401) {
    showLogin(data && data.error);
    throw new ApiError(401, (data && data.error) || 'log in first', data);
  }
  if (!response.ok) {
    const message = data && typeof data === 'object' && data.error ? data.error : `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, `${method} ${path}: ${message}`, data);
  }
  return data;
}

export const get = (path) => request('GET', path);
export const post = (path, body) => request('POST', path, body === undefined ? {} : body);

// ---- login ----

function whoLine() {
  const who = document.getElementById('who');
  if (!who) return;
  const saved = sessionStorage.getItem(WHO_KEY);
  if (!saved) { fill(who); return; }
  const { name, role } = JSON.parse(saved);
  fill(who, h('span', {}, `${name} (${role})`), ' ',
    h('button', { type: 'button', class: 'link', onclick: logout }, 'Log out'));
}

async function logout() {
  try {
    await post('/api/v1/logout');
  } catch (error) {
    if (error.status !== 401) console.warn(error.message);
  }
  sessionStorage.removeItem(CSRF_KEY);
  sessionStorage.removeItem(WHO_KEY);
  whoLine();
  showLogin('logged out');
}

let dialog = null;

export function showLogin(reason) {
  if (!dialog) dialog = buildLogin();
  dialog.querySelector('.login-reason').textContent = reason || 'This server asks for a token.';
  if (!dialog.open) dialog.showModal();
  dialog.querySelector('input').focus();
}

function buildLogin() {
  const message = h('p', { class: 'login-error', role: 'alert' });
  const input = h('input', { id: 'login-token', name: 'token', type: 'password', autocomplete: 'current-password', required: true });
  const form = h('form', { method: 'dialog', class: 'login' },
    h('h2', {}, 'Log in to sluice'),
    h('p', { class: 'login-reason' }),
    h('label', { for: 'login-token' }, 'Token'),
    input,
    message,
    h('button', { type: 'submit' }, 'Log in'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.textContent = '';
    try {
      const answer = await fetch('/api/v1/login', {
        method: 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ token: input.value }),
      });
      const data = await answer.json().catch(() => ({}));
      if (!answer.ok) { message.textContent = data.error || `${answer.status} ${answer.statusText}`; return; }
      sessionStorage.setItem(CSRF_KEY, data.csrf_token || '');
      sessionStorage.setItem(WHO_KEY, JSON.stringify({ name: data.name, role: data.role }));
      input.value = '';
      dialog.close();
      whoLine();
      afterLogin();
    } catch (error) {
      message.textContent = `cannot reach the server: ${error.message}`;
    }
  });
  const built = h('dialog', { class: 'login-dialog', 'aria-labelledby': 'login-title' }, form);
  built.querySelector('h2').id = 'login-title';
  document.body.append(built);
  return built;
}

whoLine();
