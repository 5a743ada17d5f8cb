"""Hostile inputs met by the library and the CLI: non-regular files, a Photoshop file, settings
over the memory budget, an output folder that cannot be written, a deeply nested checkpoint
header, huge values echoed in messages, the checkpoint folder's listing, the "keep" policy and a
timm checkpoint that carries stale buffers. Each answer is one sentence, quickly, no traceback."""

from __future__ import annotations

import os
import re
import stat
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from PIL import Image

from swinviz import cli, export, factory, model
from swinviz.config import SettingsError, check_stage_pair, get_config, short
from swinviz.image import ImageError, open_image, prepare_image
from swinviz.weights import (
    CheckpointError,
    default_weights,
    list_checkpoint_files,
    read_state_dict,
)

ROOT = Path(__file__).resolve().parent.parent
CAT = ROOT / "assets" / "cat.jpg"


def one_sentence(err: str) -> str:
    """stderr is one line, `error: <sentence>.`, without a traceback."""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and lines[0].endswith("."), err
    return lines[0]


@pytest.fixture
def no_work(monkeypatch):
    """Fails the test if the model is built, an image explored or the export browser started."""

    def refuse(*args, **kwargs):
        raise AssertionError("work started before every argument was checked")

    monkeypatch.setattr(factory, "load_model", refuse)
    monkeypatch.setattr(model.SwinTransformer, "explore", refuse)
    monkeypatch.setattr(export, "Exporter", refuse)
    monkeypatch.setattr(export, "find_browser", lambda: "/usr/bin/true")


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


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "swinviz", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=timeout)


# ------------------------------------------------------------ 1. files that are not regular files


def test_a_fifo_is_refused_by_the_library_and_the_cli_without_blocking(tmp_path):
    fifo = tmp_path / "photo.jpg"
    os.mkfifo(fifo)
    code = ("from swinviz.image import ImageError, open_image\n"
            f"try:\n    open_image({str(fifo)!r})\nexcept ImageError as e:\n    print(e)\n")
    start = time.monotonic()
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                       timeout=60)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    assert "is not a regular file (it is a named pipe (FIFO))" in r.stdout
    r = run_cli("figures", str(fifo), "--out", str(tmp_path / "o"), "--weights", "random")
    assert r.returncode == 2, r.stderr
    assert "is not a regular file (it is a named pipe (FIFO))" in one_sentence(r.stderr)
    assert time.monotonic() - start < 60
    assert not (tmp_path / "o").exists()


def test_devices_folders_and_nul_bytes_are_one_sentence(tmp_path):
    with pytest.raises(ImageError, match=r"'/dev/zero' is not a regular file \(it is a device\)"):
        open_image("/dev/zero")
    with pytest.raises(ImageError, match="is a folder, not an image file"):
        open_image(tmp_path)
    with pytest.raises(ImageError) as err:
        open_image("cat\x00.jpg")
    assert str(err.value) == ("The file name contains a NUL character (\\0), which no file name "
                              "can hold; please check the path.")
    with pytest.raises(CheckpointError) as err:
        read_state_dict("weights\x00.pth")
    assert "embedded null byte" not in str(err.value)
    assert "the checkpoint path contains a NUL character (\\0)" in str(err.value)


# ----------------------------------------------------------------------- 2. a Photoshop file


def psd_bytes(width: int = 6, height: int = 4, rgb=(200, 30, 40)) -> bytes:
    """A minimal valid Photoshop file: header ('8BPS', version 1, 6 reserved bytes, channels,
    height, width, depth 8, colour mode RGB = 3), empty colour-mode data, image resources and
    layer-and-mask sections, then the merged image uncompressed (compression 0), one plane per
    channel."""
    header = b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, height, width, 8, 3)
    sections = struct.pack(">III", 0, 0, 0)
    planes = b"".join(bytes([c]) * (width * height) for c in rgb)
    return header + sections + struct.pack(">H", 0) + planes


def test_a_photoshop_file_loads_its_composite_image(tmp_path, monkeypatch, capsys):
    path = tmp_path / "art.psd"
    path.write_bytes(psd_bytes())
    with Image.open(path) as im:  # the file is valid: Pillow reads it
        assert im.format == "PSD"
        im.load()
        assert im.getpixel((0, 0)) == (200, 30, 40)
    out = open_image(path)
    assert out.size == (6, 4) and out.mode == "RGB" and out.getpixel((5, 3)) == (200, 30, 40)
    with Image.open(path) as im:  # a caller's PSD image: loaded, left where it was
        frame = im.tell()
        assert open_image(im).getpixel((0, 0)) == (200, 30, 40)
        assert im.tell() == frame
    assert prepare_image(path.read_bytes(), 28).size == (28, 28)

    written = []
    monkeypatch.setattr(export, "Exporter", lambda: FakeExporter(written))
    code = cli.main(["figures", str(path), "--out", str(tmp_path / "o"), "--size", "56",
                     "--kinds", "regions", "--weights", "random", "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 0 and "Traceback" not in err, err
    assert written == [["regions"]]


# --------------------------------------------------------------- 3. the CLI's memory budget


@pytest.mark.parametrize("command", ["figures", "lecture"])
@pytest.mark.parametrize(
    "args,need",
    [  # the figures and the deck include the class evidence: its backward pass counts
        (["--size", "1024", "--window", "1000"], "this run needs about 5272.0 GB"),
        (["--size", "224", "--window", "56"], "this run needs about 12.3 GB"),
    ],
)
def test_the_cli_refuses_runs_over_the_budget_before_any_work(tmp_path, monkeypatch, capsys,
                                                              no_work, command, args, need):
    monkeypatch.delenv("SWINVIZ_REQUEST_MB", raising=False)
    monkeypatch.delenv("SWINVIZ_RESPONSE_MB", raising=False)
    start = time.monotonic()
    code = cli.main([command, str(CAT), "--out", str(tmp_path / "o"), "--weights", "random",
                     *args])
    out, err = capsys.readouterr()
    assert time.monotonic() - start < 30
    assert code == 2 and out == ""
    line = one_sentence(err)
    assert need in line
    assert "per-request limit (SWINVIZ_REQUEST_MB)" in line
    assert re.search(r"; --window \d+ or --size \d+ fits\.$", line)  # options that fit
    assert not (tmp_path / "o").exists()


def test_the_cli_budget_follows_swinviz_request_mb(tmp_path, monkeypatch, capsys, no_work):
    monkeypatch.setenv("SWINVIZ_REQUEST_MB", "100")
    code = cli.main(["figures", str(CAT), "--out", str(tmp_path / "o"), "--weights", "random"])
    assert code == 2
    assert "over the 100 MB per-request limit (SWINVIZ_REQUEST_MB)" in one_sentence(
        capsys.readouterr().err)
    monkeypatch.delenv("SWINVIZ_REQUEST_MB")
    s = cli.figure_settings(["figures", str(CAT), "--out", str(tmp_path / "o"), "--arch",
                             "swin-b-384", "--stage", "4"])  # 1 GB: fine for one local run
    assert (s.arch, s.size, s.stage) == ("swin_base_patch4_window12_384", 384, 4)


# ----------------------------------------------------------------- 4. an unwritable --out


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs Linux's /proc")
@pytest.mark.parametrize("out", ["/proc/swinviz-figures", "/proc/swinviz/figures", "/proc"])
def test_an_output_folder_that_cannot_be_made_is_refused_before_the_model(tmp_path, capsys,
                                                                          no_work, out):
    code = cli.main(["figures", str(CAT), "--out", out, "--size", "56", "--weights", "random"])
    assert code == 2
    line = one_sentence(capsys.readouterr().err)
    assert f"--out '{out}' cannot be " in line and "'/proc'" in line


# ---------------------------------------------------------- 5. a deeply nested safetensors header


@pytest.mark.parametrize("header", [b"[" * 100_000, b'{"a":' * 100_000])
def test_a_deeply_nested_safetensors_header_is_a_checkpoint_error(tmp_path, header):
    path = tmp_path / "deep.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header)
    with pytest.raises(CheckpointError) as err:
        read_state_dict(path)
    text = str(err.value)
    assert "as a safetensors file: its header nests deeper than" in text
    assert len(text) < 600 and "recursion" not in text.lower()


# ----------------------------------------------------------- 6. echoes of the input stay short


def test_short_forms():
    assert short(10**308) == "1e+308" and short(-(10**20)) == "-1e+20"
    assert short(123) == "123" and short(1e308) == "1e+308" and short("inf") == "'inf'"
    assert short(10**5000).startswith("~1e+") and len(short(10**5000)) < 12
    assert short("x" * 10_000_000) == "'" + "x" * 60 + "'…"


def test_huge_values_are_echoed_in_short_form():
    from swinviz.model import config_for

    with pytest.raises(SettingsError) as err:
        config_for(img_size=int(1e308))
    assert len(str(err.value)) < 200 and "1e+308" in str(err.value)
    for stage in ("1e308", 1e308, 10**308):
        with pytest.raises(SettingsError) as err:
            check_stage_pair(get_config(), stage, 0)
        assert len(str(err.value)) < 200, stage
    for bad in (dict(stage="x" * 10_000_000, pair=0), dict(stage=1, pair="9" * 10_000_000)):
        with pytest.raises(SettingsError) as err:
            check_stage_pair(get_config(), **bad)
        assert len(str(err.value)) < 200
    with pytest.raises(SettingsError) as err:
        get_config("x" * 10_000_000)
    assert len(str(err.value)) < 400


def test_a_huge_checkpoint_name_is_not_echoed_whole(tmp_path):
    name = "x" * 10_000_000
    for path in (name + ".pth", name + "\x00.pth", "~" + name + "/a.pth",
                 str(tmp_path / "a") + "/b" * 1500):
        with pytest.raises(CheckpointError) as err:
            factory.load_model(path, device="cpu")
        assert len(str(err.value)) < 300, str(err.value)[:300]


@pytest.mark.parametrize(
    "args",
    [
        ["--weights", "x" * 10_000_000],
        ["--weights", "x\x00.pth"],
        ["--out", "o" * 10_000_000],
        ["--arch", "a" * 10_000_000],
        ["--size", "9" * 10_000_000],
        ["--window", "9" * 18],
        ["--window", "9" * 10_000_000],
        ["--query", "1" * 10_000_000],
        ["--kinds", "k" * 10_000_000],
        ["--format", "f" * 10_000_000],
        ["--preset", "p" * 10_000_000],
        ["--template", "t" * 10_000_000],
        ["--pair", "9" * 10_000_000],
        ["--unknown-" + "u" * 10_000_000],
    ],
)
def test_the_cli_echoes_huge_arguments_in_short_form(tmp_path, capsys, no_work, args):
    argv = ["figures", str(CAT), *args]
    if "--out" not in args:
        argv += ["--out", str(tmp_path / "o")]
    code = cli.main(argv)
    assert code == 2
    assert len(one_sentence(capsys.readouterr().err)) < 300


def test_the_cli_refuses_a_huge_image_name_in_one_short_sentence(tmp_path, capsys, no_work):
    code = cli.main(["figures", "i" * 10_000_000, "--out", str(tmp_path / "o")])
    assert code == 2
    assert len(one_sentence(capsys.readouterr().err)) < 300


# ------------------------------------------------------------- 7. which checkpoint by default


@pytest.fixture
def offline_hub(tmp_path, monkeypatch):
    import huggingface_hub.constants as hub_constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.delenv("SWINVIZ_WEIGHTS", raising=False)


def test_default_weights_take_only_what_the_page_lists(tmp_path, monkeypatch, offline_hub):
    folder = tmp_path / "ckpts"
    folder.mkdir()
    (folder / ".a.safetensors").write_bytes(b"hidden")  # a dotfile: never listed
    os.mkfifo(folder / "b.safetensors")  # not a regular file: never opened
    (folder / "c.safetensors").write_bytes(b"unreadable")
    (folder / "d.pth").write_bytes(b"readable")
    (folder / "e.txt").write_bytes(b"not a checkpoint")
    (folder / "f").mkdir()
    (folder / "f" / "model.safetensors").write_bytes(b"a Hugging Face folder")
    real_access = os.access

    def access(path, mode, *args, **kwargs):
        if Path(path).name == "c.safetensors":
            return False
        return real_access(path, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)
    assert list_checkpoint_files(folder) == [folder / "d.pth", folder / "f"]
    assert list_checkpoint_files(tmp_path / "missing") == []
    monkeypatch.setenv("SWINVIZ_CHECKPOINT_DIR", str(folder))
    choice = default_weights(probe=False)
    assert (choice.weights, choice.source) == (folder / "d.pth", "checkpoint folder")
    (folder / "d.pth").unlink()
    assert default_weights(probe=False).weights == folder / "f"


# --------------------------------------------------------- 8. policy "keep" for a model's input


def test_explore_keep_shows_the_whole_non_square_image():
    im = Image.new("RGB", (300, 200), (0, 160, 0))
    im.paste((255, 0, 0), (0, 0, 30, 200))  # red left edge
    im.paste((0, 0, 255), (270, 0, 300, 200))  # blue right edge
    m = factory.load_model("random", img_size=56, device="cpu")
    exp = m.explore(im, policy="keep", predict=False)
    assert exp.image.size == (56, 56) and exp.original_size == (300, 200)
    left, right, middle = (exp.image.getpixel((x, 28)) for x in (1, 54, 28))
    assert left[0] > 200 and left[2] < 60  # the edges the "crop" policy cuts off are kept
    assert right[2] > 200 and right[0] < 60
    assert middle[1] > 120
    assert torch.allclose(exp.pixels[0, :, 0, :], torch.zeros(3, 56), atol=0.02)  # padding
    crop = m.explore(im, policy="crop", predict=False)
    assert crop.image.getpixel((1, 28))[1] > 120  # the crop starts inside the green
    p = prepare_image(im, 56, window_size=1, policy="keep", square=True)
    assert p.size == (56, 56) and p.policy == "keep"


# ------------------------------------------------- 9. the layout from keys that cannot lie


def test_a_timm_checkpoint_with_stale_buffers_in_a_model_wrapper_loads(tmp_path):
    m = factory.load_model("random", device="cpu", seed=3)
    sd = {k: v.clone() for k, v in m.state_dict().items()}
    stale = dict(sd)
    for i, layer in enumerate(m.layers):
        for b in range(len(layer.blocks)):
            stale[f"layers.{i}.blocks.{b}.attn.relative_position_index"] = torch.zeros(
                49, 49, dtype=torch.long)
            stale[f"layers.{i}.blocks.{b}.attn_mask"] = torch.full((4, 49, 49), 7.0)
    path = tmp_path / "timm_with_buffers.pth"
    torch.save({"model": stale}, path)
    loaded = factory.load_model(path, device="cpu", seed=4)
    assert loaded.weights == "timm_with_buffers.pth (timm layout)"
    got = loaded.state_dict()
    assert set(got) == set(sd)
    for k, v in sd.items():
        assert torch.equal(got[k], v), k


def test_list_checkpoint_files_never_opens_a_special_file(tmp_path):
    os.mkfifo(tmp_path / "pipe.pth")
    assert stat.S_ISFIFO(os.stat(tmp_path / "pipe.pth").st_mode)
    assert list_checkpoint_files(tmp_path) == []
