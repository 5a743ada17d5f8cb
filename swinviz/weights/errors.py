"""What every failure of the weights says: one exception type, and the pieces of its sentences.

A checkpoint that cannot be read, recognised or loaded is a `CheckpointError` whose message names
the file (`path_text`), its size (`size_text`) and what was expected (`EXPECTED`).
"""

from __future__ import annotations

import os

PICKLE_SUFFIXES = (".pth", ".pt", ".bin", ".ckpt")
FOLDER_FILES = ("model.safetensors", "pytorch_model.bin")  # the Hugging Face layout
EXPECTED = (
    "Expected a .safetensors file, a PyTorch state dict saved with torch.save "
    f"({', '.join(PICKLE_SUFFIXES)}), or a Hugging Face model folder "
    f"(holding {' or '.join(FOLDER_FILES)})."
)


class CheckpointError(ValueError):
    """A checkpoint could not be read, recognised or loaded; the message says why."""



def path_text(p: str | os.PathLike[str]) -> str:
    """A path for a message: whole up to 120 characters, else its start and its end."""
    text = os.fsdecode(p)
    return text if len(text) <= 120 else f"{text[:40]}…{text[-60:]}"



def size_text(n: int) -> str:
    if n < 1024:
        return f"{n} byte{'' if n == 1 else 's'}"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        n /= 1024
        if n < 1024 or unit == "TiB":
            return f"{n:.1f} {unit}"
    raise AssertionError("unreachable")

