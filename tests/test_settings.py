"""The one settings object: `swinviz.settings.Settings` (the library's, which the command line
builds) and `app.settings.from_components` (the page's components by name -> every value
checked once), with the sentences of the fields they check."""

from __future__ import annotations

from pathlib import Path

import pytest

from swinviz import SettingsError, get_config
from swinviz.config import shift_sentence, short
from swinviz.settings import Settings

CAT = Path(__file__).resolve().parent.parent / "assets" / "cat.jpg"


def test_settings_parse_checks_every_field_against_the_model():
    cfg = get_config("swin-t")
    s = Settings.parse(cfg, stage="3", pair=2.0, query="(5, 6)", block="0", head="head 11",
                       template=None)
    assert (s.stage, s.pair, s.query, s.block, s.head, s.template) == (3, 2, (5, 6), 0, 11,
                                                                       "default")
    assert s.figure_options() == dict(block=0, head=11, query=(5, 6), added=(), template="default")
    assert Settings.parse(cfg, head="all").head is None
    for kw, field, words in [
            (dict(stage=5), "stage", "stage must be from 1 to 4"),
            (dict(stage="x"), "stage", "stage must be a whole number from 1 to 4"),
            (dict(stage=3, pair=3), "pair", "stage 3 has 3 block pairs"),
            (dict(pair="y"), "pair", "pair must be a whole number"),
            (dict(query="56,0"), "query", "outside the 56x56 token grid"),
            (dict(query="a,b"), "query", "query row must be a whole number"),
            (dict(block=2), "block", "block must be 0 (the pair's first block, W-MSA)"),
            (dict(stage=4, head=24), "head", "stage 4 has 24 heads"),
            (dict(template="fancy"), "template", "template must be one of default, lecture")]:
        with pytest.raises(SettingsError, match=words.replace("(", r"\(").replace(")", r"\)")
                           ) as err:
            Settings.parse(cfg, **kw)
        assert err.value.field == field, kw  # what a front end words as its own control


def test_the_page_settings_come_from_its_components_by_name():
    from app.settings import DEFAULTS, from_components

    page = from_components(dict(img_size="112px", weights="random", stage=2, query="3,3",
                                head="all"))
    assert (page.model.img_size, page.model.weights, page.stage, page.pair) == (112, "random",
                                                                                2, 0)
    assert (page.view.query, page.view.head, page.view.block) == ((3, 3), None, 1)
    with pytest.raises(SettingsError) as err:
        from_components(dict(weights="random", window_size=7, shift_size=9))
    assert str(err.value) == shift_sentence(9, 7)
    with pytest.raises(SettingsError, match="query must be a token"):
        from_components(dict(weights="random", query="x" * 10_000))
    with pytest.raises(TypeError, match="unknown settings colour"):
        from_components(dict(colour="red"))
    assert set(DEFAULTS) >= {"img_size", "stage", "query", "head", "template"}


def test_one_shift_sentence_for_the_library_and_the_app():
    from app.settings import parse_settings
    from swinviz.model import config_for

    with pytest.raises(SettingsError) as lib:
        config_for(window_size=7, shift_size=7)
    with pytest.raises(SettingsError) as page:
        parse_settings(224, 7, 7, "random")
    assert str(lib.value) == str(page.value) == shift_sentence(7, 7)


def test_the_cli_builds_the_same_settings_object(tmp_path):
    from swinviz import cli

    s = cli.figure_settings(["figures", str(CAT), "--out", str(tmp_path), "--stage", "2",
                             "--head", "all", "--query", "3,4", "--weights", "random"])
    assert isinstance(s.view, Settings)
    assert (s.view.stage, s.view.pair, s.view.query, s.view.head) == (2, 0, (3, 4), None)
    assert s.view.config.img_size == s.size


def test_the_cli_checks_its_selection_with_settings_parse_once(tmp_path, monkeypatch):
    """One validation: the command line hands its options as typed to `Settings.parse` (and
    words a refusal as the option) rather than checking them itself."""
    from swinviz import cli

    calls = []
    parse = Settings.parse.__func__

    def spy(cls, config, **kw):
        calls.append(kw)
        return parse(cls, config, **kw)

    monkeypatch.setattr(Settings, "parse", classmethod(spy))
    s = cli.figure_settings(["figures", str(CAT), "--out", str(tmp_path), "--stage", "3",
                             "--pair", "2", "--head", "ALL", "--block", "0", "--weights",
                             "random"])
    assert calls == [dict(stage="3", pair="2", query=None, block="0", head="ALL",
                          template="default", without=None)]
    assert (s.view.stage, s.view.pair, s.view.block, s.view.head) == (3, 2, 0, None)
    assert (s.stage, s.block, s.head) == (s.view.stage, s.view.block, s.view.head)


def test_short_quotes_or_cuts_text():
    assert short("abc") == "'abc'" and short("abc", quote=False) == "abc"
    assert short("x" * 300, 200, quote=False) == "x" * 200 + "…"
