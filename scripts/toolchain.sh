#!/usr/bin/env bash
# Toolchain environments: a Debian root file system per Intel GPU stack, made from Debian's package archive
# with mmdebstrap, and a venv of this project inside it (the host's Python, bind-mounted read-only).
#
#   scripts/toolchain.sh ensure NAME         # build what is missing (seconds when everything is there)
#   scripts/toolchain.sh exec NAME CMD...    # run CMD inside, from the current folder, venv first on PATH
#   scripts/toolchain.sh describe NAME       # one line: the toolchain and its driver/IGC/loader versions
#   scripts/toolchain.sh list                # the known toolchains
#
# NAME is a file scripts/toolchains/NAME.conf (current: Debian testing's stack; legacy: Debian 12's).
# Root file systems live in $TRITON_XPU_TOOLCHAIN_DIR (default /var/cache/triton-xpu/toolchains), one
# folder per toolchain and package list, shared by every clone on the machine; each clone keeps its own
# venv in .toolchains/NAME/venv.  A root file system is built in a temporary folder and renamed into place
# only when complete, so an interrupted build is never trusted; a later run removes the remains.
# Mounts are made in a private mount namespace (unshare): the kernel removes them when the command ends,
# whether it succeeded, failed or was killed.
#
# Environment: PYTHON (the host interpreter used inside, 3.9-3.12, default python3),
# TRITON_XPU_DEBIAN_MIRROR (default http://deb.debian.org/debian), TRITON_XPU_TOOLCHAIN_DIR.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CONF_DIR=$ROOT/scripts/toolchains
STORE=${TRITON_XPU_TOOLCHAIN_DIR:-/var/cache/triton-xpu/toolchains}
MIRROR=${TRITON_XPU_DEBIAN_MIRROR:-http://deb.debian.org/debian}
PIP_CACHE=${TRITON_XPU_PIP_CACHE:-/var/cache/triton-xpu/pip}
NEEDED_MB=${TRITON_XPU_TOOLCHAIN_NEEDED_MB:-3000}   # a root file system (~1 GB), apt's downloads, the venv

say() { printf '[toolchain] %s\n' "$*" >&2; }
die() { printf 'toolchain: %s\n' "$*" >&2; exit 1; }

known() { for f in "$CONF_DIR"/*.conf; do basename "$f" .conf; done | tr '\n' ' ' | sed 's/ $//'; }

load_conf() {
  NAME=$1
  [ -f "$CONF_DIR/$NAME.conf" ] || die "unknown toolchain '$NAME'; known: $(known), and host (this machine's own packages)"
  EXTRA_REQUIREMENTS=   # a .conf may name its toolchain's own test requirements
  # shellcheck disable=SC1090
  . "$CONF_DIR/$NAME.conf"
  PACKAGES=$(echo $PACKAGES)   # one line
  KEY=$(printf '%s|%s|%s' "$SUITE" "$PACKAGES" "$MIRROR" | sha256sum | cut -c1-12)
  ROOTFS=$STORE/$NAME-$KEY
  VENV=$ROOT/.toolchains/$NAME/venv
}

host_python() {
  local py=${PYTHON:-python3}
  command -v "$py" >/dev/null || die "no Python interpreter '$py' on PATH: install Python 3.9-3.12 or set PYTHON"
  # What to bind-mount for it: its own prefix (pyenv, a python.org build), or for a Python of the
  # distribution (/usr) its executable, standard library, headers and shared libpython.
  # shellcheck disable=SC2016
  mapfile -t PY_INFO < <("$py" -c '
import os, sys, sysconfig
exe = os.path.realpath(sys.executable)
print(exe); print("%d.%d" % sys.version_info[:2])
if sys.base_prefix not in ("/usr", "/usr/local", "/"):
    print(sys.base_prefix)
else:
    print(exe)
    paths = sysconfig.get_paths()
    for key in ("stdlib", "platstdlib", "include"):
        print(paths[key])
    lib = sysconfig.get_config_var("INSTSONAME")
    if sysconfig.get_config_var("Py_ENABLE_SHARED") and lib:
        print(os.path.realpath(os.path.join(sysconfig.get_config_var("LIBDIR"), lib)))
')
  [ ${#PY_INFO[@]} -ge 3 ] || die "cannot query the Python interpreter '$py': set PYTHON to a Python 3.9-3.12"
  PY_EXE=${PY_INFO[0]}; PY_VERSION=${PY_INFO[1]}; PY_BINDS=("${PY_INFO[@]:2}")
  case "$PY_VERSION" in
    3.9|3.10|3.11|3.12) ;;
    *) die "Python $PY_VERSION ($PY_EXE) cannot run triton-xpu 3.3.0b1 (wheels for 3.9-3.12 only): set PYTHON to such an interpreter" ;;
  esac
}

need_root() {
  [ "$(id -u)" -eq 0 ] || die "building and entering toolchain environments needs root (chroot and mounts): run as root, e.g. sudo ./run ...; or use --toolchain host"
  local tool package
  for tool in unshare:util-linux mount:mount mountpoint:util-linux flock:util-linux chroot:coreutils; do
    package=${tool#*:}; tool=${tool%%:*}
    command -v "$tool" >/dev/null || die "'$tool' is missing, needed for toolchain environments: apt-get install $package"
  done
  # Mounts are made in a private mount namespace, which needs / to be a mount point: it is on a machine or
  # in a container, not in a plain chroot.
  mountpoint -q / || die "/ is not a mount point (inside a chroot?), so no private mount namespace can be made: bind-mount the chroot's directory onto itself before entering it (mount --bind DIR DIR)"
}

# --- building the root file system -------------------------------------------------------------------
check_disk() {
  mkdir -p "$STORE" 2>/dev/null || die "cannot create $STORE: set TRITON_XPU_TOOLCHAIN_DIR to a writable folder"
  local free
  free=$(df -Pm "$STORE" | awk 'NR==2 {print $4}')
  [ "${free:-0}" -ge "$NEEDED_MB" ] || die "only ${free} MB free in $STORE, a toolchain needs about $NEEDED_MB MB: free disk space or set TRITON_XPU_TOOLCHAIN_DIR to a larger disk"
}

ensure_mmdebstrap() {
  command -v mmdebstrap >/dev/null && return
  say "installing mmdebstrap (Debian package) to build toolchain environments"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap; } >/dev/null 2>&1 \
    || die "cannot install mmdebstrap with apt-get: is Debian's package archive reachable? (apt-get update)"
}

build_rootfs() {
  [ -f "$ROOTFS/.complete" ] && return
  need_root; check_disk; ensure_mmdebstrap
  exec 9>"$STORE/$NAME.lock"
  flock 9   # another run may be building the same toolchain
  [ -f "$ROOTFS/.complete" ] && return
  rm -rf --one-file-system "$ROOTFS" "$STORE/$NAME"-*.partial   # remains of interrupted builds
  local tmp=$ROOTFS.partial log=$STORE/$NAME-$KEY.log
  say "building the '$NAME' toolchain ($DESCRIPTION) from $MIRROR $SUITE (about a minute)"
  # Check-Valid-Until off: mirrors may serve a frozen snapshot whose testing Release file has expired.
  # In a private mount namespace: what mmdebstrap mounts inside the new tree goes away with it, even when it
  # is killed, so removing an interrupted tree never reaches through a mount into the host's /dev or /proc.
  if ! unshare --mount --propagation private -- mmdebstrap --variant=apt --components=main --aptopt='Acquire::Check-Valid-Until "false"' \
       --include="${PACKAGES// /,}" "$SUITE" "$tmp" "$MIRROR" >"$log" 2>&1; then
    rm -rf --one-file-system "$tmp"
    if grep -qiE 'No space left|not enough free space' "$log"; then
      die "building '$NAME' ran out of disk space in $STORE: free space or set TRITON_XPU_TOOLCHAIN_DIR (log: $log)"
    elif grep -qiE 'could not resolve|failed to fetch|unable to connect|connection (refused|timed out)|temporary failure' "$log"; then
      die "building '$NAME' cannot reach Debian's package archive $MIRROR: check the network or set TRITON_XPU_DEBIAN_MIRROR (log: $log)"
    else
      die "building '$NAME' with mmdebstrap failed: $(grep -E '^E:' "$log" | head -1) (log: $log)"
    fi
  fi
  mv "$tmp" "$ROOTFS"
  date -u +%FT%TZ > "$ROOTFS/.complete"
  say "toolchain '$NAME' ready in $ROOTFS"
}

# --- running inside ------------------------------------------------------------------------------------
# Prints the mount commands for the private namespace: kernel file systems, the host Python (read-only),
# the repository, /tmp and UPSTREAM_DIR at their own paths, and the host's network and pip settings (CA bundle,
# caches).
mount_script() {
  local r=$ROOTFS
  echo "set -e"
  echo "mount --bind '$r' '$r'"   # its / a mount point, as on a machine
  echo "mount -t proc proc '$r/proc'; mount --rbind /sys '$r/sys'; mount --rbind /dev '$r/dev'"
  echo "mount --bind /tmp '$r/tmp'"
  local f
  for f in "${PY_BINDS[@]}"; do   # the host's Python, read-only
    [ -e "$f" ] || continue
    if [ -d "$f" ]; then echo "mkdir -p '$r$f'"; else echo "mkdir -p '$r$(dirname "$f")'; [ -e '$r$f' ] || touch '$r$f'"; fi
    echo "mount --bind '$f' '$r$f' && mount -o remount,bind,ro '$r$f'"
  done
  case "$ROOT/" in /tmp/*) ;; *) echo "mkdir -p '$r$ROOT' && mount --bind '$ROOT' '$r$ROOT'" ;; esac
  case "$PWD/" in /tmp/*|"$ROOT"/*) ;; *) [ -d "$PWD" ] && echo "mkdir -p '$r$PWD' && mount --bind '$PWD' '$r$PWD'" ;; esac
  # An upstream checkout for upstream/check (UPSTREAM_DIR, kept in the environment) at its own path, writable:
  # the check adds a temporary worktree to it.
  local up
  if [ -n "${UPSTREAM_DIR:-}" ] && up=$(cd "$UPSTREAM_DIR" 2>/dev/null && pwd); then
    case "$up/" in /tmp/*|"$ROOT"/*|"$PWD"/*) ;; *) echo "mkdir -p '$r$up' && mount --bind '$up' '$r$up'" ;; esac
  fi
  mkdir -p "$PIP_CACHE"
  echo "mkdir -p '$r$PIP_CACHE' && mount --bind '$PIP_CACHE' '$r$PIP_CACHE'"
  for f in /etc/resolv.conf /etc/hosts /etc/ssl/certs/ca-certificates.crt /etc/pip.conf /etc/xdg/pip /opt/wheels; do
    [ -e "$f" ] || continue
    if [ -d "$f" ]; then echo "mkdir -p '$r$f'"; else echo "mkdir -p '$r$(dirname "$f")'; [ -e '$r$f' ] || touch '$r$f'"; fi
    echo "mount --bind '$f' '$r$f'"
  done
  # The root file systems, read-only at their own path: a ./run inside a toolchain enters the same ones (the
  # set-up test starts ./run in a fresh clone from inside the suite).  Nothing above writes to an existing
  # root file system, so such a nested run works from the read-only view.
  echo "mkdir -p '$r$STORE' && mount --bind '$STORE' '$r$STORE' && mount -o remount,bind,ro '$r$STORE'"
}

enter() {   # enter CMD...: run CMD in the root file system, from the current folder
  need_root
  local script
  script=$(mount_script)
  # PATH: the venv, then the root file system's own tools.  Everything else (TRITON_*, ...) is kept.
  exec unshare --mount --propagation private -- bash -c "$script"'
    exec chroot "$0" /usr/bin/env PATH="$1/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
         HOME=/root PIP_CACHE_DIR="$2" TRITON_XPU_TOOLCHAIN="$3" /bin/sh -c '\''cd "$0" && exec "$@"'\'' "$4" "${@:5}"' \
    "$ROOTFS" "$VENV" "$PIP_CACHE" "$NAME" "$PWD" "$@"
}

ensure() {
  host_python
  build_rootfs
  # The venv is made and kept current by scripts/setup.sh, run inside, under its lock (several ./run of one
  # clone wait there for each other); the key names the root file system and the interpreter, so a rebuilt
  # toolchain remakes the venv.
  mkdir -p "$(dirname "$VENV")"
  ( cd "$ROOT" && PYTHON=$PY_EXE TRITON_XPU_VENV=$VENV TRITON_XPU_VENV_KEY="$KEY $PY_EXE" \
      TRITON_XPU_EXTRA_REQUIREMENTS=${EXTRA_REQUIREMENTS:-} enter_sub scripts/setup.sh --no-system-packages )
}

enter_sub() { ( enter "$@" ); }

describe() {
  enter /bin/sh -c '
    v() { dpkg-query -W -f="\${Version}" "$1" 2>/dev/null | sed "s/-[^-]*$//"; }
    igc=$(v libigc2); [ -n "$igc" ] || igc=$(v libigc1)
    neo=$(v intel-opencl-icd); ze=$(v libze1)
    echo "NEO $neo, IGC $igc, Level Zero loader $ze"'
}

cmd=${1:-}; shift || true
case "$cmd" in
  list) for n in $(known); do load_conf "$n"; printf '%-8s %s\n' "$n" "$DESCRIPTION"; done ;;
  ensure) [ $# -eq 1 ] || die "usage: toolchain.sh ensure NAME"; load_conf "$1"; need_root; ensure ;;
  exec) [ $# -ge 2 ] || die "usage: toolchain.sh exec NAME CMD..."; load_conf "$1"; shift; need_root; host_python
        [ -f "$ROOTFS/.complete" ] || die "toolchain '$NAME' is not built: run scripts/toolchain.sh ensure $NAME"
        # The command holds the venv's use lock while it runs: a set-up changes the venv only once it has ended.
        # shellcheck source=scripts/venv_lock.sh
        . "$ROOT/scripts/venv_lock.sh"; venv_lock_use "$VENV"
        enter "$@" ;;
  describe) [ $# -eq 1 ] || die "usage: toolchain.sh describe NAME"; load_conf "$1"; host_python
        [ -f "$ROOTFS/.complete" ] || die "toolchain '$NAME' is not built"; describe ;;
  *) die "usage: toolchain.sh list | ensure NAME | exec NAME CMD... | describe NAME" ;;
esac
