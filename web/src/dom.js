// A tiny element builder. Text always goes in as text nodes, never as
// markup, so names and memos from the API cannot inject anything.

let idCounter = 0;

// A fresh id for label/for and aria-describedby pairs.
export function uid(prefix) {
  idCounter += 1;
  return `${prefix || 'y'}-${idCounter}`;
}

// h('button', {class: 'x', onclick: fn, disabled: true}, 'text', child...)
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2), v);
    } else if (k === 'class') {
      el.className = v;
    } else if (k === 'value') {
      el.value = v;
    } else if (k === 'checked') {
      el.checked = Boolean(v);
    } else if (v === true) {
      el.setAttribute(k, '');
    } else {
      el.setAttribute(k, String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// Empties el and puts children in (null and false are left out).
export function fill(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}
