"""Checkpoint reading and conversion (swinviz.weights), all offline.

Every checkpoint is built here from one reference: transformers' own SwinForImageClassification
(an independent implementation) with random weights, written out in each layout swinviz reads
(official, timm, torchvision, transformers old and new names) with the extra keys real releases
carry; loading must give back the reference exactly (the logits are compared with transformers
in tests/test_whole_model.py).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from test_whole_model import SMALL, layouts, reference

from swinviz.config import SwinConfig
from swinviz.model import SwinTransformer
from swinviz.weights import (
    HUB_REPO,
    CheckpointError,
    checkpoint_filter_fn,
    default_weights,
    detect_layout,
    hub_checkpoint,
    load_checkpoint,
    read_state_dict,
)


def fresh_model(cfg: SwinConfig = SMALL) -> SwinTransformer:
    torch.manual_seed(1234)  # different from the reference's seed
    return SwinTransformer(cfg).eval()


@pytest.fixture(scope="module")
def hf():
    """transformers' classifier for the small test config, every weight random."""
    return reference(SMALL)


@pytest.fixture(scope="module")
def lay(hf) -> dict[str, dict]:
    """The reference in every layout (see tests/test_whole_model.py)."""
    return layouts(hf, SMALL)


@pytest.fixture(scope="module")
def ref(lay) -> dict[str, torch.Tensor]:
    """The reference in swinviz's own names (timm's)."""
    return {k: v.clone() for k, v in lay["timm"].items()}


def timm_sd(ref: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in ref.items()}


def assert_loaded(model: torch.nn.Module, ref: dict[str, torch.Tensor]) -> None:
    sd = model.state_dict()
    assert set(sd) == set(ref)
    for k, v in ref.items():
        assert torch.equal(sd[k], v), k


# --------------------------------------------------------------------------- loading, per layout


def test_official_pth_with_model_wrapper(ref, lay, tmp_path):
    path = tmp_path / "swin_tiny_patch4_window7_224.pth"
    torch.save(lay["official"], path)  # {"model": sd} with relative_position_index buffers
    model = fresh_model()
    assert load_checkpoint(model, path) == "official"
    assert_loaded(model, ref)


def test_timm_safetensors_and_pth(ref, tmp_path):
    save_file(timm_sd(ref), tmp_path / "model.safetensors")
    torch.save({"state_dict": timm_sd(ref)}, tmp_path / "timm.pth")
    for path in (tmp_path / "model.safetensors", tmp_path / "timm.pth", tmp_path):
        model = fresh_model()
        assert load_checkpoint(model, path) == "timm", path
        assert_loaded(model, ref)


def test_torchvision(ref, lay, tmp_path):
    path = tmp_path / "swin_t-704ceda3.pth"
    torch.save(lay["torchvision"], path)
    model = fresh_model()
    assert load_checkpoint(model, path) == "torchvision"
    assert_loaded(model, ref)


def test_transformers_save_pretrained_folder_and_file(ref, hf, tmp_path):
    hf.save_pretrained(tmp_path / "swin_cls")
    folder = tmp_path / "swin_cls"
    assert (folder / "model.safetensors").is_file()
    for source in (folder, folder / "model.safetensors", str(folder)):
        model = fresh_model()
        assert load_checkpoint(model, source) == "transformers", source
        assert_loaded(model, ref)


def test_transformers_v5_and_classic_names(ref, lay, tmp_path):
    assert "swin.encoder.layers.0.blocks.0.attention.q_proj.weight" in lay["transformers"]
    for name in ("transformers", "transformers-classic"):
        model = fresh_model()
        assert load_checkpoint(model, lay[name]) == "transformers"
        assert_loaded(model, ref)
    torch.save(lay["transformers-classic"], tmp_path / "pytorch_model.bin")
    model = fresh_model()
    assert load_checkpoint(model, tmp_path) == "transformers"  # a folder with pytorch_model.bin
    assert_loaded(model, ref)


@pytest.mark.parametrize("wrapper", ["model", "state_dict", "model_state"])
def test_wrappers_and_ddp_prefix(ref, tmp_path, wrapper):
    path = tmp_path / "swinviz.pt"
    torch.save({wrapper: {f"module.{k}": v for k, v in ref.items()}, "epoch": 3}, path)
    model = fresh_model()
    assert load_checkpoint(model, path) == "timm"
    assert_loaded(model, ref)


def test_detect_layout_and_filter(ref, lay):
    for layout, sd in lay.items():
        expect = {"transformers-classic": "transformers"}.get(layout, layout)
        assert detect_layout(sd) == expect
        converted = checkpoint_filter_fn(sd, fresh_model())
        assert list(converted) == list(fresh_model().state_dict()), layout  # buffers dropped
        for k, v in ref.items():
            assert torch.equal(converted[k], v), (layout, k)
    qkv = checkpoint_filter_fn(lay["transformers-classic"], fresh_model())
    assert qkv["layers.0.blocks.0.attn.qkv.weight"].shape == (72, 24)
    # the merges: official and transformers put them at the end of stage i, timm at the start
    # of stage i + 1
    assert "layers.0.downsample.reduction.weight" in lay["official"]["model"]
    assert torch.equal(converted["layers.1.downsample.reduction.weight"],
                       lay["official"]["model"]["layers.0.downsample.reduction.weight"])


@torch.no_grad()
def test_the_check_has_teeth(ref, lay):
    """k and q swapped in one fused qkv, or two merge children swapped, change the logits."""
    model = fresh_model()
    load_checkpoint(model, ref)
    x = torch.randn(1, 3, SMALL.img_size, SMALL.img_size)
    good = model(x)
    swapped = dict(ref)
    q, k, v = ref["layers.2.blocks.1.attn.qkv.weight"].chunk(3)
    swapped["layers.2.blocks.1.attn.qkv.weight"] = torch.cat([k, q, v])
    load_checkpoint(model, swapped)
    assert (model(x) - good).abs().max() > 1e-3
    merged = dict(ref)
    w = ref["layers.1.downsample.reduction.weight"]  # 2C x 4C: children in 4 blocks of C
    c = w.shape[1] // 4
    merged["layers.1.downsample.reduction.weight"] = torch.cat(
        [w[:, c:2 * c], w[:, :c], w[:, 2 * c:]], dim=1)
    load_checkpoint(model, merged)
    assert (model(x) - good).abs().max() > 1e-3


# --------------------------------------------------------------------------------------- errors


def test_window_mismatch_names_key_and_shapes(ref):
    model = fresh_model(SMALL.with_settings(window_size=6))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(model, ref)
    msg = str(err.value)
    assert "layers.0.blocks.0.attn.relative_position_bias_table" in msg
    assert "(49, 1)" in msg and "(121, 1)" in msg
    assert "window 4" in msg
    for k, v in model.state_dict().items():  # nothing was loaded
        assert torch.equal(v, before[k]), k


def test_partial_checkpoint_names_missing_key(lay):
    sd = {k: v for k, v in lay["official"]["model"].items()}
    del sd["layers.2.blocks.3.mlp.fc2.weight"]
    model = fresh_model()
    before = model.state_dict()["patch_embed.proj.weight"].clone()
    with pytest.raises(CheckpointError, match=r"layers\.2\.blocks\.3\.mlp\.fc2\.weight") as err:
        load_checkpoint(model, sd)
    assert "missing" in str(err.value)
    assert "fc2.bias" not in str(err.value)
    assert torch.equal(model.state_dict()["patch_embed.proj.weight"], before)


def test_partial_transformers_qkv(lay):
    sd = dict(lay["transformers-classic"])
    del sd["swin.encoder.layers.0.blocks.0.attention.self.key.bias"]
    with pytest.raises(CheckpointError, match=r"layers\.0\.blocks\.0\.attn\.qkv\.bias") as err:
        load_checkpoint(fresh_model(), sd)
    assert "encoder.layers.0.blocks.0.attention.self.key.bias" in str(err.value)


def test_not_a_swin_checkpoint(tmp_path):
    resnet = {"conv1.weight": torch.randn(64, 3, 7, 7), "fc.weight": torch.randn(1000, 2048)}
    with pytest.raises(CheckpointError, match="not a Swin checkpoint") as err:
        load_checkpoint(fresh_model(), resnet)
    assert "2 keys" in str(err.value) and "conv1.weight" in str(err.value)
    vit = {"patch_embed.proj.weight": torch.randn(768, 3, 16, 16),
           "blocks.0.attn.qkv.weight": torch.randn(2304, 768)}
    save_file(vit, tmp_path / "vit.safetensors")
    with pytest.raises(CheckpointError, match="not a Swin checkpoint"):
        load_checkpoint(fresh_model(), tmp_path / "vit.safetensors")
    with pytest.raises(CheckpointError, match="not a Swin checkpoint"):
        detect_layout({})


def test_swin_v2_is_refused(ref):
    sd = timm_sd(ref)
    sd["layers.0.blocks.0.attn.logit_scale"] = torch.zeros(3, 1, 1)
    sd["layers.0.blocks.0.attn.cpb_mlp.0.weight"] = torch.zeros(512, 2)
    with pytest.raises(CheckpointError, match="Swin V2"):
        load_checkpoint(fresh_model(), sd)


class _OpenPayload:
    """Unpickling this creates the file `target` (a stand-in for arbitrary code)."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self):
        return (open, (str(self.target), "w"))


class _ShellPayload(_OpenPayload):
    """Unpickling this runs a shell command that creates `target`."""

    def __reduce__(self):
        return (os.system, (f"touch '{self.target}'",))


@pytest.mark.parametrize("payload", [_OpenPayload, _ShellPayload])
def test_malicious_pickle_is_refused_without_running_it(tmp_path, payload):
    marker = tmp_path / "marker"
    path = tmp_path / "evil.pth"
    torch.save({"model": {"patch_embed.proj.weight": payload(marker)}}, path)
    with pytest.raises(CheckpointError, match="refusing to unpickle arbitrary objects"):
        load_checkpoint(fresh_model(), path)
    assert not marker.exists()
    with pytest.raises(CheckpointError, match="arbitrary objects"):
        read_state_dict(path)
    assert not marker.exists()
    # control: the payload is live, an unsafe load does run it
    torch.load(path, weights_only=False)
    assert marker.exists()


def test_unreadable_and_missing_paths(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(fresh_model(), tmp_path / "nope.pth")
    empty = tmp_path / "empty_folder"
    empty.mkdir()
    with pytest.raises(CheckpointError, match="model.safetensors"):
        read_state_dict(empty)
    torch.save([torch.zeros(1)], tmp_path / "list.pt")
    with pytest.raises(CheckpointError, match="state dict"):
        read_state_dict(tmp_path / "list.pt")


def test_hub_offline_gives_clear_error(tmp_path, monkeypatch):
    import huggingface_hub.constants as hub_constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    # huggingface_hub reads these at import time; set what it already read too
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(tmp_path / "hf_home" / "hub"))
    assert HUB_REPO == "timm/swin_tiny_patch4_window7_224.ms_in1k"
    for kwargs in ({"cache_dir": tmp_path / "cache"}, {}):
        with pytest.raises(CheckpointError, match="Hugging Face") as err:
            hub_checkpoint(**kwargs)
        assert "weights='random'" in str(err.value)
    assert not os.path.exists(tmp_path / "cache" / "models--timm--swin_tiny_patch4_window7_224")


def test_default_weights_offline_is_random_with_a_notice(tmp_path, monkeypatch):
    import huggingface_hub.constants as hub_constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.delenv("SWINVIZ_WEIGHTS", raising=False)
    monkeypatch.delenv("SWINVIZ_CHECKPOINT_DIR", raising=False)
    choice = default_weights()
    assert choice.weights == "random" and not choice.pretrained
    assert "HF_HUB_OFFLINE" in choice.notice and "SWINVIZ_WEIGHTS" in choice.notice
    assert "hf download timm/swin_tiny_patch4_window7_224.ms_in1k" in choice.notice
    (tmp_path / "mine.safetensors").write_bytes(b"x")
    monkeypatch.setenv("SWINVIZ_WEIGHTS", str(tmp_path / "mine.safetensors"))
    choice = default_weights()
    assert choice.weights == tmp_path / "mine.safetensors" and choice.source == "SWINVIZ_WEIGHTS"
    monkeypatch.delenv("SWINVIZ_WEIGHTS")
    monkeypatch.setenv("SWINVIZ_CHECKPOINT_DIR", str(tmp_path))
    assert default_weights().source == "checkpoint folder"


# ------------------------------------------------- bad files: every failure a CheckpointError

_EXPECTED_FILES = (
    "Expected a .safetensors file, a PyTorch state dict saved with torch.save "
    "(.pth, .pt, .bin, .ckpt), or a Hugging Face model folder"
)


def _safetensors_bytes(header: object, data: bytes = b"") -> bytes:
    """A safetensors file by hand: an 8-byte little-endian header length, the JSON header, the
    data (so that broken headers can be written too)."""
    import json
    import struct

    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def _torch_bytes(obj: object, **kwargs) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf, **kwargs)
    return buf.getvalue()


def _bad_contents() -> dict[str, tuple[bytes, str]]:
    """Contents of files that are not readable checkpoints: file name -> (bytes, a regex that
    the CheckpointError must match, saying what the file is)."""
    import io
    import pickle
    import struct
    import zipfile

    from safetensors.torch import save

    sd = {"a": torch.arange(1000.0)}
    zipped = _torch_bytes({"a": torch.arange(100000.0)})
    legacy = _torch_bytes(sd, _use_new_zipfile_serialization=False)
    good = save(sd)
    notes = io.BytesIO()
    with zipfile.ZipFile(notes, "w") as zf:
        zf.writestr("notes.txt", "hello")
        zf.writestr("readme.md", "# hi")
    npz = io.BytesIO()
    with zipfile.ZipFile(npz, "w") as zf:
        zf.writestr("w.npy", b"\x93NUMPY")
    truncated_zip = "torch.save zip archive\\) that is truncated"
    truncated_legacy = r"legacy PyTorch checkpoint \(torch.save before 1.6.*\) that is truncated"
    files: dict[str, tuple[bytes, str]] = {
        "text.pth": (b"hello world\nthis is not a checkpoint\n", "a text file, starting 'hello"),
        "empty.pth": (b"", "it is empty \\(0 bytes\\)"),
        "empty.safetensors": (b"", "it is empty \\(0 bytes\\)"),
        "page.pth": (b"<!DOCTYPE html>\n<html><head><title>Swin</title></head></html>",
                     "an HTML page, starting '<!DOCTYPE html>"),
        "lfs.pth": (b"version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 9\n",
                    "a Git LFS pointer .*git lfs pull"),
        "config.bin": (b'{"architectures": ["SwinModel"]}', "a text file \\(JSON\\?\\)"),
        "zip_cut_997.pth": (zipped[:997], truncated_zip),
        "zip_cut_4985.pth": (zipped[:4985], truncated_zip),  # "[Errno 22]" before
        "zip_cut_half.pth": (zipped[: len(zipped) // 2], truncated_zip),
        "legacy_cut_half.pth": (legacy[: len(legacy) // 2], truncated_legacy),
        "legacy_cut_100.pth": (legacy[:100], truncated_legacy),
        "legacy_cut_30.pth": (legacy[:30], truncated_legacy),
        "notes.pth": (notes.getvalue(),
                      "a zip archive that is not a PyTorch checkpoint \\(it holds notes.txt"),
        "arrays.pt": (npz.getvalue(), "a NumPy .npz archive that is not a PyTorch checkpoint"),
        "plain_pickle.pth": (pickle.dumps({"a": 1}, protocol=4),
                             "a Python pickle that is not a torch.save file"),
        "list.pth": (_torch_bytes([torch.zeros(1)]), "holds a list of 1 item, not a state dict"),
        "tensor.pt": (_torch_bytes(torch.zeros(2, 3)),
                      "holds a single tensor of shape \\(2, 3\\), not a state dict"),
        "no_tensors.ckpt": (_torch_bytes({"epoch": 3, "name": "swin"}),
                            "none of them a tensor \\('epoch': int, 'name': str\\)"),
        "short.safetensors": (b"\x01\x02\x03", "3 bytes of binary data"),
        "text.safetensors": (b"definitely not a checkpoint" * 10, "a text file, starting 'def"),
        "cut.safetensors": (good[: len(good) // 2],
                            "its tensors need 4,000 bytes of data, but the file holds only"),
        "huge_header.safetensors": (struct.pack("<Q", 2**40) + good[8:],
                                    "its header claims to be 1,099,511,627,776 bytes long"),
        "not_json.safetensors": (struct.pack("<Q", 10) + b"{notjson!!" + b"x" * 10,
                                 "its 10-byte header is not valid JSON"),
        "list_header.safetensors": (_safetensors_bytes([1, 2]), "its header is a JSON list"),
        "unknown_dtype.safetensors": (
            _safetensors_bytes({"w": {"dtype": "XX", "shape": [4], "data_offsets": [0, 16]}},
                               bytes(16)),
            "its tensor 'w' has the unknown dtype 'XX'"),
        "f8_e8m0.safetensors": (
            _safetensors_bytes({"w": {"dtype": "F8_E8M0", "shape": [4], "data_offsets": [0, 4]}},
                               bytes(4)),
            "its tensor 'w' has dtype F8_E8M0, which swinviz does not read"),
        "bad_shape.safetensors": (
            _safetensors_bytes({"w": {"dtype": "F32", "shape": [5], "data_offsets": [0, 16]}},
                               bytes(16)),
            "invalid shape, data type, or offset for tensor \\(dtypes in the file: F32\\)"),
    }
    return files


def bad_checkpoints(root: Path) -> dict[str, tuple[Path, str]]:
    """The files of `_bad_contents`, written under `root`: name -> (path, regex)."""
    out = {}
    for name, (data, pattern) in _bad_contents().items():
        (root / name).write_bytes(data)
        out[name] = (root / name, pattern)
    return out


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory) -> dict[str, tuple[Path, str]]:
    return bad_checkpoints(tmp_path_factory.mktemp("bad"))




@pytest.mark.parametrize("name", sorted(_bad_contents()))
def test_bad_file_is_one_sentence_naming_file_size_and_kind(bad_files, name):
    import re

    path, pattern = bad_files[name]
    with pytest.raises(CheckpointError) as err:
        read_state_dict(path)
    assert type(err.value) is CheckpointError
    msg = str(err.value)
    assert re.search(pattern, msg), msg
    n = path.stat().st_size
    size = f"{n} byte{'' if n == 1 else 's'}" if n < 1024 else f"{n / 1024:.1f} KiB"
    assert f"{path} ({size})" in msg, msg  # the file and its size
    assert _EXPECTED_FILES in msg, msg  # what was expected
    assert "\n" not in msg and "Traceback" not in msg
    # load_stage1 (what load_model and the CLI call) gives the same error
    with pytest.raises(CheckpointError, match=re.escape(msg[:60])):
        load_checkpoint(fresh_model(), path)


def _refuse_open(monkeypatch, path: Path, error: BaseException) -> list[str]:
    """Make `open(path)` raise `error` (every other open works); returns the paths tried."""
    import builtins

    real_open = builtins.open
    tried: list[str] = []

    def guarded_open(file, *args, **kwargs):
        if isinstance(file, (str, os.PathLike)) and os.fspath(file) == str(path):
            tried.append(os.fspath(file))
            raise error
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    return tried


class _Opened(Exception):
    """Raised by a guarded open(): the file was opened although it must not be."""


def test_symlink_loop_and_broken_link(tmp_path):
    loop = tmp_path / "loop.pth"
    os.symlink(tmp_path / "loop2.pth", loop)
    os.symlink(loop, tmp_path / "loop2.pth")
    with pytest.raises(CheckpointError, match="loop.pth: it is a symbolic link loop"):
        read_state_dict(loop)
    os.symlink(tmp_path / "gone.pth", tmp_path / "broken.pth")
    with pytest.raises(CheckpointError, match="broken.pth is a symbolic link to .*gone.pth, "
                                              "which does not exist"):
        read_state_dict(tmp_path / "broken.pth")


def test_folder_without_model_files(tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "weights.pth").write_bytes(b"")
    with pytest.raises(CheckpointError) as err:
        read_state_dict(folder)
    assert "holds no model.safetensors or pytorch_model.bin (it holds: config.json, weights.pth)" \
        in str(err.value)
    assert _EXPECTED_FILES in str(err.value)


def test_pipe_is_not_opened(tmp_path, monkeypatch):
    pipe = tmp_path / "pipe.pth"
    os.mkfifo(pipe)
    _refuse_open(monkeypatch, pipe, _Opened("a pipe was opened (it would block)"))
    with pytest.raises(CheckpointError, match="pipe.pth is not a regular file"):
        read_state_dict(pipe)


def test_unreadable_file(ref, tmp_path, monkeypatch):
    import errno

    # chmod where that binds (not as root), else an open() that refuses like the kernel would
    locked = tmp_path / "locked.pth"
    torch.save(ref, locked)
    locked.chmod(0)
    if os.access(locked, os.R_OK):
        _refuse_open(monkeypatch, locked, PermissionError(errno.EACCES, "Permission denied",
                                                          str(locked)))
    with pytest.raises(CheckpointError, match="locked.pth: permission denied .* not readable by "
                                              "this user"):
        read_state_dict(locked)


def test_too_large_is_refused_before_reading(tmp_path, monkeypatch):
    from swinviz import weights

    limit = weights.MAX_CHECKPOINT_BYTES
    assert limit == 2 * 1024**3  # the documented limit
    for name in ("huge.safetensors", "huge.pth"):
        path = tmp_path / name
        with open(path, "wb") as f:
            f.truncate(limit + 1)  # sparse: no disk used, nothing to read
        tried = _refuse_open(monkeypatch, path, _Opened("a too-large checkpoint was opened"))
        with pytest.raises(CheckpointError) as err:
            read_state_dict(path)
        assert f"is {limit + 1:,} bytes (2.0 GiB), more than the {limit:,} bytes " \
               f"(MAX_CHECKPOINT_BYTES) swinviz reads, so it was not read" in str(err.value)
        assert tried == []
        monkeypatch.undo()


def test_files_are_read_by_content_never_unpickling_code(ref, tmp_path):
    """A safetensors file named .pth and a torch.save file named .safetensors both load; a
    malicious pickle named .safetensors is refused without running."""
    save_file(timm_sd(ref), tmp_path / "renamed.pth")
    torch.save(timm_sd(ref), tmp_path / "renamed.safetensors")
    for name in ("renamed.pth", "renamed.safetensors"):
        model = fresh_model()
        assert load_checkpoint(model, tmp_path / name) == "timm"
        assert_loaded(model, ref)
    marker = tmp_path / "marker"
    for kwargs in ({}, {"_use_new_zipfile_serialization": False}):
        path = tmp_path / "evil.safetensors"
        torch.save({"model": {"x": _ShellPayload(marker)}}, path, **kwargs)
        with pytest.raises(CheckpointError, match="refusing to unpickle arbitrary objects .*"
                                                  "it references posix.system"):
            read_state_dict(path)
        assert not marker.exists()


# ------------------------------------------------------------------ the Hub, offline and quick

_HUB_FOLDER = "models--timm--swin_tiny_patch4_window7_224.ms_in1k"


def hub_cache(root: Path, snapshots: dict[str, bytes], main: str) -> Path:
    """A Hugging Face Hub cache as huggingface_hub lays it out, holding `model.safetensors` of
    `HUB_REPO` at each commit in `snapshots`: blobs/<sha256> with the bytes,
    snapshots/<commit>/model.safetensors a relative link to its blob, refs/main = `main`.
    Returns the path of the file at `main`."""
    import hashlib

    assert HUB_REPO == "timm/swin_tiny_patch4_window7_224.ms_in1k"
    repo = root / _HUB_FOLDER
    (repo / "blobs").mkdir(parents=True)
    (repo / "refs").mkdir()
    for commit, data in snapshots.items():
        blob = hashlib.sha256(data).hexdigest()
        (repo / "blobs" / blob).write_bytes(data)
        (repo / "snapshots" / commit).mkdir(parents=True)
        link = repo / "snapshots" / commit / "model.safetensors"
        os.symlink(Path("..", "..", "blobs", blob), link)
    (repo / "refs" / "main").write_text(main)
    return repo / "snapshots" / main / "model.safetensors"


@pytest.fixture
def no_network(monkeypatch):
    """Every socket connection and name lookup raises (and is recorded); time.sleep records
    instead of sleeping, so a retry loop shows up (and takes no time)."""
    import errno
    import socket
    import time
    from types import SimpleNamespace

    calls: list[str] = []
    sleeps: list[float] = []

    def refuse(name):
        def call(*args, **kwargs):
            calls.append(name)
            raise OSError(errno.ENETUNREACH, f"network disabled in the tests ({name})")
        return call

    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    monkeypatch.setattr(socket.socket, "connect", refuse("connect"))
    monkeypatch.setattr(time, "sleep", sleeps.append)
    return SimpleNamespace(calls=calls, sleeps=sleeps)


def _hub_settings(monkeypatch, cache: Path, offline: bool) -> None:
    """HF_HUB_OFFLINE and HF_HUB_CACHE, in the environment and in what huggingface_hub read
    from it at import."""
    import huggingface_hub.constants as hub_constants

    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    if offline:
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    else:
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", offline)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(cache))


def test_hub_checkpoint_comes_from_the_hub_cache_without_network(ref, tmp_path, monkeypatch,
                                                                 no_network):
    cache = tmp_path / "hub"
    stale = {k: torch.zeros_like(v) for k, v in timm_sd(ref).items()}
    from safetensors.torch import save

    old, new = "a" * 40, "b" * 40
    expected = hub_cache(cache, {old: save(stale), new: save(timm_sd(ref))}, main=new)
    for offline in (False, True):
        _hub_settings(monkeypatch, cache, offline)
        for kwargs in ({}, {"cache_dir": cache}):
            path = hub_checkpoint(**kwargs)
            assert path == expected, (offline, kwargs)
            model = fresh_model()
            assert load_checkpoint(model, path) == "timm"
            assert_loaded(model, ref)  # main's weights, not the stale snapshot's
    assert no_network.calls == []  # cached: the Hub is not asked, online or offline
    assert no_network.sleeps == []


def test_hub_offline_empty_cache_says_how_to_get_weights(tmp_path, monkeypatch, no_network):
    cache = tmp_path / "empty_hub"
    cache.mkdir()
    _hub_settings(monkeypatch, cache, offline=True)
    for kwargs in ({}, {"cache_dir": cache}):
        with pytest.raises(CheckpointError) as err:
            hub_checkpoint(**kwargs)
        msg = str(err.value)
        assert f"not in the local Hugging Face cache ({cache})" in msg
        assert "HF_HUB_OFFLINE is set" in msg
        command = f"hf download {HUB_REPO} model.safetensors"
        if kwargs:
            command += f" --cache-dir {cache}"
        assert f"`{command}`" in msg
        assert "weights='random'" in msg
    assert no_network.calls == []  # HF_HUB_OFFLINE=1: straight to the cache, no network at all
    assert no_network.sleeps == []
    assert list(cache.iterdir()) == []


def test_hub_unreachable_is_one_try_without_retries(tmp_path, monkeypatch, no_network):
    cache = tmp_path / "empty_hub"
    _hub_settings(monkeypatch, cache, offline=False)
    for _ in range(2):  # huggingface_hub's first request in a process also fetches a registry
        no_network.calls.clear()
        with pytest.raises(CheckpointError) as err:
            hub_checkpoint()
    msg = str(err.value)
    assert "the Hugging Face Hub (https://huggingface.co) did not answer" in msg
    assert "network disabled in the tests" in msg  # the reason, from the one request
    assert f"`hf download {HUB_REPO} model.safetensors`" in msg
    assert len(no_network.calls) == 1  # one connection attempt, no retries
    assert no_network.sleeps == []  # and no backoff


def test_load_model_hub_loads_the_whole_swin_t_from_the_hub_cache(tmp_path, monkeypatch,
                                                                   no_network):
    """Pretrained by default, offline: a Swin-T checkpoint built here sits in a Hub cache under
    timm's real repo id and file name; with HF_HUB_OFFLINE=1, load_model("hub") and the
    default-weights rule find it through huggingface_hub's own cache lookup."""
    from safetensors.torch import save

    from swinviz import load_model

    torch.manual_seed(7)
    swin_t = SwinTransformer("swin-t")
    sd = {k: v.contiguous() for k, v in swin_t.state_dict().items()}
    cache = tmp_path / "hub"
    hub_cache(cache, {"c0ffee": save(sd)}, main="c0ffee")
    _hub_settings(monkeypatch, cache, offline=True)
    choice = default_weights()
    assert (choice.weights, choice.source, choice.notice) == ("hub", "hub cache", None)
    model = load_model("hub", device="cpu", seed=99)
    assert model.pretrained and "Hugging Face Hub" in model.weights
    for k, v in sd.items():
        assert torch.equal(model.state_dict()[k], v), k
    assert not no_network.calls
