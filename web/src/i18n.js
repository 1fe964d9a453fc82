// The language of the pages: the visible switch (kept in localStorage)
// wins, else the browser's languages (its Accept-Language), else English.
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
  try {
    window.localStorage.setItem(KEY, l);
  } catch (e) {
    // private mode: the choice lasts until the page is left
  }
}

// t('accounts.total', {n: 3}): the string of the current language with
// {name} filled in; a key missing in one language falls back to English.
export function t(key, params) {
  const s = catalogues[current][key] ?? en[key] ?? key;
  if (!params) return s;
  return s.replace(/\{(\w+)\}/g, (m, k) => (params[k] !== undefined ? String(params[k]) : m));
}

// Bytes in the units people read (MB as the quota is given).
export function formatBytes(n) {
  const v = Number(n) || 0;
  if (v < 1024 * 1024) return `${(v / 1024).toFixed(v < 10240 ? 1 : 0)} KB`;
  if (v < 1024 * 1024 * 1024) return `${(v / 1048576).toFixed(1)} MB`;
  return `${(v / 1073741824).toFixed(2)} GB`;
}
