"""The backend's layers (tools/house.py): imports go down or sideways, never up, and every module has a layer."""

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
HOUSE = REPO / "tools" / "house.py"
BACKEND = REPO / "third_party" / "intel" / "backend"


def house(package: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(HOUSE), str(package)], capture_output=True, text=True, timeout=60)


def test_no_import_goes_upward():
    out = house(BACKEND)
    assert out.returncode == 0, out.stdout + out.stderr
    assert " 0 upward, 0 circles" in out.stdout


def test_the_zebin_stage_is_one_subpackage():
    out = house(BACKEND).stdout
    assert "subpackages (aot, binary, fleet, native, runtime)" in out
    assert not any((BACKEND / f"{m}.py").exists() for m in ("grf_policy", "ocloc", "generators", "spill_forecast"))


def test_an_upward_import_is_caught(tmp_path):
    copy = tmp_path / "backend"
    shutil.copytree(BACKEND, copy, ignore=shutil.ignore_patterns("*.so", "lib", "__pycache__"))
    options = copy / "options.py"
    options.write_text(options.read_text() + "\nfrom triton.backends.intel.native import grf_policy  # noqa\n")
    out = house(copy)
    assert out.returncode == 1 and "upward: options -> native" in out.stdout


def test_a_module_in_no_layer_is_caught(tmp_path):
    copy = tmp_path / "backend"
    shutil.copytree(BACKEND, copy, ignore=shutil.ignore_patterns("*.so", "lib", "__pycache__"))
    (copy / "helpers.py").write_text("from triton.backends.intel import errors  # noqa\n")
    out = house(copy)
    assert out.returncode == 1 and "in no layer" in out.stdout and "helpers" in out.stdout
