// The webmail's language: the visible switch (kept in localStorage, the
// same key as the panels') wins, else the browser's, else English.
import en from './lang/en.js';
import ja from './lang/ja.js';

const catalogues = { en, ja };
const KEY = 'yubin.lang';
let current = pick();

function pick() {
  let saved = null;
  try {
    saved = window.localStorage.getItem(KEY);
  } catch (e) {
    saved = null;
  }
  if (saved && catalogues[saved]) return saved;
  for (const l of navigator.languages || [navigator.language || '']) {
    const p = String(l).toLowerCase().split('-')[0];
    if (catalogues[p]) return p;
  }
  return 'en';
}

export function lang() {
  return current;
}

export function setLang(l) {
  if (!catalogues[l]) return;
  current = l;
  document.documentElement.lang = l;
  try {
    window.localStorage.setItem(KEY, l);
  } catch (e) {
    // private mode: the choice lasts until the page is left
  }
}

export function t(key, params) {
  const s = catalogues[current][key] ?? en[key] ?? key;
  if (!params) return s;
  return s.replace(/\{(\w+)\}/g, (m, k) => (params[k] !== undefined ? String(params[k]) : m));
}

export function formatBytes(n) {
  const v = Number(n) || 0;
  if (v < 1024) return `${v} B`;
  if (v < 1024 * 1024) return `${(v / 1024).toFixed(v < 10240 ? 1 : 0)} KB`;
  if (v < 1024 * 1024 * 1024) return `${(v / 1048576).toFixed(1)} MB`;
  return `${(v / 1073741824).toFixed(2)} GB`;
}

// A date as the reader reads it: the time today, else the day.
export function formatDate(iso, long) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const loc = current === 'ja' ? 'ja-JP' : 'en-GB';
  if (long) return d.toLocaleString(loc, { dateStyle: 'medium', timeStyle: 'short' });
  const now = new Date();
  if (d.toDateString() === now.toDateString()) {
    return d.toLocaleTimeString(loc, { hour: '2-digit', minute: '2-digit' });
  }
  return d.toLocaleDateString(loc, { year: d.getFullYear() === now.getFullYear() ? undefined : 'numeric',
    month: 'short', day: 'numeric' });
}
