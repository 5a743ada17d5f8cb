"""The page for keyboards and screen readers (issue 25).

The query by keyboard: with the clickable image focused (it takes the focus in
the page's order, with a label saying how), the arrow keys move the query one patch, Shift+arrow
one window, Enter opens the attention tab. A key press is a click on the patch it names, so it
takes the click's own path (the in-page redraw, then the server).

The page reads the query and its grid from the caption ("Query patch: row R, column C of stage
S's HxW tokens", a form the page keeps) and the window from the badge ("... windows of MxM").

Text alternatives: every figure of the tabs carries a description of what it shows now, its
aria-label and a "Describe this figure" toggle under it: the figure's own words (its title,
then its panels' titles and notes, in order), which every figure builds from the exploration's
numbers, read from the figure shown, so that it follows an in-page redraw of a click too. The
toggle's own words follow the page's language (#lang).
"""

from __future__ import annotations

import json

IMAGE_LABEL = ("The model's input, with the query patch marked: click a patch, or use the "
               "arrow keys (Shift: one window) to move the query; Enter opens the attention tab")

QUERY_KEYS_JS = """
(() => {
  const LABEL = LABEL_TEXT;
  const where = () => {  // the caption and the badge in English or in Chinese (app.words)
    const cap = (document.querySelector('#query-caption') || {}).innerText || '';
    let m = cap.match(/row (\\d+), column (\\d+) of stage \\d+'s (\\d+)x(\\d+) tokens/);
    const z = m ? null : cap.match(/(\\d+)x(\\d+) 个 token 中第 (\\d+) 行、第 (\\d+) 列/);
    if (z) m = [z[0], z[3], z[4], z[1], z[2]];
    if (!m) return null;
    const badge = (document.querySelector('#badge') || {}).innerText || '';
    const w = badge.match(/windows? of (\\d+)x\\d+/) || badge.match(/(\\d+)x\\d+ 的窗口/);
    return { r: +m[1], c: +m[2], H: +m[3], W: +m[4], M: w ? +w[1] : 1 };
  };
  const focusable = () => {
    const box = document.querySelector('#query-image');
    if (box && !box.hasAttribute('tabindex')) {
      box.setAttribute('tabindex', '0');
      box.setAttribute('role', 'group');
      box.setAttribute('aria-label', LABEL);
    }
    // Gradio wraps the image in a nameless button: one stop (the group above), with a name
    for (const b of (box ? box.querySelectorAll('button:not([aria-label])') : [])) {
      if (b.querySelector('img') && !b.textContent.trim()) {
        b.setAttribute('aria-label', "the model's input: click a patch to pick the query");
        b.setAttribute('tabindex', '-1');
      }
    }
    // and a button Gradio draws anew (each new image) is named as it appears: on the 0.5 s
    // poll alone, a busy page showed it nameless for a moment (the browser test saw one)
    if (box && !box.swinvizNamed) {
      box.swinvizNamed = new MutationObserver(focusable);
      box.swinvizNamed.observe(box, { childList: true, subtree: true });
    }
  };
  setInterval(focusable, 500);
  document.addEventListener('keydown', (e) => {
    const box = document.querySelector('#query-image');
    if (!box || !box.contains(document.activeElement) || e.altKey || e.ctrlKey || e.metaKey) {
      return;
    }
    if (e.key === 'Enter') {
      const tab = [...document.querySelectorAll('[role=tab]')]
        .find((t) => / · Attention$/.test(t.textContent.trim()));
      if (tab) { e.preventDefault(); tab.click(); }
      return;
    }
    const step = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1],
                   ArrowRight: [0, 1] }[e.key];
    const s = where();
    const img = box.querySelector('img');
    if (!step || !s || !img) return;
    e.preventDefault();
    e.stopImmediatePropagation();  // not the lesson's previous / next
    const k = e.shiftKey ? s.M : 1;
    const r = Math.max(0, Math.min(s.H - 1, s.r + step[0] * k));
    const c = Math.max(0, Math.min(s.W - 1, s.c + step[1] * k));
    const b = img.getBoundingClientRect();
    img.dispatchEvent(new MouseEvent('click', {
      bubbles: true, clientX: b.left + (c + 0.5) / s.W * b.width,
      clientY: b.top + (r + 0.5) / s.H * b.height }));
  }, true);
})();
""".replace("LABEL_TEXT", json.dumps(IMAGE_LABEL))


DESCRIBE = "Describe this figure"  # the toggle's words, said in the page's language


def describe_js() -> str:
    """DESCRIBE_JS with the toggle's words in every language of the page (app.words)."""
    from .words import every_language_json

    return DESCRIBE_JS.replace("SAID", every_language_json(DESCRIBE))


DESCRIBE_JS = """
(() => {
  const SUMMARY = SAID;  // the toggle's words in each language of the page
  const strip = (s) => String(s || '').replace(/<br\\s*\\/?>/gi, ' ')
    .replace(/<[^>]+>/g, '').replace(/\\s+/g, ' ').trim();
  const words = (gd) => {
    const L = gd.layout || {};
    const parts = [strip(L.title && L.title.text)];
    for (const a of L.annotations || []) parts.push(strip(a.text));
    return parts.filter(Boolean).join(' · ');
  };
  const tick = () => {
    for (const box of document.querySelectorAll('[id^="fig-"]')) {
      const gd = box.querySelector('.js-plotly-plot');
      if (!gd || !gd.layout) continue;
      const text = words(gd);
      let d = document.querySelector('details.describe[data-for="' + box.id + '"]');
      if (!d) {
        d = document.createElement('details');
        d.className = 'describe';
        d.dataset.for = box.id;
        d.innerHTML = '<summary></summary><p id="' + box.id + '-describe"></p>';
        box.insertAdjacentElement('afterend', d);
      }
      const lang = (document.querySelector('#lang input:checked') || {}).value;
      const summary = SUMMARY[lang] || SUMMARY.en;
      if (d.firstChild.textContent !== summary) d.firstChild.textContent = summary;
      const p = d.querySelector('p');
      if (p.textContent !== text) p.textContent = text;
      if (box.getAttribute('aria-label') !== text) {
        box.setAttribute('aria-label', text);
        box.setAttribute('aria-describedby', p.id);
      }
    }
  };
  setInterval(tick, 700);
})();
"""
