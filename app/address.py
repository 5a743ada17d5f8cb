"""The page's address: a link that opens the same view (README, "A link opens the same view").

    /?example=cat&stage=3&pair=1&query=5,6&block=0&head=2&tab=attention&lang=zh
      (plus the model settings by the API's names: model (swin-t, swinv2-t), img_size,
       window_size, shift_size, weights, seed, and without=mask,bias)

`read_address` checks every value with the same rules as the page's controls and the API
(`swinviz.settings`, `app.settings.parse_settings`): what is valid is applied, what is not is
left out and named in one sentence (`Link.note`), never an error page. `address_of` writes the
view a session shows back as such a query string; the page puts it in the address bar after
every change (history.replaceState), so copying the address shares the view.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import gradio as gr

from swinviz.config import SettingsError, short
from swinviz.figures import KINDS
from swinviz.figures.registry import REGISTRY
from swinviz.lesson import check_lang
from swinviz.settings import (
    ALL_HEADS,
    MAX_QUERY_SET,
    parse_block,
    parse_head,
    parse_parts,
    parse_query_set,
    parse_stage_pair,
)

from .compare import COMPARE_TAB
from .events import TABS, model_notice
from .evidence import KIND as EVIDENCE
from .guard import example_images
from .lesson import LESSON_TAB
from .session import Shown, block_choices, by_name, head_choices, pair_choices
from .settings import (
    DEFAULT_MODEL,
    DEFAULTS,
    MODEL_FIELDS,
    SIZES_OF,
    ModelSettings,
    parse_settings,
)
from .words import say

MAX_VALUE_CHARS = 200  # a link's value longer than this is not read ...
QUERY_MAX_CHARS = 8 * MAX_QUERY_SET  # ... but a query set's: "rrr,ccc;" a patch
# what a link may say, in the order it is read (the model first: it decides the grid)
MODEL_KEYS = ("model", "img_size", "window_size", "shift_size", "weights", "seed")
KEYS = ("example", *MODEL_KEYS, "without", "stage", "pair", "query", "block", "head", "target",
        "tab", "lang")


def examples() -> dict[str, str]:
    """The shipped examples by name (file stem, lower case) -> path."""
    return {Path(p).stem.lower(): p for p in example_images()}


def tab_of(kind: str) -> str:
    """The page tab (its id: its first kind, or "lesson") that shows figure `kind`."""
    if kind == LESSON_TAB:
        return LESSON_TAB
    tab = REGISTRY[kind].tab
    return next(k for k in KINDS if REGISTRY[k].tab == tab)


@dataclass
class Link:
    """What an address asks for, every value checked: `values` by the page's names (the
    API's, plus "example" (a path), "tab" and "lang"), and the parts left out (`ignored`:
    "stage=9: stage must be from 1 to 4 ...")."""

    values: dict[str, object] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    model: ModelSettings | None = None  # the model the link's settings make (the defaults')

    @property
    def note(self) -> str:
        """One sentence for the page, in the link's language: "" when every value was used
        (each value left out is named with its reason, in the library's words)."""
        if not self.ignored:
            return ""
        return say(str(self.values.get("lang") or "en"), "Part of this link was left out: "
                   "{parts}. The rest of the view is as the link says.",
                   parts="; ".join(self.ignored))


def read_address(params: Mapping[str, str]) -> Link:
    """The page's query parameters -> a `Link`. Unknown names, values too long or not valid
    here are ignored (each named in `Link.note`); a value that depends on another (a pair on
    its stage, a query on its stage's grid, a head on its stage's heads) is checked against
    the values the link itself sets."""
    link = Link()
    got = {k: str(v).strip() for k, v in params.items()}

    def drop(name: str, why: str) -> None:
        link.ignored.append(f"{name}={short(got.get(name, ''), 40, quote=False)} ({why})")

    # Gradio's own parameters (`__theme=dark`) are Gradio's to read, not this page's
    for name in sorted(set(got) - set(KEYS)):
        if not name.startswith("__"):
            drop(name, f"not a setting of this page; it takes {', '.join(KEYS)}")
    for name in KEYS:
        most = QUERY_MAX_CHARS if name == "query" else MAX_VALUE_CHARS
        if name in got and len(got[name]) > most:
            drop(name, f"longer than {most} characters")
            del got[name]
    link.model = _model(got, link)
    cfg = link.model.config()
    if "example" in got:
        path = examples().get(got["example"].lower())
        if path is None:
            drop("example", f"the examples are {', '.join(examples()) or 'none here'}")
        else:
            link.values["example"] = path
    _checked(link, drop, got, "without", lambda v: ",".join(parse_parts(v)))
    stage = _checked(link, drop, got, "stage", lambda v: parse_stage_pair(cfg, v, 0)[0]) or 1
    _checked(link, drop, got, "pair", lambda v: parse_stage_pair(cfg, stage, v)[1])
    geo = cfg.stage(stage)
    _checked(link, drop, got, "query", lambda v: query_text(*parse_query_set(v, geo.grid)))
    _checked(link, drop, got, "block", parse_block)
    _checked(link, drop, got, "head", lambda v: _head(v, geo.num_heads, stage))
    _checked(link, drop, got, "target", lambda v: _target(v, cfg))
    _checked(link, drop, got, "tab", _tab)
    _checked(link, drop, got, "lang", lambda v: check_lang(v.lower()))
    return link


def query_text(query: tuple[int, int] | None, added=()) -> str:
    """The address's query: "r,c", and for a query set the patches added to it after the query,
    "r,c;r,c;..." (`parse_query_set` reads it back); "" for none."""
    return ";".join(f"{r},{c}" for r, c in ((query, *added) if query is not None else ()))


def _checked(link: Link, drop, got: dict, name: str, parse):
    """parse(got[name]) into link.values[name]; a refusal is dropped with its sentence."""
    if name not in got or got[name] == "":
        return None
    try:
        value = parse(got[name])
    except (SettingsError, ValueError, KeyError) as exc:
        drop(name, str(exc).strip(". "))
        return None
    link.values[name] = value
    return value


def _head(value: str, num_heads: int, stage: int) -> str:
    h = parse_head(value, num_heads, stage)
    return ALL_HEADS if h is None else str(h)


def _target(value: str, cfg) -> str:
    """The class the evidence explains, by index ("281"), from an index or an ImageNet name."""
    from swinviz.evidence.choices import check_target, class_names

    target = check_target(value, cfg.num_classes)
    if isinstance(target, str):  # a name: its index in the model's head
        target = class_names(cfg.num_classes).index(target)
    return str(target)


def _tab(value: str) -> str:
    kind = value.strip().lower()
    if kind == COMPARE_TAB:
        return COMPARE_TAB
    if kind != LESSON_TAB and kind not in REGISTRY:
        raise ValueError(f"a tab is a figure kind ({', '.join(KINDS)}), {LESSON_TAB} or "
                         f"{COMPARE_TAB}")
    return tab_of(kind)


def _page_defaults() -> dict:
    """The page's model settings as it opens, by name (`app.settings.DEFAULTS`)."""
    return {k: DEFAULTS[k] for k in MODEL_FIELDS}


def _model(got: dict, link: Link) -> ModelSettings:
    """The model settings the link sets (the page's defaults for the rest), checked together;
    a combination the page refuses is dropped whole, with its sentence."""
    asked = {k: got[k] for k in MODEL_KEYS if got.get(k, "") != ""}
    if asked:
        try:
            model = parse_settings(**{**_page_defaults(), **asked})
        except (SettingsError, ValueError) as exc:
            named = ", ".join(f"{k}={short(v, 40, quote=False)}" for k, v in asked.items())
            link.ignored.append(f"{named} ({str(exc).strip('. ')})")
        else:
            link.values.update(asked)
            if "model" in asked:  # as the chooser names it (timm's name works too)
                link.values["model"] = model.model
            return model
    return parse_settings(**_page_defaults())


def address_of(view, shown, tab: str | None = None, lang: str | None = None) -> str:
    """The query string ("?example=cat&stage=3&...") of the view a session shows: the
    example (when the image is one), the model settings that differ from the page's defaults,
    the parts left out, stage, pair, the query, block, head, the class the evidence explains
    (when it is not the top class), tab and language. Reading it back
    (`read_address`) gives the same view."""
    out: dict[str, str] = {}
    if view is not None:
        exp, st = view.exp, view.settings
        if view.example:
            out["example"] = view.example
        defaults = parse_settings(**{**_page_defaults(), "model": st.model})
        requested_window, requested_shift = st.requested
        mine = dict(model=st.model, img_size=st.img_size, window_size=requested_window,
                    shift_size=requested_shift, weights=st.weights, seed=st.seed)
        theirs = dict(model=DEFAULT_MODEL, img_size=defaults.img_size,
                      window_size=defaults.requested[0], shift_size=defaults.requested[1],
                      weights=defaults.weights, seed=defaults.seed)
        out.update({k: str(v) for k, v in mine.items() if v != theirs[k]})
        if exp.without:
            out["without"] = ",".join(exp.without)
        out["stage"], out["pair"] = str(exp.stage), str(exp.pair)
        if view.query is not None:
            out["query"] = query_text(view.query, view.added)
        out["block"] = str(shown.block)
        out["head"] = ALL_HEADS if shown.head is None else str(shown.head)
        ev, top = getattr(exp, "evidence", None), exp.top5 or []
        if ev is not None and top and ev.target != top[0][0]:  # a class picked, not the top
            out["target"] = str(ev.target)
    if tab:
        out["tab"] = tab
    if lang and lang != "en":
        out["lang"] = lang
    return "?" + urlencode(out, safe=",") if out else "?"


# ------------------------------------------------------------------------- in the page

# The page's side: write the server's address (`address_of`, without the tab) into the
# address bar, keeping the tab the page shows (set by the tabs' own select, below).
# The one place the page changes its address (in the page's head). Plotly, under Gradio's
# <base href>, points every gradient, clip path and filter at the full address of the moment
# the figure was drawn (`url("http://host/?...#id")`): after a change of the address those
# references, and the base of later redraws, are moved to the new address, or the colour bars
# lose their gradients.
ADDRESS_JS = """
window.swinvizAddress = (params) => {
  const before = location.href.split('#')[0];
  const text = params.toString();
  if (text === new URLSearchParams(location.search).toString()) return;
  history.replaceState(null, '', text ? '?' + text : location.pathname);
  const after = location.href.split('#')[0];
  for (const gd of document.querySelectorAll('.js-plotly-plot')) {
    if (gd._context && gd._context._baseUrl) gd._context._baseUrl = after;
  }
  for (const name of ['style', 'fill', 'clip-path', 'mask', 'filter']) {
    for (const el of document.querySelectorAll('[' + name + '*="url("]')) {
      const v = el.getAttribute(name);
      if (v.includes(before)) el.setAttribute(name, v.split(before).join(after));
    }
  }
};
"""
WRITE_JS = """(a) => {
  if (!a || !window.swinvizAddress) return;
  const now = new URLSearchParams(location.search);
  const next = new URLSearchParams(a);
  if (now.get('tab') && !next.has('tab')) next.set('tab', now.get('tab'));
  // Gradio's own parameters (__theme=dark) stay: a copied link keeps the theme
  for (const [k, v] of now) if (k.startsWith('__') && !next.has(k)) next.set(k, v);
  window.swinvizAddress(next);
}"""
COPY_JS = """() => {
  const done = (ok) => {
    const b = document.querySelector('#copy-link');
    if (!b) return;
    const t = b.textContent;
    b.textContent = ok ? 'Link copied' : 'Copy it from the address bar';
    setTimeout(() => { b.textContent = t; }, 1500);
  };
  if (navigator.clipboard) {
    navigator.clipboard.writeText(location.href).then(() => done(true), () => done(false));
  } else done(false);
}"""


# A link's tab, on the page's side: the page selects it as a click would (its button in the
# tab bar, or its item in the "More tabs" menu, the tabs that do not fit, in page order) once
# the server has read the link (`wire_address`'s steps; a tab selected before that lost the
# link's example, so nothing ran), and again once the link's run has answered (the model's
# image is shown) unless a person has picked a tab by then: with the CPU busy Gradio's tabs
# can lose a selection while the page mounts (the first tab shown instead; seen in the browser
# tests under load). The server does not select it (`on_address` has no gr.Tabs output): Gradio 6.31
# keeps every output of an event that ran in its loading status for the page's life, and
# each status update (several an event) snapshots such a container with all it holds, every
# tab's figure among them (docs/performance.md).
def link_tab_js() -> str:
    order = [LESSON_TAB, *(kinds[0] for _, kinds, _ in TABS), COMPARE_TAB]
    return """(() => {
  const want = new URLSearchParams(location.search).get('tab');
  const order = ORDER;
  if (!want || !order.includes(want)) return;
  // select the link's tab where it is not; false while the tabs are not there yet
  window.swinvizLinkTab = () => {
    const bar = [...document.querySelectorAll('[role=tab][data-tab-id]')];
    let item = bar.find((b) => b.dataset.tabId === want);
    let shown = item && item.getAttribute('aria-selected') === 'true';
    if (!item) {
      item = [...document.querySelectorAll('.overflow-dropdown button')][
        order.indexOf(want) - bar.length];
      shown = item && item.classList.contains('selected');
    }
    if (!item) return false;
    if (!shown) item.click();
    return true;
  };
  let picked = false;
  document.addEventListener('click', (e) => {
    if (e.isTrusted && e.target.closest && e.target.closest('[role=tab], .overflow-menu')) {
      picked = true;
    }
  }, true);
  const t0 = Date.now();
  let shown = false;  // selected once the link was read (window.swinvizLinkRead)
  const check = () => {  // done: window.swinvizLinkTabDone
    if (picked || Date.now() - t0 > 120000) { window.swinvizLinkTabDone = true; return; }
    if (!shown && window.swinvizLinkRead) shown = window.swinvizLinkTab();
    // the link's run has answered: the model's image is there (in any language; the badge's
    // words are the page's language's)
    const ran = !!document.querySelector('#query-image img[src]');
    if (ran && window.swinvizLinkTab()) window.swinvizLinkTabDone = true;
    else setTimeout(check, shown ? 250 : 50);
  };
  setTimeout(check, 0);
})();""".replace("ORDER", json.dumps(order))


# A phone (a page narrower than NARROW_PX) gets the figures' "narrow" template: one panel
# above the other (swinviz.figures._core.narrow).
NARROW_PX = 700
PHONE_JS = f"() => (window.innerWidth < {NARROW_PX} ? 'narrow' : 'default')"


def tab_js(tab: str) -> str:
    """The page's address says the tab it shows (`tab`: a tab's id)."""
    return ("() => { const u = new URLSearchParams(location.search); u.set('tab', "
            f"{tab!r}); window.swinvizAddress && window.swinvizAddress(u); }}")


def on_address(request: gr.Request):
    """The page opened, first step: its address (`read_address`) sets the model settings, the
    parts left out, the stage, the choices of the pair, block and head pickers for that stage,
    the tab whose figures the run draws first (the page selects the tab itself,
    `link_tab_js`), the language, and #link-note says what was left out. Returns the updates
    for `wire_address`'s first outputs, in order."""
    link = _link(request)
    v = link.values
    keep = gr.update()
    s = v.get("stage") or 1
    pair = v.get("pair", 0)
    tab = v.get("tab")
    lang = v.get("lang", "en")
    return (
        *_model_values(link),
        v["without"].split(",") if v.get("without") else keep,
        str(v["stage"]) if "stage" in v else keep,
        gr.update(choices=pair_choices(s, lang)),
        gr.update(choices=block_choices(pair, lang=lang)),
        gr.update(choices=head_choices(link.model.config().stage(s).num_heads, lang)),
        tab if tab else keep,
        v.get("lang", keep),
        gr.update(value=link.note, visible=bool(link.note)),
        _notice(link),
    )


def _model_values(link: Link) -> list:
    """The settings panel's values for MODEL_KEYS: what the link sets; where it names a model,
    that model's own for the rest (its sizes offered too), so that a link saying only
    model=swinv2-t runs Swin V2-T as the page's chooser would."""
    v, keep, m = link.values, gr.update(), link.model
    named_model = "model" in v
    own = dict(model=m.model, img_size=str(m.img_size), window_size=m.requested[0],
               shift_size=m.requested[1], weights=m.weights)
    out = [v[k] if k in v else own[k] if named_model and k in own else keep
           for k in MODEL_KEYS]
    if named_model:
        i = MODEL_KEYS.index("img_size")
        out[i] = gr.update(choices=[str(s) for s in SIZES_OF[m.model]], value=out[i])
    return out


def _notice(link: Link):
    """The weights notice for the link's model (where the link names one)."""
    return (model_notice(link.model.model, link.values.get("lang") or "en")
            if "model" in link.values else gr.update())


def on_address_values(request: gr.Request):
    """Second step, once the pickers offer the stage's choices: the pair, block and head
    values, the query (it waits in the hidden "query" box for the run) and last the example,
    whose arrival runs the model with every control as the link set it."""
    v = _link(request).values
    keep = gr.update()
    return (str(v["pair"]) if "pair" in v else "0" if "stage" in v else keep,
            str(v["block"]) if "block" in v else keep,
            v.get("head", keep), v.get("query", ""), v.get("target", ""),
            v.get("example", keep))


def _link(request) -> Link:
    return read_address(dict(request.query_params) if request is not None else {})


def page_address(values: Mapping) -> str:
    """The address of what a session shows, given {component: value} ("view", "block",
    "head", "template", "lang"): `address_of` (the tab is the page's own)."""
    named = by_name(values)
    try:
        view, shown = Shown.of(named)
        lang = named.get("lang")
        return address_of(view, shown, lang=lang if isinstance(lang, str) else None)
    except gr.Error:  # a value the figures refuse, or a run dropped: the address stays
        return gr.update()


def wire_address(c, demo: gr.Blocks) -> None:
    """The page reads its address once when it opens and writes it after every change; the
    "copy link" button copies it."""
    kw = dict(api_visibility="private", queue=False, show_progress="hidden", preprocess=False)
    first = [*(c.named[k] for k in MODEL_KEYS), c.without, c.stage, c.pair, c.block, c.head,
             c.open_tab, c.lesson.lang, c.link_note, c.notice]
    demo.load(None, None, [c.template], js=PHONE_JS, **kw)  # before the link's run
    demo.load(on_address, None, first, **kw).then(
        on_address_values, None, [c.pair, c.block, c.head, c.link_query, c.link_target,
                                  c.image_in], **kw).then(
        None, None, None, js="() => { window.swinvizLinkRead = true; }", **kw)
    sources = {c.named[k] for k in ("view", "block", "head", "template")} | {c.lesson.lang}
    gr.on([c.badge.change, c.query_md.change, c.block.change, c.head.change,
           c.plots[EVIDENCE].change], page_address, sources, [c.address],
          trigger_mode="always_last", **kw)
    # a new language (app.lesson.language_changed: why not the switch's own change event)
    c.lang_changed.then(page_address, sources, [c.address], trigger_mode="always_last", **kw)
    c.address.change(None, [c.address], None, js=WRITE_JS, **kw)
    for tab_item, (_, kinds, _) in zip(c.tab_items, TABS, strict=True):
        tab_item.select(None, None, None, js=tab_js(kinds[0]), **kw)
    c.lesson.tab.select(None, None, None, js=tab_js(LESSON_TAB), **kw)
    c.compare_tab.select(None, None, None, js=tab_js(COMPARE_TAB), **kw)
    c.copy_link.click(None, None, None, js=COPY_JS, **kw)
