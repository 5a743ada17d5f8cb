"""The export CLI: every kind and format written, slide-sized PNGs, clear errors, no tracebacks."""

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from swinviz import cli, export
from swinviz.figures import KINDS

ROOT = Path(__file__).resolve().parent.parent
CAT = ROOT / "assets" / "cat.jpg"
needs_browser = pytest.mark.skipif(
    export.find_browser() is None,
    reason="no Chrome/Chromium on this machine (scripts/test.sh installs Debian's chromium)",
)


@needs_browser
def test_cli_writes_every_kind_and_format(tmp_path):
    out = tmp_path / "figs"
    r = subprocess.run(
        [sys.executable, "-m", "swinviz", "figures", str(CAT), "--out", str(out), "--format",
         "png,svg", "--size", "112", "--query", "20,25", "--head", "all", "--template",
         "lecture"],
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
    assert "wrote 20 files" in r.stdout
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
        (["--size", "224", "--window", "12"], "multiple of 48"),
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
    with pytest.raises(Exception, match="ROW,COL"):
        cli.parse_query("3")
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


def test_cli_hostile_input_matrix(tmp_path, monkeypatch, capsys):
    """Issue 5's files through the CLI: odd but valid images export, bad ones get one clear
    line and exit code 2, never a traceback. (Export is faked here; real export is tested
    above.)"""
    from hostile import hostile_files

    written = []

    def fake_export(figs, out_dir, formats, width=1600, progress=None):
        written.append(sorted(figs))
        return []

    monkeypatch.setattr(export, "find_browser", lambda: "/usr/bin/true")
    monkeypatch.setattr(export, "export_figures", fake_export)
    for name, (path, expect) in hostile_files(tmp_path).items():
        written.clear()
        code = cli.main(["figures", str(path), "--out", str(tmp_path / "o"), "--size", "56",
                         "--kinds", "regions,attention"])
        err = capsys.readouterr().err
        assert "Traceback" not in err, name
        if expect is None:
            assert code == 0 and written == [["attention", "regions"]], (name, err)
        else:
            assert code == 2 and expect in err.lower() and not written, (name, err)
