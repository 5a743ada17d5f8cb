"""The phone's figures (template "narrow", `swinviz.figures._core.narrow`): every kind's panels
one above the other inside a 320 px column (small panels, one a head, at most a few a row),
titles over their own panel, colour bars beside their own panel, notes under the plots; the
app picks it on a narrow screen and hides the toolbar there."""

import plotly.graph_objects as go
import pytest

from swinviz import settings
from swinviz.figures import REGISTRY, TEMPLATES, Selection, make_figure
from swinviz.figures._core import get_template, subplots_layout
from swinviz.figures._core.layout import axis_key, fast_figure
from swinviz.figures._core.narrow import narrow_figure, panels_of, restack, rows_of

KINDS = sorted(REGISTRY)
PLACES = ("exp_s1", "exp_s4", "exp_6x6", "exp_padded")
WIDTH = get_template("narrow").width


def _boxes(fig):
    layout = fig.layout.to_plotly_json()
    data = [t.to_plotly_json() for t in fig.data]
    return layout, data, panels_of(layout, data)


def _overlap(a, b, slack=1e-6):
    return (a.x[0] < b.x[1] - slack and b.x[0] < a.x[1] - slack
            and a.y[0] < b.y[1] - slack and b.y[0] < a.y[1] - slack)


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_stacks_its_panels_in_the_phones_column(request, kind, place):
    exp = request.getfixturevalue(place)
    # what restack stacks: the kind drawn for the phone, side by side as drawn (a kind may draw
    # differently for it: the attention figure's few heads a panel each, not tiles)
    wide = REGISTRY[kind].draw(exp, Selection(template="narrow").resolved(exp))
    fig = make_figure(kind, exp, template="narrow")
    layout, data, panels = _boxes(fig)
    assert "width" not in layout and layout["meta"]["template"] == "narrow"
    for p in panels:
        assert 0 <= p.x[0] < p.x[1] <= 1 + 1e-9 and 0 <= p.y[0] < p.y[1] <= 1 + 1e-9, (kind, p)
    for i, a in enumerate(panels):
        for b in panels[i + 1:]:
            assert not _overlap(a, b), f"{kind} at {place}: panels {a} and {b} overlap"
    # a row of the wide figure with up to 4 panels becomes one panel a row; more (one a head)
    # at most WIDTH // 120 a row
    wide_rows = rows_of(panels_of(wide.layout.to_plotly_json(),
                                  [t.to_plotly_json() for t in wide.data]))
    rows = rows_of(panels)
    most = max((len(r) for r in wide_rows), default=0)
    if not layout["meta"].get("small_multiples"):
        assert max((len(r) for r in rows), default=0) <= (1 if most <= 4 else WIDTH // 120), kind
    assert len(panels) == sum(len(r) for r in wide_rows), kind  # none lost
    # each subplot title sits on top of its own panel, inside the column
    for ann in layout.get("annotations", ()):
        if (ann.get("xref"), ann.get("yref"), ann.get("xanchor"), ann.get("yanchor")) == (
                "paper", "paper", "center", "bottom") and ann.get("text"):
            assert any(p.x[0] - 1e-6 <= ann["x"] <= p.x[1] + 1e-6
                       and abs(ann["y"] - p.y[1]) < 1e-6 for p in panels), (kind, ann["text"])
    # colour bars beside their own panel, no taller than it
    by_axes = {p.axes: p for p in panels if p.axes}
    for tr in data:
        bar = tr.get("colorbar")
        if not bar or tr.get("showscale") is False:
            continue
        p = by_axes[(axis_key(tr.get("xaxis") or "x"), axis_key(tr.get("yaxis") or "y"))]
        assert p.y[0] - 1e-6 <= bar["y"] <= p.y[1] + 1e-6, kind
        assert bar["len"] <= p.y[1] - p.y[0] + 1e-6, kind


def test_restack_puts_a_row_of_panels_one_above_the_other_in_reading_order():
    t = get_template("narrow")
    layout, refs = subplots_layout(rows=1, cols=3, subplot_titles=["left", "middle", "right"])
    data = [dict(type="heatmap", z=[[0, 1], [1, 0]], xaxis=refs[(1, c)][0],
                 yaxis=refs[(1, c)][1], showscale=c == 3, colorbar=dict(title=dict(text="v")))
            for c in (1, 2, 3)]
    for c in (1, 2, 3):
        layout[axis_key(refs[(1, c)][1])]["scaleanchor"] = refs[(1, c)][0]
    layout.update(height=400, margin=dict(t=80, b=60, l=60, r=30), title=dict(text="three"))
    layout["annotations"].append(dict(text="a note under the plots", xref="paper",
                                      yref="paper", x=0, y=0, xanchor="left", yanchor="top",
                                      yshift=-60, showarrow=False))
    layout, data = restack(layout, data, t)
    panels = panels_of(layout, data)
    assert [p.x for p in panels] == [(0.0, 1.0)] * 3
    tops = [p.y[1] for p in panels]
    assert tops == sorted(tops, reverse=True)  # left first, at the top
    titles = {a["text"]: a for a in layout["annotations"]}
    for name, p in zip(("left", "middle", "right"), panels, strict=True):
        assert titles[name]["x"] == pytest.approx(0.5) and titles[name]["y"] == pytest.approx(
            p.y[1])
    note = titles["a note under the plots"]
    assert (note["y"], note["yshift"]) == (0, -4)  # still under the plots
    assert data[2]["colorbar"]["y"] == pytest.approx(sum(panels[2].y) / 2)
    # square cells: each panel as tall as the column is wide, plus its title and axis
    plot_h = layout["height"] - layout["margin"]["t"] - layout["margin"]["b"]
    plot_w = t.width - layout["margin"]["l"] - layout["margin"]["r"]
    for p in panels:
        assert (p.y[1] - p.y[0]) * plot_h == pytest.approx(plot_w, abs=1.0)  # px, rounded


def test_a_figure_of_one_panel_a_row_is_left_as_it_is_when_asked():
    fig = go.Figure(go.Scatter(x=[0, 1], y=[1, 0]))
    assert narrow_figure(fig, only_side_by_side=True) is fig
    layout, refs = subplots_layout(rows=1, cols=2)
    two = fast_figure([dict(type="scatter", x=[0], y=[0], xaxis=r[0], yaxis=r[1])
                       for r in refs.values()], layout)
    assert narrow_figure(two, only_side_by_side=True) is not two


def test_the_settings_know_every_template_of_the_figures():
    assert set(settings.TEMPLATES) == set(TEMPLATES)
    assert settings.parse_template("narrow") == "narrow"


def test_the_phones_figures_have_no_toolbar(exp_s1):
    from app.plotting import plot_config

    assert plot_config("attention", make_figure("attention", exp_s1, template="narrow"))[
        "displayModeBar"] is False
    assert "displayModeBar" not in plot_config("attention", make_figure("attention", exp_s1))


def test_the_lessons_picture_on_a_phone_stacks_its_panels(exp_s1):
    from types import SimpleNamespace

    from app.lesson import lesson_outputs
    from swinviz.lesson import STEPS

    view = SimpleNamespace(exp=exp_s1)
    k = next(i for i, s in enumerate(STEPS) if s.name == "shift")
    wide = lesson_outputs(view, k, "", "en")[2]
    narrow = lesson_outputs(view, k, "", "en", "narrow")[2]
    assert max(len(r) for r in rows_of(panels_of(wide.layout.to_plotly_json(),
                                                 [t.to_plotly_json() for t in wide.data]))) == 2
    rows = rows_of(panels_of(narrow.layout.to_plotly_json(),
                             [t.to_plotly_json() for t in narrow.data]))
    assert len(rows) == 2 and all(len(r) == 1 for r in rows)


def test_lines_broken_for_a_panel_beside_others_join_again_as_they_were():
    from swinviz.figures._core.narrow import unwrap

    assert unwrap("Block 0 (W-MSA), head 0:<br>where token") == \
        "Block 0 (W-MSA), head 0: where token"
    assert unwrap("窗口中的注<br>意力头 0") == "窗口中的注意力头 0"  # no space inside Chinese
    assert unwrap("注意力头<br>0：token<br>(6, 6)") == "注意力头 0：token (6, 6)"
    assert unwrap("a<br><sup>b</sup><br><sup>c</sup>") == "a<br><sup>b c</sup>"


def test_a_tall_panel_keeps_its_shape_and_its_bars_their_places_along_it():
    """A column of tiles (the flow figure's grid on a phone) names its x axis in
    layout.meta["tall_panels"]: it keeps its content's shape (4 times as tall as wide here, not
    1.4 times), and its two colour bars stay one above the other, as they were along it."""
    t = get_template("narrow")

    def column(tall: bool):
        layout, refs = subplots_layout(rows=2, cols=1)
        (x1, y1), (x2, y2) = refs[(1, 1)], refs[(2, 1)]
        layout[axis_key(x1)].update(range=[-0.5, 9.5])
        layout[axis_key(y1)].update(range=[39.5, -0.5], scaleanchor=x1)
        layout.update(height=900, margin=dict(t=80, b=60, l=60, r=110))
        if tall:
            layout["meta"] = {"tall_panels": [axis_key(x1)]}
        bars = [dict(y=1, yanchor="top", len=0.2), dict(y=0.75, yanchor="top", len=0.2)]
        data = [dict(type="heatmap", z=[[0, 1]], x0=0, y0=i * 20, xaxis=x1, yaxis=y1,
                     colorbar=dict(bar, title=dict(text=f"bar {i}")))
                for i, bar in enumerate(bars)]
        data.append(dict(type="scatter", x=[0, 1], y=[1, 0], xaxis=x2, yaxis=y2))
        layout, data = restack(layout, data, t)
        plot_h = layout["height"] - layout["margin"]["t"] - layout["margin"]["b"]
        plot_w = t.width - layout["margin"]["l"] - layout["margin"]["r"]
        grid = next(p for p in panels_of(layout, data) if p.axes[0] == axis_key(x1))
        return (grid.y[1] - grid.y[0]) * plot_h / plot_w, grid, [d["colorbar"] for d in data[:2]]

    ratio, grid, bars = column(tall=True)
    assert ratio == pytest.approx(4.0, rel=0.02)
    (top, second) = bars
    assert top["yanchor"] == second["yanchor"] == "top"
    assert top["y"] == pytest.approx(grid.y[1])  # the first at the panel's top ...
    assert top["y"] - top["len"] >= second["y"] - 1e-9  # ... the second below it, apart
    assert grid.y[0] - 1e-6 <= second["y"] - second["len"]
    ratio, _, bars = column(tall=False)
    assert ratio == pytest.approx(1.4, rel=0.02)  # any other panel: at most 1.4 times
    assert bars[0]["y"] == pytest.approx(bars[1]["y"])  # both centred on it


@pytest.mark.parametrize("place", PLACES)
def test_a_phones_tables_keep_every_word_whole(request, place):
    """Every table a figure draws for the phone gives each column at least the width of its
    longest word (plotly breaks cell text only at spaces and cuts the rest): the cost figure's
    module table cut its numbers ("' 091 928") and its headers ("paramete") on a phone, because
    a dotted module name counted as one word ("layers.3.blocks.{0,1}.", its line breaks lost)."""
    from swinviz.figures._core.table import CELL_PAD, _plain, word_px

    exp = request.getfixturevalue(place)
    tables = 0
    for kind in KINDS:
        fig = make_figure(kind, exp, template="narrow")
        margin = fig.layout.margin
        plot_px = WIDTH - (margin.l or 0) - (margin.r or 0)
        for tr in fig.data:
            if tr.type != "table":
                continue
            tables += 1
            x0, x1 = tr.domain.x
            weights = list(tr.columnwidth)
            for j, w in enumerate(weights):
                col_px = w / sum(weights) * (x1 - x0) * plot_px
                texts = [(tr.header.values[j], tr.header.font.size)] + [
                    (c, tr.cells.font.size) for c in tr.cells.values[j]]
                for text, size in texts:
                    for word in _plain(str(text).replace("<br>", " ")).split(" "):
                        assert word_px(word, size, "<b>" in str(text)) <= (
                            col_px - 2 * CELL_PAD), (kind, place, word, round(col_px))
    assert tables  # the cost figure's two tables, the shapes figure's


def test_a_subtitle_of_several_lines_stays_under_its_title(exp_s1):
    """The bias figure's panel subtitle (a <sup> that runs over a line break) was read on a
    phone as plain lines and joined to its title ("... (Δh, Δw) max at Δ = ..."): it stays on
    lines of its own, each in its own <sup>."""
    from swinviz.figures._core.narrow import unwrap

    assert unwrap("t<br><sup>a;<br>b</sup>") == "t<br><sup>a; b</sup>"
    fig = make_figure("bias", exp_s1, template="narrow")
    titles = [a.text for a in fig.layout.annotations
              if (a.text or "").startswith("head 0: bias table")]
    assert titles
    for text in titles:  # the title's lines, then the subtitle's, each in its own <sup>
        lines = text.split("<br>")
        k = next(i for i, x in enumerate(lines) if x.startswith("<sup>"))
        assert k and not [x for x in lines[:k] if "max at" in x or "<sup>" in x], text
        assert all(x.startswith("<sup>") and x.endswith("</sup>") for x in lines[k:]), text
