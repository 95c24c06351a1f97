"""Several processes on one Triton cache, and a process killed during a compile: every later run finds whole
entries, compiles what is missing, and says nothing.

Each process is a fresh Python, compiling for the named target pvc (no device needed).
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]

COMPILE = textwrap.dedent("""
    import json, sys, warnings
    import kernels
    warnings.simplefilter("always")
    with warnings.catch_warnings(record=True) as caught:
        zebins = {name: kernels.SPECS[name].compile("pvc").asm["zebin"].hex() for name in sys.argv[1:]}
    print(json.dumps({"zebins": zebins, "warnings": [str(w.message) for w in caught]}))
""")


def start(tmp_path, cache, names, **env):
    script = tmp_path / "compile.py"
    # Written once: rewriting it truncates the file a child started just before may be reading at that moment (a
    # loaded machine delays its start): that child then runs an empty script and exits 0 printing nothing.
    if not script.exists():
        script.write_text(COMPILE)
    full = dict(os.environ, TRITON_CACHE_DIR=str(cache), PYTHONPATH=str(REPO / "examples"), **env)
    full.pop("TRITON_XPU_EMULATE", None)
    return subprocess.Popen([sys.executable, str(script), *names], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=full)


def finish(proc):
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


NAMES = ["add", "softmax"]


def test_processes_compiling_into_one_cache_at_once_all_succeed_and_leave_whole_entries(tmp_path):
    cache = tmp_path / "cache"
    results = [finish(p) for p in [start(tmp_path, cache, NAMES) for _ in range(4)]]
    assert all(r["warnings"] == [] for r in results), results
    assert all(r["zebins"] == results[0]["zebins"] for r in results)
    # One whole entry per kernel: a later process uses them as they are.
    groups = {p: p.stat().st_mtime_ns for p in cache.rglob("__grp__*.json")}
    assert len(groups) == len(NAMES)
    later = finish(start(tmp_path, cache, NAMES))
    assert later == results[0]
    assert {p: p.stat().st_mtime_ns for p in cache.rglob("__grp__*.json")} == groups  # nothing rewritten
    assert not [p for p in cache.iterdir() if p.name.startswith("tmp.")]  # no write left half-done


def test_processes_meeting_one_damaged_entry_each_repair_it(tmp_path):
    cache = tmp_path / "cache"
    first = finish(start(tmp_path, cache, ["add"]))
    (zebin,) = cache.rglob("add_kernel.zebin")
    zebin.write_bytes(zebin.read_bytes()[:500])
    results = [finish(p) for p in [start(tmp_path, cache, ["add"]) for _ in range(3)]]
    for r in results:  # each saw the damage (or the repaired entry), none failed
        assert r["zebins"] == first["zebins"]
        assert len(r["warnings"]) <= 1 and all("add_kernel.zebin does not match" in w for w in r["warnings"])
    assert finish(start(tmp_path, cache, ["add"])) == first


# A libocloc that blocks every SPIR-V compile and forwards everything else (queries, ids, the capability
# probes) to the real one: a test double of a compile that runs long, so the test can kill the process
# during it.
BLOCKING_LIBOCLOC = r"""
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
typedef int (*invoke_t)(unsigned, const char **, unsigned, const void *, const void *, const void *, unsigned,
                        const void *, const void *, const void *, void *, void *, void *, void *);
typedef int (*free_t)(void *, void *, void *, void *);
static void *real(const char *name) {
  static void *lib;
  if (!lib) lib = dlopen("libocloc.so", RTLD_NOW);
  return lib ? dlsym(lib, name) : NULL;
}
int oclocInvoke(unsigned argc, const char **argv, unsigned n, const void *s, const void *l, const void *names,
                unsigned nh, const void *h, const void *hl, const void *hn, void *no, void *od, void *ol, void *on) {
  for (unsigned i = 0; i < argc; ++i)
    if (!strcmp(argv[i], "-spirv_input")) {
      FILE *f = fopen(getenv("BLOCKED_MARKER"), "w");
      fprintf(f, "%d", getpid());
      fclose(f);
      for (;;) pause();
    }
  return ((invoke_t)real("oclocInvoke"))(argc, argv, n, s, l, names, nh, h, hl, hn, no, od, ol, on);
}
int oclocFreeOutput(void *n, void *d, void *l, void *names) {
  return ((free_t)real("oclocFreeOutput"))(n, d, l, names);
}
"""


def gone(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")  # a zombie no longer runs


def test_a_process_killed_during_a_compile_leaves_no_entry_and_no_compiler_behind(tmp_path):
    lib = tmp_path / "libblocking_ocloc.so"
    src = tmp_path / "blocking_ocloc.c"
    src.write_text(BLOCKING_LIBOCLOC)
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(lib), str(src), "-ldl"], check=True)
    cache, marker = tmp_path / "cache", tmp_path / "blocked"
    proc = start(tmp_path, cache, ["add"], TRITON_LIBOCLOC_PATH=str(lib), TRITON_XPU_OCLOC_MODE="lib",
                 BLOCKED_MARKER=str(marker))
    deadline = time.monotonic() + 120
    while not (marker.exists() and marker.read_text()):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[1][-3000:]
        time.sleep(0.05)
    worker = int(marker.read_text())
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    while not gone(worker):  # libocloc's worker dies with its parent
        assert time.monotonic() < deadline, f"libocloc's worker {worker} outlived the killed compile"
        time.sleep(0.05)
    assert list(cache.rglob("__grp__add_kernel.json")) == []  # no entry claims the kernel
    assert finish(start(tmp_path, cache, ["add"]))["warnings"] == []  # the next run compiles it quietly
    assert len(list(cache.rglob("__grp__add_kernel.json"))) == 1
