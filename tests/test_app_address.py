"""The page's address (issue 25): a link is read with the page's own rules, bad
values are left out with one sentence, and the address written for a view reads back as it."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from app import runs
from app.address import address_of, examples, read_address
from app.session import Shown
from app.state import default_weights_source


def test_the_specs_link_is_read_whole():
    link = read_address(dict(example="cat", stage="3", pair="1", query="5,6", block="0",
                             head="2", tab="attention", lang="zh"))
    assert link.note == ""
    v = link.values
    assert Path(v["example"]).name == "cat.jpg"
    assert (v["stage"], v["pair"], v["query"], v["block"], v["head"], v["tab"], v["lang"]) == (
        3, 1, "5,6", 0, "2", "attention", "zh")


def test_a_kind_opens_its_tab_and_all_heads_and_the_lesson_are_taken():
    v = read_address(dict(tab="regions", head="all")).values
    assert (v["tab"], v["head"]) == ("shift", "all")  # regions sit in the cyclic shift's tab
    assert read_address(dict(tab="lesson")).values["tab"] == "lesson"
    assert read_address(dict(tab="parts")).values["tab"] == "parts"


@pytest.mark.parametrize(("params", "words"), [
    (dict(stage="9"), "stage=9 (stage must be from 1 to 4 (as the paper numbers them), got 9)"),
    (dict(stage="3", pair="7"), "pair=7 (stage 3 has 3 block pairs (pair 0 to 2), got pair 7)"),
    (dict(query="60,1"), "query=60,1 (query (60, 1) is outside the 56x56 token grid"),
    (dict(stage="4", query="7,7"), "outside the 7x7 token grid"),
    (dict(stage="4", head="30"), "head=30 (head must be from 0 to 23 (stage 4 has 24 heads)"),
    (dict(block="2"), "block=2 (block must be 0"),
    (dict(tab="nope"), "tab=nope (a tab is a figure kind"),
    (dict(lang="fr"), "lang=fr (unknown language 'fr'; choose from en, zh)"),
    (dict(example="dog"), "example=dog (the examples are"),
    (dict(colour="red"), "colour=red (not a setting of this page"),
    (dict(without="norm"), "without=norm (unknown part 'norm'"),
    (dict(weights="pretrained", window_size="5"), "window_size=5, weights=pretrained"),
    (dict(img_size="x" * 500), "img_size=" + "x" * 40),
    (dict(target="cat"), "target=cat ('cat' names 8 classes"),
    (dict(target="1000"), "target=1000 (target must be a class index from 0 to 999, got 1000)"),
])
def test_a_bad_value_is_left_out_with_one_sentence(params, words):
    link = read_address(params)
    assert link.note.startswith("Part of this link was left out: ")
    assert words in link.note, link.note
    assert link.note.count(".") >= 1 and "Traceback" not in link.note


def test_a_chinese_links_note_is_said_in_chinese():
    """With lang=zh the note is the page's Chinese sentence around the same parts."""
    en, zh = read_address(dict(stage="9")), read_address(dict(stage="9", lang="zh"))
    assert zh.note.startswith("这个链接有一部分没有用上：") and "Part of" not in zh.note
    part = en.note.removeprefix("Part of this link was left out: ").split(". The rest")[0]
    assert part and part in zh.note


def test_good_values_stay_beside_a_bad_one():
    link = read_address(dict(stage="2", pair="9", query="3,4", head="5"))
    assert link.values == dict(stage=2, query="3,4", head="5")
    assert "pair=9" in link.note


def test_the_address_of_a_view_reads_back_as_the_same_view():
    """A run of the example at stage 3, pair 2, with a query, block 0, all heads, the
    attention tab and Chinese: its address, read back, asks for exactly that."""
    cat = examples()["cat"]
    view = runs.run(cat, img_size=224, weights="random", stage=3, pair=2, query="5,9",
                    block="0", head="all", without="mask")[-1]
    assert view.example == "cat"
    shown = Shown.parse(view, "0", "all", "default")
    address = address_of(view, shown, tab="attention", lang="zh")
    params = dict(parse_qsl(address.removeprefix("?")))
    expected = dict(example="cat", weights="random", without="mask", stage="3", pair="2",
                    query="5,9", block="0", head="all", tab="attention", lang="zh")
    if default_weights_source() == "random":  # the server's default is not written
        del expected["weights"]
    assert params == expected
    link = read_address(params)
    assert link.note == ""
    again = runs.run(link.values["example"], img_size=224, weights="random",
                     stage=link.values["stage"], pair=link.values["pair"],
                     query=link.values["query"], block=link.values["block"],
                     head=link.values["head"], without=link.values["without"])[-1]
    assert (again.exp.stage, again.exp.pair, again.query, again.exp.without) == (
        view.exp.stage, view.exp.pair, view.query, view.exp.without)
    # an image that is not an example has no name to share: the rest of the view still is
    upload = runs.run(Path(cat).read_bytes(), img_size=224, weights="random")[-1]
    assert upload.example is None
    plain = dict(stage="1", pair="0", block="1", head="0")
    if default_weights_source() != "random":
        plain["weights"] = "random"
    assert dict(parse_qsl(address_of(upload, Shown()).removeprefix("?"))) == plain


def test_the_class_the_evidence_explains_is_in_the_address_and_reads_back():
    """Issue 27: a link names the class (an index or an ImageNet name, kept as its index); a
    run for that class writes it back; the top class is not written (it is the default)."""
    assert read_address(dict(target="tabby")).values["target"] == "281"
    assert read_address(dict(target="7")).values["target"] == "7"
    cat = examples()["cat"]
    view = runs.run(cat, img_size=112, weights="random", stage=2)[-1]
    assert "target" not in dict(parse_qsl(address_of(view, Shown()).removeprefix("?")))
    view = runs.run_settings(cat, runs.page_settings(dict(img_size=112, weights="random",
                                                          stage=2)), target="tabby")[-1]
    params = dict(parse_qsl(address_of(view, Shown()).removeprefix("?")))
    assert params["target"] == "281" and view.exp.evidence.target == 281
    assert read_address(params).values["target"] == "281"


def test_a_query_set_is_in_the_address_and_reads_back():
    """A run asked for with a query set ("r,c;r,c", as the API and a link give it): the view
    holds the set, its address writes it, and the address read back runs the same set."""
    cat = examples()["cat"]
    view = runs.run(cat, img_size=224, weights="random", stage=2, query="5,9;0,0;5,9;27,27",
                    block="1", head="0")[-1]
    assert (view.query, view.added) == ((5, 9), ((0, 0), (27, 27)))
    params = dict(parse_qsl(address_of(view, Shown()).removeprefix("?")))
    assert params["query"] == "5,9;0,0;27,27"
    link = read_address(params)
    assert link.note == "" and link.values["query"] == "5,9;0,0;27,27"
    again = runs.run(cat, img_size=224, weights="random", stage=2, query=link.values["query"])
    assert (again[-1].query, again[-1].added) == (view.query, view.added)
    from swinviz.figures import KINDS

    assert "and 2 more attend" in again[KINDS.index("attention")].plot
    bad = read_address(dict(stage="2", query="5,9;28,0"))
    assert "query=5,9;28,0 (query (28, 0) is outside the 28x28 token grid" in bad.note


def test_gradios_own_parameters_are_not_refused():
    """?__theme=dark is Gradio's: a link carrying it is read without a note."""
    link = read_address({"__theme": "dark", "stage": "2"})
    assert link.note == "" and link.values == dict(stage=2)


def test_opening_a_link_outputs_no_container_of_figures():
    """The steps a page runs when it opens (its address read, and what they chain) output no
    container (a tab, the tabs, an accordion): Gradio 6.31 keeps every output of an event that
    ran in its loading status for the page's life, and each status update (several an event:
    every click, every upload) snapshots such a container with everything in it, every tab's
    figure among them. The link's tab is selected by the page (app.address.link_tab_js)."""
    from gradio.blocks import BlockContext

    from app import ui

    demo = ui.build_demo(warm=False)
    deps = demo.config["dependencies"]
    opening = {d["id"] for d in deps if any(t[1] == "load" for t in d["targets"])}
    while True:  # and what follows them
        more = {d["id"] for d in deps if d.get("trigger_after") in opening} - opening
        if not more:
            break
        opening |= more
    assert len(opening) >= 3  # the address's two steps and the page's own step after them
    containers = {demo.fns[i].name: [type(o).__name__ for o in demo.fns[i].outputs
                                     if isinstance(o, BlockContext)] for i in opening}
    assert {name: kinds for name, kinds in containers.items() if kinds} == {}
