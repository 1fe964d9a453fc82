// Mail's HTML made safe to show: DOMPurify removes scripts, event handlers,
// javascript: URLs, forms' targets and the rest; then links open in a new
// tab without referrer, cid: images take the message's own parts (as data:
// URLs) and remote images are held back until the reader asks. The result
// goes into a sandboxed iframe (no allow-scripts, no allow-same-origin)
// through srcdoc, with a Content-Security-Policy of its own that allows
// no script, no connection and only data: images (remote ones too once
// shown). The page itself never takes mail's markup.
import DOMPurify from 'dompurify';

const REMOTE = /^\s*(https?:)?\/\//i;

// html: the message's HTML; cids: {cid: dataURL}; showImages: load remote
// images. Returns {doc, blocked}: the iframe's srcdoc and how many remote
// images were held back.
export function mailDocument(html, cids, showImages) {
  let blocked = 0;
  const purify = DOMPurify();
  purify.addHook('uponSanitizeAttribute', (node, data) => {
    // style attributes stay (mail is laid out with them); the iframe's
    // policy stops any url() in them from loading until images are shown
    if (data.attrName === 'srcset' || data.attrName === 'ping' || data.attrName === 'background' ||
        data.attrName === 'poster' || data.attrName === 'formaction' || data.attrName === 'action') {
      data.keepAttr = false;
    }
  });
  purify.addHook('afterSanitizeAttributes', (node) => {
    if (node.tagName === 'A' || node.tagName === 'AREA') {
      const href = node.getAttribute('href') || '';
      if (href && !/^(https?:|mailto:|#)/i.test(href.trim())) node.removeAttribute('href');
      node.setAttribute('target', '_blank');
      node.setAttribute('rel', 'noopener noreferrer');
    }
    if (node.tagName === 'IMG' || node.tagName === 'INPUT') {
      const src = node.getAttribute('src') || '';
      if (/^\s*cid:/i.test(src)) {
        const id = decodeURIComponent(src.trim().slice(4)).replace(/^<|>$/g, '');
        if (cids[id]) node.setAttribute('src', cids[id]);
        else node.removeAttribute('src');
      } else if (REMOTE.test(src)) {
        if (!showImages) {
          blocked += 1;
          node.removeAttribute('src');
          node.setAttribute('data-blocked', '1');
        }
      } else if (src && !/^data:image\/(png|jpeg|gif|webp);/i.test(src.trim())) {
        node.removeAttribute('src');
      }
    }
  });
  const clean = purify.sanitize(html, {
    WHOLE_DOCUMENT: false,
    FORBID_TAGS: ['form', 'input', 'button', 'textarea', 'select', 'option', 'iframe', 'frame', 'frameset',
      'object', 'embed', 'applet', 'base', 'meta', 'link', 'script', 'noscript', 'template', 'portal',
      'audio', 'video', 'source', 'track'],
    FORBID_ATTR: ['srcset', 'ping', 'action', 'formaction', 'background', 'poster'],
    ALLOW_DATA_ATTR: false,
  });
  const img = showImages ? 'data: https: http:' : 'data:';
  const policy = `default-src 'none'; img-src ${img}; style-src 'unsafe-inline'; font-src data:; ` +
    "form-action 'none'; base-uri 'none'";
  const doc = '<!DOCTYPE html><html><head><meta charset="utf-8">' +
    `<meta http-equiv="Content-Security-Policy" content="${policy}">` +
    '<meta name="referrer" content="no-referrer">' +
    '<style>body{font-family:system-ui,sans-serif;margin:8px;overflow-wrap:anywhere;color:#111;' +
    'background:#fff}img{max-width:100%;height:auto}</style></head><body>' + clean + '</body></html>';
  return { doc, blocked };
}
