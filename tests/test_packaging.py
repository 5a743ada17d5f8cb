"""What a Hugging Face Space installs, and what the development machines pin."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def requirement(path: Path, name: str) -> str | None:
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if re.match(rf"^{name}\b", line, re.IGNORECASE):
            return line
    return None


def test_requirements_give_torch_a_range_and_constraints_pin_it():
    """A Space installs requirements.txt alone: no exact torch pin there (ZeroGPU offers only
    some versions); the scripts pin the local CPU wheel through constraints.txt."""
    spec = requirement(ROOT / "requirements.txt", "torch")
    assert spec is not None and "==" not in spec and ">=" in spec
    assert requirement(ROOT / "constraints.txt", "torch") == "torch==2.13.0"
    for script in ("scripts/app.sh", "scripts/test.sh"):
        text = (ROOT / script).read_text()
        installs = [ln for ln in text.splitlines() if "pip install" in ln]
        assert installs and all("-c constraints.txt" in ln for ln in installs), script


def test_the_class_names_are_the_1000_imagenet_classes():
    names = (ROOT / "swinviz" / "data" / "imagenet_classes.txt").read_text().splitlines()
    assert len(names) == 1000 and names[0] == "tench" and names[-1] == "toilet tissue"


def test_the_kernel_source_ships_in_the_wheel(tmp_path):
    """The fused window attention is built from its C source at first use, so the wheel (and
    the install from it) must carry the source."""
    import subprocess
    import sys
    import zipfile

    run = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    (wheel,) = tmp_path.glob("swinviz-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "swinviz/backends/window_kernel/window_attention.c" in names
    assert "swinviz/data/imagenet_classes.txt" in names  # the class names ship with it
    packages = {p.relative_to(ROOT).as_posix() for p in (ROOT / "swinviz").rglob("__init__.py")}
    assert packages <= set(names), sorted(packages - set(names))  # every subpackage


def test_a_space_gets_what_the_lecture_needs():
    """The lesson's deck: python-pptx and pypdf from requirements.txt (pinned), Chromium and the
    Noto CJK fonts (Chinese slides) from packages.txt, which scripts/test.sh installs too; under
    CI the font is there for Chromium to find."""
    import os
    import shutil
    import subprocess

    assert requirement(ROOT / "requirements.txt", "python-pptx") == "python-pptx==1.0.2"
    assert requirement(ROOT / "requirements.txt", "pypdf") == "pypdf==7.1.1"
    packages = (ROOT / "packages.txt").read_text().split()
    assert {"chromium", "fonts-noto-cjk"} <= set(packages)
    assert "packages.txt" in (ROOT / "scripts/test.sh").read_text()
    if os.environ.get("CI", "").lower() == "true" and shutil.which("fc-list"):
        found = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True,
                               text=True).stdout
        assert "Noto Sans CJK" in found
