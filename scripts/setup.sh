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
# Several at once wait for each other: one set-up per venv at a time, and the venv is changed only while no
# command runs from it (scripts/venv_lock.sh).  The wheel is built from a copy of the sources under
# VENV/build, never in the source tree; what the build reads is hashed as git sees it (tracked and new files,
# not ignored ones), so build products left in the tree (`pip install .`: build/, *.egg-info) rebuild nothing.
#
# Environment: PYTHON (interpreter for the venv, default python3), TRITON_XPU_VENV (default .venv),
# TRITON_XPU_VENV_KEY (what the venv is made for, e.g. a toolchain's root file system: another remakes it).
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
VENV_KEY=${TRITON_XPU_VENV_KEY:-}
say() { printf '[setup] %s\n' "$*" >&2; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }
# shellcheck source=scripts/venv_lock.sh
. "$ROOT/scripts/venv_lock.sh"
venv_lock_setup "$VENV"   # held until this script ends
changing() { venv_lock_change "$VENV"; }   # before any change to the venv

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
# A venv counts only once its stamp is written: an interrupted creation is redone.  One made for another
# root file system or interpreter (TRITON_XPU_VENV_KEY, from scripts/toolchain.sh) is made again.
venv_ok() {
  [ -x "$PY" ] && [ -f "$VENV/.stamp-venv" ] &&
    { [ -z "$VENV_KEY" ] || [ "$(cat "$VENV/.stamp-rootfs" 2>/dev/null)" = "$VENV_KEY" ]; }
}
if ! venv_ok; then
  changing
  say "creating $VENV"
  rm -rf "$VENV"
  "${PYTHON:-python3}" -m venv "$VENV" ||
    die "creating the venv $VENV with ${PYTHON:-python3} failed (the error above): it needs Python's venv module and ensurepip (Debian: apt-get install python3-venv) and free disk space; then run again"
  "$PY" -m pip install -q --upgrade pip ||
    die "upgrading pip in $VENV failed (pip's error above): is PyPI reachable? Then run again"
  [ -z "$VENV_KEY" ] || printf '%s' "$VENV_KEY" > "$VENV/.stamp-rootfs"
  touch "$VENV/.stamp-venv"
fi
stamp_ok() { [ -f "$VENV/.stamp-$1" ] && [ "$(cat "$VENV/.stamp-$1")" = "$2" ]; }
stamp_set() { printf '%s' "$2" > "$VENV/.stamp-$1"; }

# requirements-numeric.txt: the numeric suite's CPU executor (Intel's CPU OpenCL runtime and pyopencl).
# TRITON_XPU_EXTRA_REQUIREMENTS: a toolchain's own test requirements (its .conf's EXTRA_REQUIREMENTS).
requirement_files=(requirements-dev.txt requirements-numeric.txt ${TRITON_XPU_EXTRA_REQUIREMENTS:-})
req_hash=$(cat "${requirement_files[@]}" | sha256sum | cut -d' ' -f1)
if ! stamp_ok requirements "$req_hash"; then
  changing
  say "installing Python dependencies (${requirement_files[*]})"
  "$PY" -m pip install -q $(printf -- '-r %s ' "${requirement_files[@]}") ||
    die "installing the Python dependencies (${requirement_files[*]}) failed (pip's error above): is PyPI reachable? Then run again"
  stamp_set requirements "$req_hash"
fi

# The published kernel packages of the corpus tests (requirements-corpus.txt), with --no-deps and a stamp of
# their own: their declared dependencies include PyPI's torch (gigabytes of CUDA libraries), which the
# corpus replaces with a stand-in (python/test/support/standin_torch, a test double).
corpus_hash=$(sha256sum requirements-corpus.txt | cut -d' ' -f1)
if ! stamp_ok corpus "$corpus_hash"; then
  changing
  say "installing the corpus's kernel packages (requirements-corpus.txt, --no-deps)"
  "$PY" -m pip install -q --no-deps -r requirements-corpus.txt ||
    die "installing the corpus's kernel packages (requirements-corpus.txt) failed (pip's error above): is PyPI reachable? Then run again"
  stamp_set corpus "$corpus_hash"
fi

# --- this package ----------------------------------------------------------------------------------
# What the build reads, as git sees it: tracked and new files, not ignored ones (build/, *.egg-info, the
# unpacked base under python/triton, caches), and not the tests.  Outside a git checkout (or where git cannot
# read it, e.g. a worktree whose repository is not mounted in the toolchain), the same by find.
WHEEL_INPUTS=(setup.py pyproject.toml README.md CMakeLists.txt third_party lib include python frontend)
DEVELOP_INPUTS=(setup.py pyproject.toml CMakeLists.txt lib include frontend)  # frontend: copied into python/triton
source_files() {   # source_files PATH...: the files, NUL-separated, sorted
  local listed
  if listed=$(git -c safe.directory="$ROOT" -C "$ROOT" ls-files -z --cached --others --exclude-standard \
                -- "$@" ':(exclude)python/test' 2>/dev/null | tr '\0' '\n'); then
    # (file names with newlines are not supported)
    while IFS= read -r f; do
      if [ -f "$f" ]; then printf '%s\0' "$f"; fi   # not files deleted but still in git's index
    done <<< "$listed"
  else
    local inputs=() f
    for f in "$@"; do [ -e "$f" ] && inputs+=("$f"); done
    find "${inputs[@]}" \( -path python/test -o -path python/triton -o -path third_party/intel/backend/lib \
         -o -name __pycache__ -o -name build -o -name '*.egg-info' -o -name .pytest_cache \) -prune \
         -o -type f -not -name '*.so' -not -name '*.pyc' -print0
  fi | LC_ALL=C sort -zu
}
source_hash() { source_files "$@" | xargs -0 -r sha256sum | sha256sum | cut -d' ' -f1; }
if [ "$MODE" = develop ]; then
  # Python edits apply at once through the link; the build itself and the C++ runtime need a rebuild.
  want="develop-$(source_hash "${DEVELOP_INPUTS[@]}")"
else
  want="wheel-$(source_hash "${WHEEL_INPUTS[@]}")"
fi
if ! stamp_ok package "$want" || ! "$PY" -c "import triton.backends.intel.targets" 2>/dev/null; then
  if [ "$MODE" = develop ]; then
    # Editable: the build works in the source tree (python/triton, build/, python/*.egg-info, all git-ignored).
    changing
    say "installing triton-xpu in develop mode (pip install -e .)"
    "$PY" -m pip install -q --no-deps -e . || die "pip install -e . failed (the error above): fix it and run again"
  else
    # Built from a copy of its inputs in VENV/build/src (the same path each time, so CMake's tree in
    # VENV/build/cmake-* stays incremental): nothing is written into the source tree, and set-ups of
    # several venvs of one clone (current, legacy) never share a build folder.
    build=$VENV/build
    say "building the triton-xpu wheel (about a minute)"
    rm -rf "$build/src" "$build/wheelhouse"
    mkdir -p "$build/src"
    source_files "${WHEEL_INPUTS[@]}" | tar -C "$ROOT" --null --no-recursion -T - -cf - | tar -C "$build/src" -xf - ||
      die "copying the sources to $build/src failed: is the disk full?"
    TRITON_XPU_BUILD_DIR=$build "$PY" -m pip wheel -q --no-deps -w "$build/wheelhouse" "$build/src" ||
      die "building the triton-xpu wheel failed (the error above; it was built in $build/src): fix it and run again"
    changing
    "$PY" -m pip install -q --no-deps --force-reinstall "$build/wheelhouse"/triton_xpu-*.whl ||
      die "installing the built wheel into $VENV failed (pip's error above): run again; if it fails again, remove $VENV"
  fi
  stamp_set package "$want"
fi
say "ready: $("$PY" -c 'import triton, importlib.metadata as m; print("triton", triton.__version__, "/ triton-xpu", m.version("triton-xpu"))')"
