# Locks on a venv, so that several ./run in one clone wait for each other instead of breaking each other.
# Sourced by ./run, scripts/toolchain.sh and scripts/setup.sh (inside a toolchain too); needs flock (util-linux).
# Two files beside the venv (e.g. .toolchains/current/venv.setup.lock):
#   VENV.setup.lock  exclusive, held by scripts/setup.sh from the venv's creation through the package's install:
#                    set-ups run one at a time, and one that finds the work done does nothing.  The file names
#                    the pid of the ./run holding it, for the message of those waiting.
#   VENV.use.lock    shared by every command running from the venv (./run main, test, CMD); set-up takes it
#                    exclusively only to change the venv (create it, install dependencies, install the wheel).
#                    So a set-up with nothing to change never waits for a running suite, and a changed wheel is
#                    never installed under one: that set-up waits until the commands using the venv have ended.
# File descriptors: 8 the set-up lock, 7 the use lock (inherited by the command, which holds it while it runs).

venv_lock_say() { printf '[setup] %s\n' "$*" >&2; }
venv_lock_die() { printf 'setup: %s\n' "$*" >&2; exit 1; }

venv_lock_check() {
  command -v flock >/dev/null || venv_lock_die "'flock' is missing, needed so that several ./run wait for each other: apt-get install util-linux"
}

# The venv as a person would name it: relative to the clone when inside it.
venv_lock_name() {
  local root
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  case "$1" in "$root"/*) printf '%s' "${1#"$root"/}" ;; *) printf '%s' "$1" ;; esac
}

# The commands holding lock file $1 open on fd 7 (from /proc; children of a listed one and this shell's own
# processes left out), as "pid N: COMMAND; pid M: ...".  (flock's own record of a lock names the pid of the flock
# tool that took it, which has exited.)
venv_lock_users() {
  local want p id ppid pids=() out=()
  want=$(stat -L -c '%d:%i' "$1" 2>/dev/null) || return 0
  for p in /proc/[0-9]*; do
    id=$(stat -L -c '%d:%i' "$p/fd/7" 2>/dev/null) || continue
    [ "$id" = "$want" ] && pids+=("${p#/proc/}")
  done
  for p in "${pids[@]}"; do
    ppid=$(sed 's/.*) [A-Za-z] \([0-9]*\).*/\1/' "/proc/$p/stat" 2>/dev/null) || continue
    if [ "$p" = $$ ] || [ "$p" = "$BASHPID" ] || [ "$ppid" = $$ ] || [ "$ppid" = "$BASHPID" ] ||
       [[ " ${pids[*]} " == *" $ppid "* ]]; then
      continue
    fi
    out+=("${out[*]:+; }pid $p: $(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | cut -c1-60 | sed 's/ *$//')")
  done
  local IFS=
  printf '%s' "${out[*]}"
}

# True when this process runs inside a command that uses venv $1 (./run ... inside ./run ...): it holds that
# venv's use lock itself, so waiting to change the venv would wait for itself.
venv_lock_nested() { [ "${TRITON_XPU_USING_VENV:-}" = "$1" ]; }

# venv_lock_setup VENV: take the set-up lock (fd 8), waiting for another set-up of the same venv.
venv_lock_setup() {
  local lock=$1.setup.lock holder
  venv_lock_check
  mkdir -p "$(dirname "$1")"
  exec 8<>"$lock" || venv_lock_die "cannot open $lock: is $(dirname "$1") writable?"
  if ! flock -n 8; then
    holder=$(cat "$lock" 2>/dev/null || true)
    if venv_lock_nested "$1"; then
      venv_lock_die "another ./run (pid $holder) is setting up $(venv_lock_name "$1"), which the command this ./run runs in is using (so the other may be waiting for it): run this ./run outside that command, or after the other one"
    fi
    venv_lock_say "waiting for another ./run setting up $(venv_lock_name "$1") (pid $holder)"
    flock 8
  fi
  printf '%s\n' "${TRITON_XPU_RUN_PID:-$$}" > "$lock"
}

# venv_lock_change VENV: before set-up changes the venv, wait until no command runs from it (fd 7, exclusive).
VENV_LOCK_CHANGING=
venv_lock_change() {
  [ "$VENV_LOCK_CHANGING" = "$1" ] && return 0
  local lock=$1.use.lock
  exec 7<>"$lock" || venv_lock_die "cannot open $lock: is $(dirname "$1") writable?"
  if ! flock -n -x 7; then
    if venv_lock_nested "$1"; then
      venv_lock_die "$(venv_lock_name "$1") must be updated (the sources or requirements changed), but the command this ./run runs in is using it: run this ./run outside that command"
    fi
    venv_lock_say "waiting for the commands running from $(venv_lock_name "$1") to end before changing it ($(venv_lock_users "$lock")): installing under a running suite would break it"
    flock -x 7
  fi
  VENV_LOCK_CHANGING=$1
}

# venv_lock_use VENV: for the command about to run from the venv (fd 7, shared, inherited by the command): waits
# only while a set-up is changing the venv.
venv_lock_use() {
  local lock=$1.use.lock holder
  venv_lock_check
  mkdir -p "$(dirname "$1")"
  exec 7<>"$lock" || venv_lock_die "cannot open $lock: is $(dirname "$1") writable?"
  if ! flock -n -s 7; then
    holder=$(cat "$1.setup.lock" 2>/dev/null || true)
    venv_lock_say "waiting for another ./run changing $(venv_lock_name "$1") (pid $holder)"
    flock -s 7
  fi
  export TRITON_XPU_USING_VENV=$1
}
