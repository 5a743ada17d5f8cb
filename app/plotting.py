"""Figures as gr.Plot shows them: `swinviz.figures` drawn for a session's view (a placeholder
for a figure that fails), the settings-only figures from the shared cache, the page's meta
(`app.instant`'s click pack, where the image's tokens are) and the Plotly config."""

from __future__ import annotations

import json
import logging

import plotly.graph_objects as go
from gradio.components.plot import PlotData

from swinviz.export import figure_size
from swinviz.figures import KINDS, make_figure

from . import instant
from .picture import resolved_query
from .session import View
from .state import FIGURES

log = logging.getLogger("swinviz.app")
EXPORT_WIDTH = 1600  # slide resolution of the camera button and of the downloaded PNGs
# Figures whose JSON depends only on the settings (model, stage, pair, selection), never on the
# image or the run's timings: drawn once and shared by all sessions (app.state.FIGURES).
# tests/test_app_callbacks.py checks each is the same for two different images.
SETTINGS_KINDS = ("regions", "relpos", "shapes", "bias")


def placeholder(kind: str, message: str, template: str = "default") -> go.Figure:
    """A figure that says why the real one is missing (the rest of the page keeps working)."""
    fig = go.Figure()
    fig.add_annotation(text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
                       font=dict(size=16 if template == "default" else 22, color="#555"))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(title=dict(text=f"{kind}: not available"), template="plotly_white",
                      height=300, meta={"placeholder": True, "kind": kind})
    return fig


def figure_or_placeholder(kind: str, exp, *, block: int = 1, head: int | None = 0,
                          query: tuple[int, int] | None = None, added: tuple = (),
                          template: str = "default", lang: str = "en") -> go.Figure:
    """make_figure, or a placeholder saying why when it fails (a bug): one broken figure must not
    take the page down."""
    try:
        return make_figure(kind, exp, block=block, head=head, query=query, added=added,
                           template=template, lang=lang)
    except Exception as exc:
        log.exception("figure %s failed", kind)
        return placeholder(
            kind, f"This figure could not be drawn ({type(exc).__name__}: {exc}).", template)


def build_figures(view: View, kinds=KINDS, *, block: int = 1, head: int | None = 0,
                  template: str = "default", lang: str = "en") -> dict[str, go.Figure]:
    """The requested figures; a kind that fails (a bug) becomes a placeholder."""
    exp = view.exp  # outside the try: a dropped exploration is the user's message, not a figure's
    return {kind: figure_or_placeholder(kind, exp, block=block, head=head, query=view.query,
                                        added=view.added, template=template, lang=lang)
            for kind in kinds}


def build_plots(view: View, kinds=KINDS, *, block: int = 1, head: int | None = 0,
                template: str = "default", lang: str = "en",
                pack: bool = False) -> list[PlotData]:
    """What gr.Plot shows for each kind, in order. Figures of SETTINGS_KINDS come from the cache
    shared by all sessions (keyed by the model settings, stage, pair, kind and selection); a kind
    that fails becomes a placeholder (never cached). pack=True: the attention figure carries
    the numbers the page needs to redraw it for any query (`app.instant.attention_pack`, in
    layout.meta["click"]), and the attention and flow figures where the image's tokens are and
    which run they show (`add_page_meta`: the flow figure of another query is asked for by the
    page itself, and a click tells the server its token)."""
    exp = view.exp
    query = resolved_query(view)
    out = []
    for kind in kinds:
        if kind in SETTINGS_KINDS:
            key = (view.settings.cache_key(), exp.stage, exp.pair, exp.without, kind, block, head,
                   template, lang, query)
            try:  # (these kinds draw the query alone: a query set is the attention figure's)
                text = FIGURES.get(key, lambda k=kind: plot_text(k, make_figure(
                    k, exp, block=block, head=head, query=view.query, template=template,
                    lang=lang)))
                out.append(PlotData(type="plotly", plot=text))
                continue
            except Exception:  # drawn again below, where a failure becomes a placeholder
                pass
        fig = build_figures(view, (kind,), block=block, head=head, template=template,
                            lang=lang)[kind]
        # the lecture template states the query's strongest keys in its note, and a query set's
        # figure sums several queries: clicks there go to the server
        if pack and instant.INSTANT_CLICKS and kind == "attention" and template == "default" \
                and not view.added and not (fig.layout.meta or {}).get("placeholder"):
            add_click_pack(view, fig, block, head)
        elif kind == "attention" and isinstance(fig.layout.meta, dict):
            # the figure's redraw contract (its traces' roles, its texts' templates) serves the
            # page only with a pack: without one, the figure carries no "click"
            fig.layout.meta = {k: v for k, v in fig.layout.meta.items() if k != "click"}
        if pack and kind in ("attention", "flow"):
            add_page_meta(fig, view.run_id, exp, template, lang)
        out.append(to_plot(kind, fig))
    return out


def add_page_meta(fig: go.Figure, run_id: str, exp, template: str, lang: str = "en") -> None:
    """A figure's layout.meta["page"] for app/instant.js: the run's name, the template, the
    language, and
    where the clickable image's tokens are (`instant.click_geometry`). With it the page finds
    the token of a click (`page_token`) and asks `page_flow` for another query's flow figure."""
    if not run_id:
        return
    meta = fig.layout.meta
    fig.layout.meta = {**(meta if isinstance(meta, dict) else {}),
                       "page": {"run": run_id, "template": template, "lang": lang,
                                **instant.click_geometry(exp)}}


def add_click_pack(view: View, fig: go.Figure, block: int, head: int | None) -> None:
    """Put where the page fetches the attention figure's click pack into its
    layout.meta["click"] (`instant.pack_address`: the pack itself is made when the page asks,
    `app.clicks.page_pack`), beside the figure's own redraw contract
    (swinviz.figures.attention.click); when none can be sent, no "click" at all: the page's
    clicks then go to the server."""
    try:
        possible = bool(view.run_id) and instant.pack_possible(view.exp, block)
    except Exception:  # the pack is a speed-up, never a reason to fail
        log.exception("click pack failed")
        possible = False
    meta = fig.layout.meta if isinstance(fig.layout.meta, dict) else {}
    contract = meta.get("click")  # the figure's own: its traces' roles, its texts' templates
    if possible and isinstance(contract, dict) and contract.get("v") == instant.PACK_VERSION:
        query = resolved_query(view)
        fig.layout.meta = {**meta, "click": {
            **contract, "key": view.run_id, "block": int(block), "head": head,
            "query": [int(query[0]), int(query[1])],
            "pack": instant.pack_address(view.run_id, block, head, query)}}
    else:  # no pack (or a figure without the contract): the page's clicks go to the server
        fig.layout.meta = {k: v for k, v in meta.items() if k != "click"}


def plot_config(kind: str, fig: go.Figure) -> dict:
    """Plotly config for gr.Plot: the camera button saves a PNG at slide resolution; no
    toolbar for the phone's figures ("narrow" template).

    Gradio 6.31's Plot passes the JSON's "config" to Plotly.react (checked in its frontend), so
    `toImageButtonOptions` works: the figure keeps its designed layout size and is scaled up to
    EXPORT_WIDTH pixels wide.
    """
    width, height = figure_size(fig)  # the size the download uses, too
    narrow = (fig.layout.meta or {}).get("template") == "narrow" \
        if isinstance(fig.layout.meta, dict) else False
    return {
        "displaylogo": False,
        # on a phone the toolbar would sit on the title (the page's download button remains)
        **({"displayModeBar": False} if narrow else {}),
        "toImageButtonOptions": {
            "format": "png", "filename": f"swinviz-{kind}", "width": int(width),
            "height": int(height), "scale": EXPORT_WIDTH / float(width),
        },
    }


def plot_text(kind: str, fig: go.Figure) -> str:
    text = fig.to_json()
    assert text.endswith("}")
    return text[:-1] + ',"config":' + json.dumps(plot_config(kind, fig)) + "}"


def to_plot(kind: str, fig: go.Figure) -> PlotData:
    """A figure as gr.Plot's payload, with the Plotly config attached."""
    return PlotData(type="plotly", plot=plot_text(kind, fig))
