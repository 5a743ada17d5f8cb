"""The one list of figure kinds: KINDS, QUERY_KINDS, tabs and make_figure all read it."""

import importlib

import pytest

from swinviz import figures
from swinviz.figures import KINDS, QUERY_KINDS, REGISTRY, make_figure, registry


def test_kinds_come_from_the_registry_in_deck_order():
    by_order = sorted(REGISTRY.values(), key=lambda k: k.order)
    assert KINDS == tuple(k.name for k in by_order)
    assert KINDS == ("windows", "shift", "regions", "masks", "relpos", "bias", "attention",
                     "flow", "cost", "shapes", "parts", "prediction", "evidence")
    assert QUERY_KINDS == ("attention", "flow", "parts", "evidence")
    assert QUERY_KINDS == tuple(k.name for k in by_order if k.query)
    for kind in REGISTRY.values():  # every registered module draws
        module = importlib.import_module(f"swinviz.figures.{kind.module}")
        assert callable(module.figure), kind.name
        assert kind.title and kind.tab


def test_tabs_group_the_kinds():
    tabs = registry.tabs()
    assert [k for _, ks in tabs for k in ks] == list(KINDS)
    assert dict(tabs)["Cyclic shift"] == ("shift", "regions")
    assert dict(tabs)["Relative position"] == ("relpos", "bias")
    assert tabs[-2:] == [("Prediction", ("prediction",)), ("Class evidence", ("evidence",))]


def test_every_tab_says_what_it_explains_and_the_app_reads_them():
    from app.ui import TABS

    for tab, _ in registry.tabs():
        assert registry.tab_text(tab).startswith("**What you see:**"), tab
    assert registry.tab_text("a tab nobody described") == registry.MORE_TEXT
    assert [(t.split(" · ", 1)[1], ks, x) for t, ks, x in TABS] == [
        (tab, ks, registry.tab_text(tab)) for tab, ks in registry.tabs()]
    assert [t.split(" · ", 1)[0] for t, _, _ in TABS] == [str(i) for i in range(1, len(TABS) + 1)]
    with pytest.raises(ValueError, match="described twice"):
        registry.describe_tab("Masks", "again")


def test_one_registration_per_kind_and_place():
    with pytest.raises(ValueError, match="registered twice"):
        registry.register("windows", "again", tab="x", order=999)
    with pytest.raises(ValueError, match="deck position 10 is taken"):
        registry.register("another", "x", tab="x", order=10)
    assert "another" not in REGISTRY


def test_unknown_kind_names_the_choices():
    with pytest.raises(ValueError, match="unknown figure kind 'slides'; choose from windows, "):
        make_figure("slides", None)
    with pytest.raises(ValueError, match="prediction"):
        registry.get_kind(["not", "hashable"])
    assert set(figures.__all__) >= {"KINDS", "QUERY_KINDS", "Selection", "make_figure",
                                    "make_figures"}
