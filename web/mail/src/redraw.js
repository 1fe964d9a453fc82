// Redrawing the list pane without replacing what has not changed. The list
// is drawn again at any moment (new mail, a flag set, the message just
// opened marked read), and a click whose element is removed or moved
// between the press and the release is lost: the browser sends no click
// at all. So the rows that look the same stay the very same elements.

// el's children become children (nulls left out), in order; those already
// in el stay where they are, only the others are inserted or removed.
export function place(el, ...children) {
  const want = children.flat().filter((c) => c !== null && c !== undefined && c !== false);
  const keep = new Set(want);
  for (const n of [...el.childNodes]) if (!keep.has(n)) n.remove();
  let at = el.firstChild;
  for (const c of want) {
    if (c === at) at = at.nextSibling;
    else el.insertBefore(c, at);
  }
  return el;
}

// A row's look: its markup and whether its box is ticked (a property).
function look(li) {
  const box = li.querySelector('input.pick');
  return (box && box.checked ? '1' : '0') + li.outerHTML;
}

// The list old (or a fresh one from make() when there is none) holding
// rows: each of them, or the row old already has that looks the same,
// kept as it is.
export function keepRows(old, make, rows) {
  const ul = old || make();
  const mine = new Map();
  for (const li of ul.children) mine.set(look(li), li);
  return place(ul, rows.map((r) => {
    const k = look(r);
    const twin = mine.get(k);
    if (!twin) return r;
    mine.delete(k);
    return twin;
  }));
}
