// The webmail's calls to /api/v1: JSON in and out with the session cookie,
// X-CSRF-Token on every state change, errors as ApiError.
import { lang } from './i18n.js';

let csrf = null;

export function setCsrf(token) {
  csrf = token || null;
}

export function csrfToken() {
  return csrf;
}

export class ApiError extends Error {
  constructor(status, err) {
    super((err && err.message) || `HTTP ${status}`);
    this.status = status;
    this.code = (err && err.code) || 'http_' + status;
    this.field = (err && err.field) || null;
  }
}

export function apiUrl(path) {
  const sep = path.includes('?') ? '&' : '?';
  return `/api/v1${path}${sep}lang=${lang()}`;
}

// opts.type sends body as it is with that Content-Type (a vCard file);
// opts.keepalive lets the request outlive the page (a draft saved on leaving).
export async function api(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = opts.type || 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrf) headers['X-CSRF-Token'] = csrf;
  let r;
  try {
    r = await fetch(apiUrl(path), {
      method, headers, credentials: 'same-origin', cache: 'no-store', keepalive: Boolean(opts.keepalive),
      body: body === undefined ? undefined : opts.type ? body : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, { code: 'network', message: '' });
  }
  if (r.status === 204) return null;
  let data = null;
  try {
    data = await r.json();
  } catch (e) {
    data = null;
  }
  if (!r.ok) {
    const err = data && typeof data.error === 'object' ? data.error : null;
    if (r.status === 401 && path !== '/session') window.dispatchEvent(new Event('yubin:logged-out'));
    throw new ApiError(r.status, err);
  }
  return data;
}

// A folder name or other path segment (a folder may hold '/').
export function seg(s) {
  return encodeURIComponent(s);
}

export function msgPath(folder, uid) {
  return `/mail/messages/${seg(folder)}/${uid}`;
}
