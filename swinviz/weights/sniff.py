"""What a checkpoint file's bytes are, told from the bytes alone (nothing is unpickled).

`kind(data)` names the container (safetensors, a torch.save zip, a legacy torch.save, another
pickle); `describe(data)` says in words what a file that is not a checkpoint looks like (text, an
HTML page, a Git LFS pointer, a truncated zip, an HDF5 file ...), for the error's sentence.
"""

from __future__ import annotations

import io
import zipfile

# How a torch.save file from before PyTorch 1.6 (not a zip) starts: its pickled magic number.
TORCH_LEGACY_MAGIC = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"


def _safetensors_header_len(data: bytes) -> int | None:
    """The header length a safetensors file starts with, if `data` looks like one (an 8-byte
    little-endian length, then a JSON object); None otherwise."""
    if len(data) < 9 or data[8:9] not in (b"{", b"["):
        return None
    n = int.from_bytes(data[:8], "little")
    if n > len(data) - 8 and (
        data[8:9] == b"[" or all(32 <= b < 127 or b in b"\t\n\r" for b in data[:8])
    ):
        return None  # text that happens to have a "{" as its ninth character
    return n


def _zip_names(data: bytes) -> list[str] | None:
    """The member names of a zip archive, or None when its directory cannot be read
    (a truncated or damaged archive)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None


def _is_torch_member(name: str) -> bool:
    return name == "data.pkl" or name.endswith("/data.pkl")


def _first_zip_member(data: bytes) -> str:
    """The file name in a zip's first local header (readable even when the archive is cut)."""
    n = int.from_bytes(data[26:28], "little")
    return data[30 : 30 + n].decode("utf-8", "replace")


def kind_of(data: bytes) -> str:
    """What a checkpoint's bytes are: "safetensors", "torch" (a torch.save zip), "torch-damaged"
    (a torch.save zip without a readable directory), "torch-legacy" (torch.save before 1.6),
    "pickle" (another pickle), or "other"."""
    if _safetensors_header_len(data) is not None:
        return "safetensors"
    if data.startswith(b"PK\x03\x04"):
        names = _zip_names(data)
        if names is None:
            return "torch-damaged" if _is_torch_member(_first_zip_member(data)) else "other"
        return "torch" if any(map(_is_torch_member, names)) else "other"
    if data.startswith(TORCH_LEGACY_MAGIC):
        return "torch-legacy"
    if len(data) >= 2 and data[0] == 0x80 and 2 <= data[1] <= 5:
        return "pickle"
    return "other"


def _text_start(data: bytes) -> str | None:
    """The start of `data` as text, if it is text (UTF-8, printable); else None."""
    head = data[:256]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3 or exc.reason != "unexpected end of data":
            return None
        text = head[: exc.start].decode("utf-8")
    if not text or not all(c.isprintable() or c in "\t\n\r\f" for c in text):
        return None
    return text


def describe(data: bytes) -> str:
    """What a file's bytes look like, in words ("an HTML page", "empty (0 bytes)" ...)."""
    if not data:
        return "empty (0 bytes)"
    text = _text_start(data)
    if text is not None:
        start = text.lstrip()
        shown = repr(start[:40] + ("..." if len(start) > 40 else ""))
        if start.startswith("version https://git-lfs"):
            return (
                "a Git LFS pointer (the small text file Git keeps in place of the weights): "
                "fetch the real file with `git lfs pull`, or download it again"
            )
        lower = start.lower()
        if lower.startswith(("<!doctype html", "<html")) or (
            lower.startswith("<") and "<html" in lower
        ):
            return (
                f"an HTML page, starting {shown} (a web page saved instead of the file? "
                f"download the raw file)"
            )
        if start.startswith(("{", "[")):
            return f"a text file (JSON?), starting {shown}"
        return f"a text file, starting {shown}"
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        names = _zip_names(data)
        if names is None:
            if _is_torch_member(_first_zip_member(data)):
                return (
                    "a PyTorch checkpoint (a torch.save zip archive) that is truncated: "
                    "its zip directory is missing, so the file was cut short (an interrupted "
                    "download or copy?)"
                )
            return "a truncated or damaged zip archive"
        if any(map(_is_torch_member, names)):
            return "a PyTorch checkpoint (a torch.save zip archive) that is damaged"
        shown = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
        npz = bool(names) and all(n.endswith(".npy") for n in names)
        what = "a NumPy .npz archive" if npz else "a zip archive"
        return (
            f"{what} that is not a PyTorch checkpoint (it holds {shown or 'nothing'}; "
            f"torch.save writes <name>/data.pkl)"
        )
    if data.startswith(TORCH_LEGACY_MAGIC):
        return (
            "a legacy PyTorch checkpoint (torch.save before 1.6, not a zip) that is truncated "
            "or damaged"
        )
    if data[0] == 0x80 and len(data) >= 2 and 2 <= data[1] <= 5:
        return "a Python pickle that is not a torch.save file torch.load can read"
    if data.startswith(b"\x1f\x8b"):
        return "a gzip-compressed file (decompress it first)"
    if data.startswith(b"\x89HDF"):
        return "an HDF5 file (Keras / TensorFlow weights?)"
    if data.startswith(b"\x93NUMPY"):
        return "a NumPy .npy array"
    if len(data) < 9:
        return f"{len(data)} bytes of binary data ({data.hex(' ')}), too short to be a checkpoint"
    return f"binary data of an unknown format (it starts {data[:12].hex(' ')})"


