"""The CLI: every kind and format written, slide-sized PNGs, the lecture deck, the stage / pair /
arch / preset options, clear errors before any work, no tracebacks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image

from swinviz import cli, export, factory, model
from swinviz.figures import KINDS

ROOT = Path(__file__).resolve().parent.parent
CAT = ROOT / "assets" / "cat.jpg"
needs_browser = pytest.mark.requires_browser(  # skips, or fails under CI=true (conftest.py)
    export.find_browser(), what="Chrome/Chromium for static export (kaleido)"
)


@needs_browser
def test_cli_writes_every_kind_and_format(tmp_path):
    out = tmp_path / "figs"
    r = subprocess.run(
        [sys.executable, "-m", "swinviz", "figures", str(CAT), "--out", str(out), "--format",
         "png,svg", "--size", "112", "--query", "20,25", "--head", "all", "--template",
         "lecture", "--weights", "random"],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(f"{k}.{f}" for k in KINDS for f in ("png", "svg"))
    for k in KINDS:
        with Image.open(out / f"{k}.png") as im:
            assert im.width >= 1600, (k, im.size)
        assert (out / f"{k}.svg").read_text()[:200].lstrip().startswith(("<svg", "<?xml"))
    assert f"wrote {2 * len(KINDS)} files" in r.stdout
    assert "#" in r.stderr  # the progress bar


def test_cli_missing_browser_is_a_clear_message(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(export, "find_browser", lambda: None)
    code = cli.main(["figures", str(CAT), "--out", str(tmp_path / "x"), "--kinds", "regions"])
    err = capsys.readouterr().err
    assert code == 2
    assert "needs Chrome or Chromium" in err and "apt-get install -y chromium" in err
    assert not (tmp_path / "x" / "regions.png").exists()


@pytest.mark.parametrize(
    "args,words",
    [
        (["--window", "7", "--shift", "7"], "smaller than the window"),
        (["--size", "222"], "not a multiple of the patch size 4"),
        (["--format", "gif"], "unknown export format"),
        (["--kinds", "windows,pie"], "unknown figure kind"),
        (["--weights", "/nonexistent/ckpt.pth"], "ckpt.pth"),
    ],
)
def test_cli_bad_settings(tmp_path, capsys, args, words):
    code = cli.main(["figures", str(CAT), "--out", str(tmp_path), *args])
    err = capsys.readouterr().err
    assert code == 2
    assert words in err


def test_cli_bad_image(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(export, "find_browser", lambda: "/usr/bin/true")
    bad = tmp_path / "photo.png"
    bad.write_text("not an image at all")
    code = cli.main(["figures", str(bad), "--out", str(tmp_path / "o"), "--kinds", "regions"])
    err = capsys.readouterr().err
    assert code == 2
    assert "not an image" in err


def test_parse_query_and_formats():
    assert cli.parse_query("3,4") == (3, 4)
    assert cli.parse_query("3,4;5,6") == [(3, 4), (5, 6)]  # a query set
    for bad in ("3", "3,4;", "3,4;5", ";".join(["1,1"] * 65)):
        with pytest.raises(Exception, match="ROW,COL"):
            cli.parse_query(bad)
    assert export.parse_formats("PNG, svg") == ("png", "svg")
    with pytest.raises(ValueError):
        export.parse_formats("")


def test_progress_bar_counts(capsys):
    import io

    buf = io.StringIO()
    p = cli.Progress(2, width=10, stream=buf)
    p.step("a")
    p.step("b")
    text = buf.getvalue()
    assert "[#####-----] 1/2" in text and "[##########] 2/2" in text and text.endswith("\n")


def test_padded_sizes_run_and_draw_the_padding(tmp_path, monkeypatch, capsys):
    """A token grid that does not split into whole windows is padded, as the blocks pad it:
    200 px is 50x50 tokens at stage 1 (padded to 56x56), 168 px is 11x11 at stage 3 (to 14x14).
    The CLI runs them and the figures get the padded exploration."""
    written = []
    monkeypatch.setattr(export, "Exporter", lambda: FakeExporter(written))
    seen = []
    real = model.SwinTransformer.explore

    def explore(self, *args, **kwargs):
        exp = real(self, *args, **kwargs)
        seen.append((exp.grid, exp.num_windows))
        return exp

    monkeypatch.setattr(model.SwinTransformer, "explore", explore)
    for size, stage, grid, windows in (("200", "1", (50, 50), 64), ("168", "3", (11, 11), 4)):
        written.clear()
        code = cli.main(["figures", str(CAT), "--out", str(tmp_path / size), "--size", size,
                         "--stage", stage, "--kinds", "windows,regions,masks",
                         "--weights", "random"])
        err = capsys.readouterr().err
        assert code == 0, err
        assert written == [["masks", "regions", "windows"]]
        assert seen[-1] == (grid, windows)  # 8x8 windows of 7x7 over 56x56; 2x2 over 14x14


def test_cli_hostile_input_matrix(tmp_path, monkeypatch, capsys):
    """Issue 5's files through the CLI: odd but valid images export, bad ones get one clear
    line and exit code 2, never a traceback. (Export is faked here; real export is tested
    above.)"""
    from hostile import hostile_files

    written = []
    monkeypatch.setattr(export, "Exporter", lambda: FakeExporter(written))
    built = {}  # one model for every file: the same arguments each time
    real_load = factory.load_model

    def load_once(weights, **kw):
        key = (weights, tuple(sorted(kw.items())))
        if key not in built:
            built[key] = real_load(weights, **kw)
        return built[key]

    monkeypatch.setattr(factory, "load_model", load_once)
    for name, (path, expect) in hostile_files(tmp_path).items():
        written.clear()
        code = cli.main(["figures", str(path), "--out", str(tmp_path / "o"), "--size", "56",
                         "--kinds", "regions,attention", "--weights", "random"])
        err = capsys.readouterr().err
        assert "Traceback" not in err, name
        if expect is None:
            assert code == 0 and written == [["attention", "regions"]], (name, err)
        else:
            assert code == 2 and expect in err.lower() and not written, (name, err)


# ---------------------------------------------------------------- every argument checked first


class FakeExporter:
    """Stands in for export.Exporter (no browser): records the figures' names."""

    def __init__(self, written):
        self.written = written

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

    def export(self, figs, out_dir, formats, width=1600, progress=None):
        self.written.append(sorted(figs))
        return []


@pytest.fixture
def no_work(monkeypatch):
    """Fails the test if the model is built, an image explored, the export browser started, a
    figure exported or the weights looked for."""
    from swinviz import weights

    def refuse(*args, **kwargs):
        raise AssertionError("work started before every argument was checked")

    monkeypatch.setattr(factory, "load_model", refuse)
    monkeypatch.setattr(model.SwinTransformer, "explore", refuse)
    monkeypatch.setattr(export, "export_figures", refuse)
    monkeypatch.setattr(export, "Exporter", refuse)
    monkeypatch.setattr(weights, "default_weights", refuse)
    monkeypatch.setattr(export, "find_browser", lambda: "/usr/bin/true")


def one_sentence(err: str) -> str:
    """stderr must be one line, `error: <sentence>.`, and no traceback."""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and lines[0].endswith("."), err
    return lines[0]


HEADS = "--head must be a whole number from 0 to 2 (stage 1 has 3 heads) or 'all'"
RANGE = "--head must be from 0 to 2 (stage 1 has 3 heads) or 'all'"
SIZE = "--size must be a whole number of pixels from 1 to 1024 (e.g. 224)"
WINDOW = "--window must be a whole number of tokens, at least 1 (e.g. 7)"
WIDTH = "--width must be a whole number of pixels from 200 to 10000 (e.g. 1600)"
DEVICE = "; use auto, cpu, cuda or cuda:N"


@pytest.mark.parametrize(
    "args,words",
    [
        (["--out", "{file}"], "is a file, not a folder; give a folder"),
        (["--out", "{file}/sub"], "cannot be created: '{file}' is a file, not a folder"),
        (["--device", "tpu"], "unknown device 'tpu'" + DEVICE),
        (["--device", "gpu0"], "unknown device 'gpu0'" + DEVICE),
        (["--device", ""], "unknown device ''" + DEVICE),
        (["--head", "two"], HEADS + ", got 'two'"),
        (["--head", "3"], RANGE + ", got 3"),
        (["--head", "-1"], RANGE + ", got -1"),
        (["--query", "-1,3"], "--query -1,3 is outside the 56x56 token grid of a 224 px input; "
                              "ROW and COL must be from 0 to 55"),
        (["--query=-1,3"], "--query -1,3 is outside the 56x56 token grid"),
        (["--query", "99,99"], "--query 99,99 is outside the 56x56 token grid"),
        (["--size", "112", "--query", "0,28"], "--query 0,28 is outside the 28x28 token grid"),
        (["--query", "3"], "--query must be ROW,COL (two whole numbers, e.g. 20,25), or a query "
                           "set of up to 64 such patches split by ';' (20,25;3,3), got '3'"),
        (["--query", "3,4;99,0"], "--query 99,0 is outside the 56x56 token grid"),
        (["--size", "inf"], SIZE + ", got 'inf'"),
        (["--size", "-224"], SIZE + ", got '-224'"),
        (["--size", "0"], SIZE + ", got '0'"),
        (["--size", "100016"], SIZE + ", got '100016'"),  # splits into 7x7 windows: memory
        (["--window", "1e400"], WINDOW + ", got '1e400'"),
        (["--window", "0"], WINDOW + ", got '0'"),
        (["--window", "-7"], WINDOW + ", got '-7'"),
        (["--width", "0"], WIDTH + ", got '0'"),
        (["--width", "-5"], WIDTH + ", got '-5'"),
        (["--width", "1e9"], WIDTH + ", got '1e9'"),
        (["--kinds", "windows,pie"], "--kinds names unknown figure kind(s) pie; choose from"),
        (["--kinds", ","], "--kinds names no figure kind; choose from windows, shift,"),
        (["--format", "bmp"], "--format: unknown export format(s) ['bmp']; choose from png, svg"),
        (["--weights", "/nonexistent/ckpt.pth"],
         "--weights must be auto, random, hub or an existing checkpoint file or folder, and "
         "nothing was found at '/nonexistent/ckpt.pth'"),
        (["--shift", "7"],
         "shift 7 must be smaller than the window 7 (0 <= shift < window); the usual choice is"),
        (["--shift", "-1"], "--shift must be a whole number of tokens, 0 or more (e.g. 3)"),
        (["--block", "2"], "--block must be 0 (the pair's first block, W-MSA) or 1 (its second "
                           "block, SW-MSA), got 2"),
        (["--template", "fancy"],
         "--template must be one of default, lecture, narrow, got 'fancy'"),
        (["--without", "mask,norm"], "--without: unknown part 'norm' to leave out; the parts are "
                                     "'shift', 'mask', 'bias' (any of them)"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_every_bad_argument_is_one_sentence_before_any_work(tmp_path, capsys, no_work, args,
                                                            words):
    file = tmp_path / "taken.txt"
    file.write_text("a file where the output folder should go")
    args = [a.replace("{file}", str(file)) for a in args]
    code = cli.main(["figures", str(CAT), *args] + ([] if "--out" in args else
                                                     ["--out", str(tmp_path / "o")]))
    out, err = capsys.readouterr()
    assert code == 2
    assert words.replace("{file}", str(file)) in one_sentence(err)
    assert out == "" and not (tmp_path / "o").exists()


def test_a_non_image_is_refused_before_the_model(tmp_path, capsys, no_work):
    bad = tmp_path / "notes.png"
    bad.write_text("these are my notes, not a picture")
    code = cli.main(["figures", str(bad), "--out", str(tmp_path / "o")])
    assert code == 2
    assert "This file is not an image Pillow can read (it looks like text)." in one_sentence(
        capsys.readouterr().err)


def test_good_arguments_become_checked_settings(tmp_path):
    s = cli.figure_settings(
        ["figures", str(CAT), "--out", str(tmp_path / "new" / "deeper"), "--size", "112",
         "--query", "0,27", "--head", "ALL", "--device", "cpu", "--kinds", "regions, attention",
         "--shift", "0", "--width", "200", "--format", "SVG", "--block", "0", "--weights", "random",
         "--template", "lecture", "--window", "7"]
    )
    assert s == cli.FigureSettings(
        image=str(CAT), out=tmp_path / "new" / "deeper", formats=("svg",), size=112, window=7,
        shift=0, weights="random", query=(0, 27), block=0, head=None, template="lecture",
        width=200, kinds=("regions", "attention"), device="cpu", command="figures",
        arch="swin_tiny_patch4_window7_224", stage=1, pair=0, preset=None,
    )
    s = cli.figure_settings(["figures", str(CAT), "--out", str(tmp_path), "--query", "3,4;5,6"])
    assert (s.query, s.view.added, s.view.figure_options()["added"]) == ((3, 4), ((5, 6),),
                                                                          ((5, 6),))
    s = cli.figure_settings(["figures", str(CAT), "--out", str(tmp_path), "--head", "2"])
    assert (s.head, s.query, s.shift, s.kinds, s.formats, s.width, s.weights, s.size,
            s.window, s.stage, s.pair, s.template) == (
        2, None, None, KINDS, ("png", "svg"), 1600, "auto", 224, 7, 1, 0, "default")


def test_an_unexpected_failure_is_one_line_and_exit_1(tmp_path, capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the GPU caught fire\nsecond line")

    monkeypatch.setattr(export, "Exporter", lambda: FakeExporter([]))
    monkeypatch.setattr(factory, "load_model", broken)
    monkeypatch.delenv("SWINVIZ_DEBUG", raising=False)
    argv = ["figures", str(CAT), "--out", str(tmp_path / "o"), "--kinds", "regions",
            "--weights", "random"]
    assert cli.main(argv) == 1
    line = one_sentence(capsys.readouterr().err)
    assert "(RuntimeError: the GPU caught fire second line)" in line
    assert "set SWINVIZ_DEBUG=1 to see the traceback" in line
    monkeypatch.setenv("SWINVIZ_DEBUG", "1")
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "the GPU caught fire" in err


def test_resolve_device_names_the_allowed_values():
    from swinviz.model import SettingsError, resolve_device

    for bad in ("tpu", "gpu0", "", "cuda:x", "cuda:", "cpu:0", "mps"):
        with pytest.raises(SettingsError, match="use auto, cpu, cuda or cuda:N"):
            resolve_device(bad)
    assert resolve_device("cpu") == resolve_device(" CPU ") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto") == torch.device(expected)


def test_out_is_a_file_in_a_real_process(tmp_path):
    """`python -m swinviz`: exit code 2, one sentence, no traceback, no model run."""
    taken = tmp_path / "figs"
    taken.write_text("x")
    r = subprocess.run(
        [sys.executable, "-m", "swinviz", "figures", str(CAT), "--out", str(taken)],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
        env={**os.environ, "SWINVIZ_DEBUG": ""},
    )
    assert r.returncode == 2, r.stderr
    assert r.stdout == "" and "#" not in r.stderr  # no progress: nothing ran
    assert f"--out '{taken}' is a file, not a folder" in one_sentence(r.stderr)
    assert taken.read_text() == "x"


def test_a_missing_browser_fails_under_ci_and_skips_otherwise(monkeypatch):
    from conftest import require_browser

    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true makes that a failure"):
        require_browser(None, "Chromium")
    with pytest.raises(pytest.fail.Exception):
        require_browser("/nonexistent/chromium", "Chromium")
    require_browser(sys.executable, "Chromium")  # present: nothing happens
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match="Chromium is missing"):
        require_browser(None, "Chromium")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        require_browser("/nonexistent/chromium", "Chromium")


# ---------------------------------------------------------------- stage, pair, arch, preset


STAGE = "--stage must be from 1 to 4 (as the paper numbers them), got"


@pytest.mark.parametrize("command", ["figures", "lecture"])
@pytest.mark.parametrize(
    "args,words",
    [
        (["--stage", "5"], STAGE + " 5"),
        (["--stage", "0"], STAGE + " 0"),
        (["--stage", "x"], "--stage must be a whole number from 1 to 4, got 'x'"),
        (["--pair", "1"], "--pair 1: stage 1 has 1 block pair (pair 0), got pair 1"),
        (["--pair", "-1"], "--pair -1: stage 1 has 1 block pair (pair 0), got pair -1"),
        (["--pair", "y"], "--pair must be 0 (stage 1 has one block pair), got 'y'"),
        (["--stage", "3", "--pair", "3"],
         "--pair 3: stage 3 has 3 block pairs (pair 0 to 2), got pair 3"),
        (["--stage", "3", "--pair", "1.5"],
         "--pair must be a whole number from 0 to 2 (stage 3 has 3 block pairs), got '1.5'"),
        (["--arch", "swin-x"], "--arch: unknown architecture 'swin-x'; choose swin-t, swin-s, "
                               "swin-b, swin-b-384, swinv2-t, swinv2-s, swinv2-b or a timm name"),
        (["--preset", "fancy"], "--preset must be one of 6x6, got 'fancy'"),
        (["--stage", "3", "--query", "14,0"],
         "--query 14,0 is outside the 14x14 token grid of stage 3 (224 px input); ROW and COL "
         "must be from 0 to 13"),
        (["--stage", "3", "--head", "12"],
         "--head must be from 0 to 11 (stage 3 has 12 heads) or 'all', got 12"),
        (["--stage", "4", "--head", "24"], "from 0 to 23 (stage 4 has 24 heads)"),
        (["--arch", "swin-b", "--head", "4"], "from 0 to 3 (stage 1 has 4 heads)"),
        (["--arch", "swin-b-384", "--query", "96,0"],
         "--query 96,0 is outside the 96x96 token grid of a 384 px input"),
        (["--preset", "6x6", "--query", "6,0"],
         "--query 6,0 is outside the 6x6 token grid of a 24 px input; ROW and COL must be from "
         "0 to 5"),
        (["--preset", "6x6", "--stage", "2", "--query", "3,0"],
         "--query 3,0 is outside the 3x3 token grid of stage 2 (24 px input)"),
        (["--preset", "6x6", "--shift", "3"], "shift 3 must be smaller than the window 3"),
        (["--weights", "/nonexistent/ckpt.pth"], "--weights must be auto, random, hub or"),
    ],
)
def test_new_options_bad_values_are_one_sentence_before_any_work(tmp_path, capsys, no_work,
                                                                 command, args, words):
    code = cli.main([command, str(CAT), "--out", str(tmp_path / "o"), *args])
    out, err = capsys.readouterr()
    assert code == 2
    assert words in one_sentence(err)
    assert out == "" and not (tmp_path / "o").exists()


@pytest.mark.parametrize("args", [["--format", "png"], ["--kinds", "windows"]])
def test_lecture_has_no_format_or_kinds(tmp_path, capsys, no_work, args):
    code = cli.main(["lecture", str(CAT), "--out", str(tmp_path / "o"), *args])
    assert code == 2
    assert f"unrecognized arguments: {' '.join(args)}" in one_sentence(capsys.readouterr().err)


def test_without_names_the_parts_left_out_and_the_lecture_refuses_it(tmp_path, capsys, no_work):
    """Issue 24: --without reaches the one settings object; the lecture teaches Swin whole."""
    s = cli.figure_settings(["figures", str(CAT), "--out", str(tmp_path), "--without",
                             "bias, MASK"])
    assert s.view.without == ("mask", "bias")
    assert cli.figure_settings(["figures", str(CAT), "--out", str(tmp_path)]).view.without == ()
    code = cli.main(["lecture", str(CAT), "--out", str(tmp_path / "o"), "--without", "mask"])
    assert code == 2
    assert "--without is for the figures command" in one_sentence(capsys.readouterr().err)


def test_new_options_become_checked_settings(tmp_path):
    def settings(*args, command="figures"):
        return cli.figure_settings([command, str(CAT), "--out", str(tmp_path), *args])

    s = settings("--preset", "6x6")
    assert (s.size, s.window, s.shift, s.weights, s.stage, s.pair, s.preset, s.arch) == (
        24, 3, 1, "random", 1, 0, "6x6", "swin_tiny_patch4_window7_224")
    s = settings("--preset", " 6X6 ", "--size", "48", "--weights", "hub", "--stage", "2")
    assert (s.size, s.window, s.shift, s.weights, s.stage) == (48, 3, 1, "hub", 2)  # given wins
    s = settings("--arch", "swin-s", "--stage", "3", "--pair", "8", "--head", "11",
                 "--query", "13,13")
    assert (s.arch, s.stage, s.pair, s.head, s.query, s.size, s.window) == (
        "swin_small_patch4_window7_224", 3, 8, 11, (13, 13), 224, 7)
    s = settings("--arch", "swin_base_patch4_window12_384", "--stage", "4")
    assert (s.arch, s.size, s.window, s.stage, s.weights) == (
        "swin_base_patch4_window12_384", 384, 12, 4, "auto")
    s = settings("--stage", "4", "--head", "all", command="lecture")
    assert (s.command, s.template, s.formats, s.kinds, s.stage, s.head) == (
        "lecture", "lecture", ("png",), KINDS, 4, None)


def test_auto_weights_ask_default_weights_and_print_its_notice(tmp_path, monkeypatch, capsys):
    from swinviz import weights

    asked = []
    notice = ("Random weights: no pretrained weights could be had (offline). The windows are "
              "exact,\nbut attention means nothing. To use the pretrained Swin: set X.")

    def fake_default(arch, probe=True):
        asked.append(arch)
        return weights.WeightsChoice("random", "random", notice)

    monkeypatch.setattr(weights, "default_weights", fake_default)
    s = cli.figure_settings(["figures", str(CAT), "--out", str(tmp_path), "--arch", "swin-s"])
    assert cli.resolve_weights(s) == "random" and asked == ["swin_small_patch4_window7_224"]
    err = capsys.readouterr().err
    assert err == "note: " + " ".join(notice.split()) + "\n"  # one line
    s = cli.figure_settings(["figures", str(CAT), "--out", str(tmp_path), "--weights", "random"])
    assert cli.resolve_weights(s) == "random" and len(asked) == 1  # not asked when given

    # a whole run: the notice once, then the model built with what default_weights chose
    written = []
    monkeypatch.setattr(export, "Exporter", lambda: FakeExporter(written))
    built = []
    real_load = factory.load_model
    monkeypatch.setattr(factory, "load_model",
                        lambda weights, **kw: built.append(weights) or real_load(weights, **kw))
    code = cli.main(["figures", str(CAT), "--out", str(tmp_path / "o"), "--size", "56",
                     "--kinds", "regions"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert built == ["random"] and written == [["regions"]]
    assert err.count("note: Random weights") == 1


@needs_browser
def test_lecture_writes_the_deck(tmp_path, capsys):
    """`lecture IMAGE --out DIR --lang zh --theme dark`: the numbered 1920x1080 slides, the
    PPTX, the PDF (one page a slide), the GIF and its frames."""
    from pypdf import PdfReader

    from swinviz.lesson import STEPS, lecture_files

    out = tmp_path / "deck"
    code = cli.main(["lecture", str(CAT), "--out", str(out), "--size", "56", "--weights",
                     "random", "--device", "cpu", "--lang", "zh", "--theme", "dark"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    files = lecture_files()
    assert files[:3] == ["01-title.png", "02-patches.png", "03-cost.png"]
    assert sorted(p.name for p in out.iterdir()) == sorted(files + ["shift-frames"])
    for name in files[:len(STEPS)]:
        with Image.open(out / name) as im:
            assert im.size == (1920, 1080), name
            assert im.getpixel((4, 4))[:3] == (21, 24, 29)  # the dark theme's ground
    assert len(PdfReader(str(out / "lecture.pdf")).pages) == len(STEPS)
    with Image.open(out / "cyclic-shift.gif") as gif:
        assert gif.n_frames == 3 * 4 + 1  # 14x14 tokens, M 7, s 3: steps 0..3, 3 between two
    assert len(list((out / "shift-frames").glob("*.png"))) == 3 + 1
    assert f"wrote {len(files)} files" in captured.out


@pytest.mark.parametrize("option, value, said", [
    ("--lang", "fr", "--lang: unknown language 'fr'; choose from en, zh."),
    ("--theme", "sepia", "--theme: unknown theme 'sepia'; choose from light, dark."),
])
def test_lecture_language_and_theme_are_checked_first(tmp_path, capsys, option, value, said):
    code = cli.main(["lecture", str(CAT), "--out", str(tmp_path / "d"), option, value])
    assert code != 0
    assert said in capsys.readouterr().err
    assert not (tmp_path / "d").exists()


def test_target_names_the_class_the_evidence_figure_explains(tmp_path, capsys, no_work):
    """Issue 27: --target is an ImageNet index or name, checked by the evidence's one rule
    before any work; the evidence pass's memory is counted only when its figure is drawn."""
    def settings(*args):
        return cli.figure_settings(["figures", str(CAT), "--out", str(tmp_path), *args])

    assert settings("--target", "tabby").target == 281
    assert settings("--target", " 281 ").target == 281
    assert settings().target is None
    for args, words in ((["--target", "cat"], "--target: 'cat' names 8 classes"),
                        (["--target", "1000"], "--target must be a class index from 0 to 999"),
                        (["--target", "zebu"], "--target: no ImageNet class is named 'zebu'")):
        assert cli.main(["figures", str(CAT), "--out", str(tmp_path / "o"), *args]) == 2
        assert words in one_sentence(capsys.readouterr().err)
    # 448 px at stage 1 fits the CLI's budget; with the evidence pass counted it is checked too
    from swinviz import budget

    seen = []
    real = budget.check_budget
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(budget, "check_budget",
                   lambda *a, **k: seen.append(k.get("evidence")) or real(*a, **k))
        settings("--kinds", "windows")
        settings("--kinds", "windows,evidence")
    assert seen == [False, True]
