#!/usr/bin/env bash
# One set-up for a fresh Debian 12/13 machine and for every later run: installs the Debian packages
# (the Intel compiler and driver stack), makes .venv with the Python dependencies, and builds and
# installs this repository's triton-xpu into it.  Idempotent; a second run with nothing changed takes
# about a second.
#
#   scripts/setup.sh             # install the built wheel (what users get)
#   scripts/setup.sh --develop   # editable install: edits under third_party/intel/backend/ apply at once
#   scripts/setup.sh --no-system-packages   # leave Debian packages alone (inside a toolchain environment,
#                                           # whose packages scripts/toolchain.sh installed)
#
# Environment: PYTHON (interpreter for the venv, default python3), TRITON_XPU_VENV (default .venv).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
MODE=wheel
SYSTEM_PACKAGES=yes
for arg in "$@"; do
  case "$arg" in
    --develop) MODE=develop ;;
    --no-system-packages) SYSTEM_PACKAGES=no ;;
    *) echo "usage: scripts/setup.sh [--develop] [--no-system-packages]" >&2; exit 2 ;;
  esac
done
VENV=${TRITON_XPU_VENV:-$ROOT/.venv}
PY=$VENV/bin/python
say() { printf '[setup] %s\n' "$*" >&2; }

# --- Debian packages -----------------------------------------------------------------------------
# ocloc + libocloc + the NEO Level Zero driver; the Level Zero loader and headers; iga64; spirv-dis;
# a C/C++ toolchain and CMake for the runtime; venv support for the system Python.
APT_PACKAGES=(intel-opencl-icd libze1 libze-dev libigc-tools spirv-tools
              build-essential cmake python3-venv python3-dev git)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "$SYSTEM_PACKAGES" = yes ] && [ ${#missing[@]} -gt 0 ]; then
  SUDO=; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  say "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- Python environment -------------------------------------------------------------------------
# A venv counts only once its stamp is written: an interrupted creation is redone.
if [ ! -x "$PY" ] || [ ! -f "$VENV/.stamp-venv" ]; then
  say "creating $VENV"
  rm -rf "$VENV"
  "${PYTHON:-python3}" -m venv "$VENV"
  "$PY" -m pip install -q --upgrade pip
  touch "$VENV/.stamp-venv"
fi
stamp_ok() { [ -f "$VENV/.stamp-$1" ] && [ "$(cat "$VENV/.stamp-$1")" = "$2" ]; }
stamp_set() { printf '%s' "$2" > "$VENV/.stamp-$1"; }

# requirements-numeric.txt: the numeric suite's CPU executor (Intel's CPU OpenCL runtime and pyopencl).
# TRITON_XPU_EXTRA_REQUIREMENTS: a toolchain's own test requirements (its .conf's EXTRA_REQUIREMENTS).
requirement_files=(requirements-dev.txt requirements-numeric.txt ${TRITON_XPU_EXTRA_REQUIREMENTS:-})
req_hash=$(cat "${requirement_files[@]}" | sha256sum | cut -d' ' -f1)
if ! stamp_ok requirements "$req_hash"; then
  say "installing Python dependencies (${requirement_files[*]})"
  "$PY" -m pip install -q $(printf -- '-r %s ' "${requirement_files[@]}")
  stamp_set requirements "$req_hash"
fi

# The published kernel packages of the corpus tests (requirements-corpus.txt), with --no-deps and a stamp of
# their own: their declared dependencies include PyPI's torch (gigabytes of CUDA libraries), which the
# corpus replaces with a stand-in (python/test/support/standin_torch, a test double).
corpus_hash=$(sha256sum requirements-corpus.txt | cut -d' ' -f1)
if ! stamp_ok corpus "$corpus_hash"; then
  say "installing the corpus's kernel packages (requirements-corpus.txt, --no-deps)"
  "$PY" -m pip install -q --no-deps -r requirements-corpus.txt
  stamp_set corpus "$corpus_hash"
fi

# --- this package ----------------------------------------------------------------------------------
# What the build reads; a change to any of these files rebuilds.
source_hash() {
  local inputs=()
  for f in "$@"; do
    [ -e "$f" ] && inputs+=("$f")
  done
  find "${inputs[@]}" \
       -type f -not -path '*/__pycache__/*' -not -path 'python/triton/*' -not -path 'python/test/*' \
       -not -path 'third_party/intel/backend/lib/*' -not -name '*.so' 2>/dev/null | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -d' ' -f1
}
if [ "$MODE" = develop ]; then
  # Python edits apply at once through the link; the build itself and the C++ runtime need a rebuild.
  want="develop-$(source_hash setup.py pyproject.toml CMakeLists.txt lib include)"
else
  want="wheel-$(source_hash setup.py pyproject.toml README.md CMakeLists.txt third_party lib include python)"
fi
if ! stamp_ok package "$want" || ! "$PY" -c "import triton.backends.intel.targets" 2>/dev/null; then
  if [ "$MODE" = develop ]; then
    say "installing triton-xpu in develop mode (pip install -e .)"
    "$PY" -m pip install -q --no-deps -e .
  else
    say "building the triton-xpu wheel (about a minute)"
    wheelhouse=build/wheelhouse-${TRITON_XPU_TOOLCHAIN:-host}
    # setuptools stages the package in build/lib.* and never removes what the sources no longer have: a module
    # moved out of the backend would still ship from an earlier build's copy (python/test/packaging/test_wheel.py).
    rm -rf "$wheelhouse" build/lib.*
    "$PY" -m pip wheel -q --no-deps -w "$wheelhouse" .
    "$PY" -m pip install -q --no-deps --force-reinstall "$wheelhouse"/triton_xpu-*.whl
  fi
  stamp_set package "$want"
fi
say "ready: $("$PY" -c 'import triton, importlib.metadata as m; print("triton", triton.__version__, "/ triton-xpu", m.version("triton-xpu"))')"
