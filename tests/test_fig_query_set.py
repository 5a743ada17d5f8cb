"""A query set: patches added to the query (the page's shift-click), whose attention the attention
figure's panel (a) sums (bertviz #125 asks for this). Checked against the figures of each query
alone, the sum's definition; the parsing of "r,c;r,c" and its refusals."""

import numpy as np
import pytest
from conftest import random_picture

from swinviz import SettingsError
from swinviz.config import get_config
from swinviz.figures import make_figure
from swinviz.settings import MAX_QUERY_SET, Settings, parse_query_set


def _on_image(fig, block: int) -> np.ndarray:
    """Panel (a)'s heatmap of `block`: the attention on the token grid (NaN off the windows)."""
    (z,) = [np.array(t.z, dtype=float) for t in fig.data if t.name == f"attention block {block}"]
    return z


def _crossed(fig, block: int) -> set[tuple[float, float]]:
    """The (x, y) of the keys panel (a) crosses out in `block` (masked with -100)."""
    axis = "x2" if block else "x"
    return {(x, y) for t in fig.data if t.name == "masked keys" and t.xaxis == axis
            for x, y in zip(t.x, t.y, strict=True)}


@pytest.mark.parametrize("head", [0, None])
def test_panel_a_sums_the_attention_of_each_query_alone(exp_s1, head):
    """Three queries, two in one window of both blocks and one far off: each key's value is the
    sum of what each query alone gives it, NaN only where no query's window reaches; a key two
    queries share gets both weights."""
    queries = [(20, 19), (20, 20), (40, 8)]
    fig = make_figure("attention", exp_s1, query=queries[0], added=tuple(queries[1:]), head=head)
    for b in (0, 1):
        alone = np.stack([_on_image(make_figure("attention", exp_s1, query=q, head=head), b)
                          for q in queries])
        want = np.nansum(alone, axis=0)
        want[np.isnan(alone).all(axis=0)] = np.nan
        got = _on_image(fig, b)
        np.testing.assert_allclose(got, want, rtol=1e-6, equal_nan=True)
        shared = ~np.isnan(alone[0]) & ~np.isnan(alone[1])
        assert shared.sum() == 49  # (20, 19) and (20, 20) share their window in both blocks
        assert np.nanmax(got) > np.nanmax(alone[0])
    assert "and 2 more attend, summed" in fig.layout.title.text
    stars = [t for t in fig.data if t.name == "added queries"]
    assert len(stars) == 2 and list(stars[0].y) == [20.5 * 4, 40.5 * 4]


def test_a_key_is_crossed_out_only_when_every_query_in_its_window_has_it_masked(exp_s1):
    """The corner window of block 1 (56x56 tokens, M = 7, s = 3: rows and columns 52..55 and,
    wrapped around, 0..2) holds four regions: (55, 55) lies in the 4x4 one of rows and columns
    52..55, (55, 1) in the 4x3 one of rows 52..55 and columns 0..2, so the set crosses out the
    keys of the other two regions (masked for both), not the union of their masks."""
    a, b = (55, 55), (55, 1)
    one, two = (make_figure("attention", exp_s1, query=q) for q in (a, b))
    both = make_figure("attention", exp_s1, query=a, added=(b,))
    assert _crossed(one, 1) != _crossed(two, 1)
    assert _crossed(both, 1) == _crossed(one, 1) & _crossed(two, 1)
    assert (len(_crossed(one, 1)), len(_crossed(two, 1))) == (49 - 16, 49 - 12)
    assert len(_crossed(both, 1)) == 49 - 16 - 12
    assert "every query of the set" in " ".join(a.text for a in both.layout.annotations)


def test_the_query_itself_and_repeats_leave_the_figure_as_it_was(exp_s1):
    plain = make_figure("attention", exp_s1, query=(10, 11))
    same = make_figure("attention", exp_s1, query=(10, 11), added=((10, 11), (10, 11)))
    assert same.to_json() == plain.to_json()
    assert "click" in plain.layout.meta  # a single query: the page may redraw it itself
    twice = make_figure("attention", exp_s1, query=(10, 11), added=((3, 4), (3, 4)))
    assert "and 1 more" in twice.layout.title.text
    assert "click" not in (twice.layout.meta or {})  # a set: the server redraws


def test_a_query_set_on_a_padded_grid_and_at_stage_4(explored, exp_s4):
    """200 px: stage 1's 50x50 tokens padded to 56x56; the sum spans the padded grid too."""
    exp = explored(random_picture(), dict(img_size=200), stage=1, predict=False)
    fig = make_figure("attention", exp, query=(49, 49), added=((0, 0),))
    assert _on_image(fig, 1).shape == (56, 56)
    fig4 = make_figure("attention", exp_s4, query=(0, 0), added=((6, 6), (3, 3)))
    z = _on_image(fig4, 0)  # one window: every key gets all three rows
    np.testing.assert_allclose(np.nansum(z), 3.0, rtol=1e-5)


def test_the_set_in_chinese(exp_s1):
    fig = make_figure("attention", exp_s1, query=(5, 6), added=((7, 8),), lang="zh",
                      template="lecture")
    assert "求和" in fig.layout.title.text
    assert "p 之和" in " ".join(a.text for a in fig.layout.annotations)


@pytest.mark.parametrize("added, sentence", [
    (((99, 0),), "added patch (99, 0) is outside the 56x56 token grid"),
    (((1, 2, 3),), "each added patch must be a (row, col) pair of whole numbers"),
    ((("a", 2),), "each added patch must be a (row, col) pair of whole numbers"),
    (tuple((0, i) for i in range(MAX_QUERY_SET)), f"a query set holds at most {MAX_QUERY_SET}"),
])
def test_bad_added_patches_are_refused_with_a_sentence(exp_s1, added, sentence):
    with pytest.raises(ValueError, match=sentence.replace("(", r"\(").replace(")", r"\)")):
        make_figure("attention", exp_s1, query=(1, 1), added=added)


def test_parse_query_set():
    grid = (8, 8)
    assert parse_query_set("5,6;7,0", grid) == ((5, 6), ((7, 0),))
    assert parse_query_set("5,6; 7,0 ;5,6;", grid) == ((5, 6), ((7, 0),))
    assert parse_query_set([[1, 2], [3, 4]], grid) == ((1, 2), ((3, 4),))
    assert parse_query_set("5,6", grid) == ((5, 6), ())
    assert parse_query_set("5;6", grid) == ((5, 6), ())  # one patch, as parse_query reads it
    assert parse_query_set("", grid) == (None, ())
    with pytest.raises(SettingsError, match=r"query \(9, 0\) is outside the 8x8 token grid"):
        parse_query_set("1,1;9,0", grid)
    with pytest.raises(SettingsError, match=f"more than {MAX_QUERY_SET} patches"):
        parse_query_set(";".join(["1,1"] * (MAX_QUERY_SET + 1)), grid)


def test_settings_carry_the_set_to_the_figures():
    s = Settings.parse(get_config("swin-t"), stage=2, query="3,4;5,6;3,4")
    assert (s.query, s.added) == ((3, 4), ((5, 6),))
    assert s.figure_options()["added"] == ((5, 6),)
    with pytest.raises(SettingsError, match="outside the 28x28 token grid"):
        Settings.parse(get_config("swin-t"), stage=2, query="3,4;30,6")
