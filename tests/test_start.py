"""The app's start: the page is built without torch, Gradio is imported without its stub
writer, and the packages' lazy names (swinviz._lazy) are the modules' own objects.

docs/performance.md has the start's timings (`python -m app.bench --start`); nothing here
times anything.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAZY_PACKAGES = ("swinviz", "swinviz.weights", "swinviz.backends", "swinviz.evidence",
                 "swinviz.lesson", "swinviz.image")


def run_python(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout.strip().splitlines()[-1]


def test_the_page_is_built_and_its_server_options_made_without_torch():
    # torch is imported once the server listens (app.py: warm_model), not before
    code = ("import sys, app; d = app.build_demo(warm=False); app.launch_options(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'torch'))")
    assert run_python(code) == "[]"


def test_the_model_warm_up_imports_torch_and_builds_the_default_model():
    code = ("import sys, app, app.state as s; app.warm_model(); "
            "[t.join(300) for t in __import__('threading').enumerate() "
            " if t.name == 'swinviz-warm-up']; "
            "print('torch' in sys.modules, len(s.MODELS))")
    assert run_python(code) == "True 1"


# Gradio 6 calls its stub writer for every component class at import: it opens each
# component's .pyi beside its source (app/gradio_import.py)
STUB_OPENS = ("import sys\n"
              "opened = []\n"
              "sys.addaudithook(lambda ev, args: opened.append(str(args[0])) "
              "if ev == 'open' and str(args[0]).endswith('.pyi') and 'gradio' in str(args[0]) "
              "else None)\n"
              "{imports}\n"
              "print(len(opened))")


def test_gradio_imported_by_the_app_opens_no_type_stub():
    assert int(run_python(STUB_OPENS.format(imports="import app.ui"))) == 0


def test_the_stub_check_sees_gradio_s_own_import():
    # the control: the same check counts the stubs Gradio's own import opens
    assert int(run_python(STUB_OPENS.format(imports="import gradio"))) > 10


def test_gradio_imported_before_the_app_is_left_as_it_is():
    code = ("import gradio, gradio.component_meta as m; f = m.create_or_modify_pyi; "
            "from app.gradio_import import skip_stub_writing; "
            "print(skip_stub_writing(), m.create_or_modify_pyi is f)")
    assert run_python(code) == "False True"


def typed_imports(package: str) -> dict[str, str]:
    """name -> module of the package's `if TYPE_CHECKING:` imports (what type checkers see)."""
    path = Path(importlib.util.find_spec(package).origin)
    out = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for imp in node.body:
                for alias in imp.names:
                    out[alias.name] = f"{package}.{imp.module}"
    return out


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_every_lazy_name_is_its_module_s_object(package):
    pkg = importlib.import_module(package)
    typed = typed_imports(package)
    assert set(typed) == set(pkg.__all__), "the lazy table, the typed imports and __all__ differ"
    for name, module in typed.items():
        assert getattr(pkg, name) is getattr(importlib.import_module(module), name), name
    assert set(pkg.__all__) <= set(dir(pkg))


def test_a_name_a_package_lacks_is_an_attribute_error():
    import swinviz

    with pytest.raises(AttributeError, match="module 'swinviz' has no attribute 'Nope'"):
        swinviz.Nope  # noqa: B018
    with pytest.raises(ImportError):
        from swinviz import nothing_here  # noqa: F401
    assert swinviz.cost.block_params is importlib.import_module("swinviz.cost").block_params


def test_the_gpu_probe_agrees_with_torch_here():
    # the probe answers without torch (a CPU build: no CUDA version) as torch does
    code = ("import sys; from app.limits import gpu_present; p = gpu_present(); "
            "assert 'torch' not in sys.modules; import torch; "
            "print(p, torch.cuda.is_available())")
    probe, torch_says = run_python(code).split()
    assert probe == torch_says


class FakeNvml:
    """NVML as ctypes loads it, counting `devices` GPUs."""

    def __init__(self, devices: int):
        self.devices = devices

    def nvmlInit_v2(self):
        return 0

    def nvmlDeviceGetCount_v2(self, count):
        count._obj.value = self.devices
        return 0

    def nvmlShutdown(self):
        return 0


@pytest.mark.parametrize("version, devices, expected", [
    ("cuda: Optional[str] = None\nhip: Optional[str] = None\n", 1, False),  # a CPU build
    ("cuda: Optional[str] = '12.8'\nhip: Optional[str] = None\n", 1, True),
    ("cuda: Optional[str] = '12.8'\nhip: Optional[str] = None\n", 0, False),  # no GPU
    ("cuda: Optional[str] = '12.8'\nhip: Optional[str] = None\n", None, False),  # no driver
])
def test_the_gpu_probe_reads_torch_s_build_and_the_driver(monkeypatch, tmp_path, version,
                                                          devices, expected):
    import ctypes
    import importlib.machinery

    from app import limits

    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "version.py").write_text(version)
    spec = importlib.machinery.ModuleSpec("torch", None, is_package=True)
    spec.submodule_search_locations = [str(tmp_path / "torch")]
    monkeypatch.delitem(sys.modules, "torch", raising=False)  # as at the start (restored after)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: spec)

    def cdll(name):
        if devices is None:
            raise OSError(f"{name}: cannot open shared object file")
        return FakeNvml(devices)

    monkeypatch.setattr(ctypes, "CDLL", cdll)
    assert limits.gpu_present() is expected
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert limits.gpu_present() is False
