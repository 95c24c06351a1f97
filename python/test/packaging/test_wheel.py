"""The built wheel is a drop-in replacement of PyPI's triton-xpu: replaces it, passes pip check, uninstalls clean.

Uses the wheel scripts/setup.sh built for the venv these tests run from (VENV/build/wheelhouse); in develop mode
there is none and the test skips.
"""

import re
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
# Files of the backend that are not Python, which package_data must bring along.
C_TEMPLATES = REPO / "third_party" / "intel" / "backend" / "aot" / "c_templates"
# The suite's own machinery (python/test/support: the zebin field editor, the fuzzer, the stand-in torch), which
# the package must never carry.
TEST_SUPPORT = REPO / "python" / "test" / "support"
WHEELS = sorted((Path(sys.prefix) / "build" / "wheelhouse").glob("triton_xpu-*+native-*.whl"))


def run(*cmd, **kw):
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, check=True, **kw).stdout


@pytest.mark.skipif(not WHEELS, reason="no built wheel: scripts/setup.sh in develop mode builds none")
def test_wheel_replaces_pypi_triton_xpu_and_uninstalls_cleanly(tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    pip = [py, "-m", "pip", "--disable-pip-version-check", "-q"]
    run(*pip, "download", "--no-deps", "-d", tmp_path / "base", "triton-xpu===3.3.0b1")
    base = next((tmp_path / "base").glob("triton_xpu-3.3.0b1-*.whl"))
    run(*pip, "install", "--no-deps", base)
    site = Path(run(py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip())
    assert (site / "triton" / "backends" / "intel" / "driver.c").exists()  # the stock backend

    run(*pip, "install", WHEELS[-1])  # over the installed PyPI release, with its dependencies
    assert run(py, "-c", "import importlib.metadata as m; print(m.version('triton-xpu'))").strip() == "3.3.0b1+native"
    assert not (site / "triton" / "backends" / "intel" / "driver.c").exists()  # replaced, not mixed
    assert (site / "triton" / "backends" / "intel" / "targets.py").exists()
    assert (site / "triton" / "backends" / "intel" / "aot" / "c_templates" / "loader.c").exists()
    assert not list(site.glob("*.pth")) or all("distutils" in p.name for p in site.glob("*.pth"))
    run(py, "-m", "pip", "check")
    out = run(py, "-c", "import triton; from triton.backends import backends; "
              "print(triton.__version__, backends['intel'].compiler.__name__)")
    assert out.split() == ["3.3.0b1", "XPUBackend"]

    run(*pip, "uninstall", "-y", "triton-xpu")
    leftovers = [p for p in (site / "triton").rglob("*") if p.is_file()] if (site / "triton").exists() else []
    assert leftovers == []
    assert run(py, "-c", "import importlib.util; print(importlib.util.find_spec('triton'))").strip() == "None"


@pytest.mark.skipif(not WHEELS, reason="no built wheel: scripts/setup.sh in develop mode builds none")
def test_wheel_carries_the_c_loader_templates():
    # `triton-xpu compile --emit-c` reads them at run time: a wheel without them cannot write a C loader.
    templates = {f"triton/backends/intel/aot/c_templates/{p.name}" for p in C_TEMPLATES.iterdir()
                 if p.is_file() and not p.name.startswith(".")}
    assert len(templates) >= 2
    with zipfile.ZipFile(WHEELS[-1]) as wheel:
        missing = templates - set(wheel.namelist())
    assert not missing, f"{WHEELS[-1].name} lacks {sorted(missing)}"


@pytest.mark.skipif(not WHEELS, reason="no built wheel: scripts/setup.sh in develop mode builds none")
def test_wheel_carries_no_test_support():
    # Test machinery lives in python/test/support, never in the package: no field editor of zebins (it used to be
    # binary/edit.py), no fuzzer, no module of the support package, no test double (each says TEST DOUBLE in its
    # docstring), no stand-in torch, no test or conftest file.
    support_modules = {p.name for p in TEST_SUPPORT.glob("*.py") if p.name != "__init__.py"}
    assert support_modules >= {"zebin_edit.py", "zebin_fuzz.py"}
    with zipfile.ZipFile(WHEELS[-1]) as wheel:
        names = wheel.namelist()
        backend = [n for n in names if n.startswith("triton/backends/intel/")]
        doubles = [n for n in backend if n.endswith(".py") and b"TEST DOUBLE" in wheel.read(n)]
    shipped = [n for n in backend if n.endswith("/binary/edit.py") or n.rsplit("/", 1)[-1] in support_modules
               or re.search(r"(^|/)(test_[^/]*|conftest|fake_[^/]*|[^/]*double[^/]*|[^/]*standin[^/]*)\.py$", n)]
    shipped += [n for n in names if n.startswith("torch/")]
    assert shipped + doubles == [], f"{WHEELS[-1].name} carries test support: {sorted(set(shipped + doubles))}"
