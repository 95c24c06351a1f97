"""Fleet bring-up: N fresh nodes load their kernels from a warm shared store, against stock triton-xpu sharing its own
Triton cache the same way, measured in the same run.

    TRITON_XPU_EMULATE=pvc python benchmarks/fleet.py [--nodes 8] [--kernels add,softmax,...]
                                                       [--corpus liger/rms_norm_fwd,...|all|""] [--json]

One ``redis-server`` on a loopback port (Debian's, started and stopped here) holds both stores: this project's fleet
cache (``RedisStore``, keys ``triton:...``) and stock's (PyPI's triton-xpu 3.3.0b1, unpatched, through Triton's own
``RedisRemoteCacheBackend``, keys ``stock:...``; see stock_triton.py).  Every node is a fresh process with an empty
local Triton cache and NEO's persistent compiler cache off (``NEO_CACHE_PERSISTENT=0``, a fresh ``NEO_CACHE_DIR``),
on the (real or emulated) device.  A node brings up the kernels -- by default the main job's
(examples/main.py) -- as a serving process does: for each, Triton's compile (a store hit) and the first load
(``CompiledKernel._init_handles``: the launcher and the module).  Stock's SPIR-V is compiled by the driver at that
load, on every node (with its 256-GRF retry for kernels spilling more than 1000 bytes).

Besides ``--kernels``, each node brings up the corpus's published kernels named by ``--corpus`` (entries of
python/test/corpus/corpus_tables.py; ``all``: every default entry from a published package, none marked frontend,
refused or full_only; empty: none), the same way and in the same window.  Their packages (Liger, FlagGems,
flash-linear-attention, installed from PyPI) are imported in the node before the window, as a serving process
imports them before its first kernel, and each entry resolved by the corpus harness (``harness.resolve``): ours under
the corpus's stand-in torch (python/test/support/standin_torch, a test double), stock under standin_torch_xpu (the
same double plus the ``torch.xpu`` stock's driver needs), with harness.PACKAGE_ENV.  The default, DEFAULT_CORPUS,
is six small kernels, two per package, that both compile and load on pvc, so the default run stays within about
five minutes on 2 cores.  A kernel that fails to import, compile or load on either kind fails the run, naming it.

1. The first node of each (the store empty) compiles every kernel and fills its store: paid once for the fleet.
2. Then ``--nodes`` nodes of each (default 8), interleaved (ours, stock, ours, ...), each with the store warm.  A
   node that compiled a kernel or built a launcher (its store did not serve it) fails the run.

Per node (ms): ``kernels``, from the first kernel's compile call to all kernels loaded, the driver already up (the
backend's construction, the store's reads, the checks, launchers, module loads); of which ``load`` (the driver's
``load_binary``: stock's SPIR-V compile happens there), ``backend`` (constructing the backend) and ``triton_key``
(Triton's hash of its own files, once per process, whatever the backend); ``driver``, bringing the driver up before
(device, queue; stock's SYCL runtime helper from its store, unless a package's import brought it up already);
``imports``, importing the corpus's packages and resolving its entries, before the driver; ``process``, the whole
process as its parent saw it (interpreter, imports, exit); ``compiled`` and ``built``, ours/stock, the kernels
(corpus kernels included) compiled and the C++ launchers and helpers built, from the package imports on.
``ratio`` is stock's figure over ours.  The fleet rows: the first node's compile, the median node (also without
``triton_key``), the slowest node, all N nodes' total, and the fleet ready (the first node, then N nodes side by side
on their own machines: first + slowest).  The store's size per target: entries (Triton cache keys),
Redis keys, bytes (``STRLEN``) and Redis's own accounting (``MEMORY USAGE``), and what the key names (ours: the named
target; stock: the device's properties).
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

from bench_common import NotMeasured, Row, Tables, device_main, fresh_process_json, interleaved, timed

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "python" / "test"))  # the test support package: support.redis_server
CORPUS = REPO / "python" / "test" / "corpus"  # the corpus's tables and harness (corpus_tables.py, harness.py)
# Ours' nodes import the corpus's packages under the corpus's own stand-in torch (a test double, CPU-only, as the
# corpus compiles them); stock's under standin_torch_xpu (that stand-in plus torch.xpu), already on its PYTHONPATH.
STANDIN_TORCH = REPO / "python" / "test" / "support" / "standin_torch"
# The default corpus selection: published kernels of each package that the node brings up besides the main job's,
# small enough that stock's SPIR-V compile at load on every node keeps the default run within a few minutes.
DEFAULT_CORPUS = ("liger/rms_norm_fwd,liger/swiglu_fwd,flag_gems/softmax_inner,flag_gems/layer_norm_persistent,"
                  "fla/l2norm_fwd,fla/chunk_local_cumsum")

OURS_PREFIX, STOCK_PREFIX = "triton", "stock"
KERNEL_FAILED = "fleet: kernel"  # how a node's error naming a kernel begins
BASELINE = ("stock triton-xpu 3.3.0b1 (PyPI, unpatched; its SPIR-V compiled by the driver at load on every node), "
            "sharing its Triton cache through Triton's RedisRemoteCacheBackend on the same redis-server")


# --- a node (this script run again with --child, in a fresh process) ------------------------------------------------


def node(names: str, corpus: str = "") -> Row:
    """One node's bring-up in this fresh process, with this project's Triton or stock's (whichever is importable):
    the example kernels ``names`` and the corpus entries ``corpus`` (comma-separated, either may be empty)."""
    import triton
    import triton.compiler.compiler as triton_compiler
    import triton.runtime.build as build
    import kernels
    from triton.backends import backends
    from triton.runtime.driver import driver

    spent: Dict[str, float] = {}
    counts = {"compiled": 0, "built": 0}
    backend = backends["intel"].compiler
    timed(backend, "__init__", spent, "backend")
    timed(triton_compiler, "triton_key", spent, "triton_key")  # Triton's hash of its own files, once per process
    _counted(backend, "add_stages", counts, "compiled")  # Triton adds the stages only to compile (a cache miss)
    _counted(build, "_build", counts, "built")  # C/C++ builds (stock's launchers and helpers)
    # Stock's driver module imported _build by name, and exists twice: Triton loads backend modules by path (not in
    # sys.modules), and stock's compiler imports it again by name.
    namespaces = (getattr(backends["intel"].driver.__init__, "__globals__", {}),
                  vars(sys.modules.get("triton.backends.intel.driver", build)))
    for namespace in {id(n): n for n in namespaces if n is not vars(build) and "_build" in n}.values():
        _counted(namespace, "_build", counts, "built")

    # The corpus's packages imported and its entries resolved before the window (both kinds pay it alike; a
    # serving process imports its packages before its first kernel): counted already, in case an import compiles.
    start = time.perf_counter()
    sources = [(name, kernels.SPECS[name].source(), dict(kernels.SPECS[name].options))
               for name in names.split(",") if name] + _corpus_sources(corpus)
    imported = time.perf_counter()
    device = driver.active.get_current_device()
    driver.active.get_current_stream(device)
    target = driver.active.get_current_target()
    up = time.perf_counter()
    timed(driver.active.utils, "load_binary", spent, "load")
    for name, source, options in sources:
        try:
            compiled = triton.compile(source, target=target, options=options)
            compiled._init_handles()  # the first load: launcher, module and kernel
        except Exception as e:
            sys.path.insert(0, str(CORPUS))
            from harness import _error_text  # Triton's front-end errors: the position and the reason, not the source
            raise RuntimeError(f"{KERNEL_FAILED} {name} failed to compile or load: {_error_text(e)}") from e
    done = time.perf_counter()
    return {"kernels_ms": (done - up) * 1e3, "driver_ms": (up - imported) * 1e3,
            "imports_ms": (imported - start) * 1e3,
            **{f"{part}_ms": spent.get(part, 0.0) for part in ("load", "backend", "triton_key")}, **counts}


def _corpus_sources(corpus: str) -> List[Tuple[str, Any, Dict[str, Any]]]:
    """(name, ASTSource, options) of each corpus entry named in ``corpus``: its published package imported (under
    the stand-in torch this node's environment put first) and its kernel resolved by the corpus harness."""
    if not corpus:
        return []
    from triton.compiler import ASTSource
    sys.path.insert(0, str(CORPUS))
    import harness
    import torch
    assert getattr(torch, "STANDIN", False), f"expected a stand-in torch, imported {torch.__file__}"
    # The packages' import-time settings (harness.PACKAGE_ENV); the driver is the node's own, emulated or not.
    os.environ.update({k: v for k, v in harness.PACKAGE_ENV.items() if k != "TRITON_XPU_EMULATE"})
    import warnings
    warnings.simplefilter("ignore")  # the packages warn about the missing GPU and the Triton version at import
    from corpus_tables import ENTRIES
    sources = []
    for name in corpus.split(","):
        try:
            fn, signature, constexprs, options = harness.resolve(ENTRIES[name])
        except Exception as e:
            raise RuntimeError(f"{KERNEL_FAILED} {name} failed to import: {type(e).__name__}: {e}") from e
        sources.append((name, ASTSource(fn, signature=signature, constexprs=constexprs), options))
    return sources


def _counted(owner: Any, name: str, counts: Dict[str, int], what: str) -> None:
    """Wrap ``owner.name`` (or ``owner[name]`` of a module's namespace) so that each call counts in ``counts[what]``."""
    original = owner[name] if isinstance(owner, dict) else getattr(owner, name)

    def wrapper(*args, **kwargs):
        counts[what] += 1
        return original(*args, **kwargs)

    if isinstance(owner, dict):
        owner[name] = wrapper
    else:
        setattr(owner, name, wrapper)


# --- the fleet ------------------------------------------------------------------------------------------------------


class Fleet:
    """Starts nodes of one kind (ours or stock) on one store; each node in a folder of its own under ``work``."""

    def __init__(self, kind: str, python: str, env: Dict[str, str], names: str, corpus: str, work: Path):
        self.kind, self.python, self.env, self.names, self.corpus, self.work = kind, python, env, names, corpus, work
        self.started = 0

    def run(self) -> Row:
        folder = self.work / f"{self.kind}-node-{self.started}"
        self.started += 1
        env = dict(self.env, TRITON_CACHE_DIR=str(folder / "triton-cache"), NEO_CACHE_PERSISTENT="0",
                   NEO_CACHE_DIR=str(folder / "neo-cache"))
        (folder / "neo-cache").mkdir(parents=True)
        start = time.perf_counter()
        what = f"{self.kind} node {self.started - 1}"
        try:
            row = fresh_process_json(__file__, [self.names, self.corpus], env, what, 1800, python=self.python)
        except RuntimeError as e:  # the node's error naming the kernel, last, under its stderr
            named = [line for line in str(e).splitlines() if line.startswith(f"RuntimeError: {KERNEL_FAILED} ")]
            if not named:
                raise
            raise RuntimeError(f"{e}\n{what}: {named[-1].split(': ', 1)[1]}") from None
        row["process_ms"] = (time.perf_counter() - start) * 1e3
        return row


def _ours_env(target: str, url: str, corpus: str) -> Dict[str, str]:
    from support.redis_server import fleet_env
    # No signing secret or other store settings of the caller's: the store's size is measured on raw entries.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRITON_REDIS_", "TRITON_XPU_CACHE_"))}
    env.update(fleet_env(url))
    if corpus:
        env["PYTHONPATH"] = os.pathsep.join([str(STANDIN_TORCH)] + [p for p in [env.get("PYTHONPATH")] if p])
    if os.environ.get("TRITON_XPU_EMULATE"):
        env["TRITON_XPU_EMULATE"] = target
    return env


def _stock_env(target: str, port: int) -> Dict[str, str]:
    import stock_triton
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRITON_", "PYTHONPATH"))}
    env.update(stock_triton.environment(target))
    env.update({"TRITON_CACHE_MANAGER": "triton.runtime.cache:RemoteCacheManager",
                "TRITON_REMOTE_CACHE_BACKEND": "triton.runtime.cache:RedisRemoteCacheBackend",
                "TRITON_REDIS_HOST": "127.0.0.1", "TRITON_REDIS_PORT": str(port),
                "TRITON_REDIS_KEY_FORMAT": STOCK_PREFIX + ":{key}:{filename}"})
    return env


def _stock_python(target: str) -> str:
    import stock_triton
    why = stock_triton.problem()
    if why is None and target not in stock_triton.SYCL_ARCHITECTURE:
        why = f"stock triton-xpu knows no {target} device (it knows {', '.join(stock_triton.SYCL_ARCHITECTURE)})"
    if why:
        raise NotMeasured(f"fleet: not measured: the baseline, stock triton-xpu {stock_triton.VERSION}, cannot run "
                          f"here: {why}")
    try:
        return str(stock_triton.python())
    except stock_triton.StockUnavailable as e:
        raise NotMeasured(f"fleet: not measured: {e}") from None


def corpus_names(corpus: str) -> str:
    """The corpus entries ``--corpus`` names (``all``: every entry of the default corpus from a published package,
    not marked frontend, refused or full_only), checked: NotMeasured naming the unknown ones."""
    if not corpus:
        return ""
    sys.path.insert(0, str(CORPUS))
    from corpus_tables import ENTRIES  # the tables only: no package is imported here
    if corpus == "all":
        return ",".join(n for n, e in ENTRIES.items()
                        if not (n.startswith("examples/") or e.frontend or e.refused or e.full_only))
    unknown = [n for n in corpus.split(",") if n not in ENTRIES]
    if unknown:
        raise NotMeasured(f"fleet: unknown corpus entr{'ies' if len(unknown) > 1 else 'y'} {', '.join(unknown)}; "
                          f"known: {', '.join(ENTRIES)}")
    return corpus


def _check_warm(kind: str, rows: List[Row]) -> None:
    for i, row in enumerate(rows):
        if row["compiled"] or row["built"]:
            raise RuntimeError(f"{kind} node {i + 1} compiled {row['compiled']} kernel(s) and built {row['built']} "
                               "launcher(s) with the store warm: its store did not serve it")


# --- the store's size ---------------------------------------------------------------------------------------------


def store_size(client: Any, prefix: str, system: str, device_target: str) -> List[Row]:
    """Per target: the entries (Triton cache keys), Redis keys, bytes and Redis's memory for keys ``prefix:*``; the
    nodes' device was of ``device_target``."""
    entries: Dict[str, List[bytes]] = {}
    for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        entries.setdefault(key.split(b":")[1].decode(), []).append(key)
    per_target: Dict[str, Row] = {}
    for cache_key, keys in sorted(entries.items()):
        target, keyed_by = _entry_target(client, keys, device_target)
        row = per_target.setdefault(target, {"store": system, "target": target, "keyed_by": keyed_by, "entries": 0,
                                             "keys": 0, "bytes": 0, "memory_bytes": 0})
        row["entries"] += 1
        row["keys"] += len(keys)
        for key in keys:
            row["bytes"] += client.strlen(key)
            row["memory_bytes"] += client.memory_usage(key, samples=0) or 0
    return list(per_target.values())


def _entry_target(client: Any, keys: List[bytes], device_target: str) -> Tuple[str, str]:
    """What an entry is for, and what its key names: a kernel's target (ours: the named target its metadata records;
    stock: the device it was compiled on, whose properties are its key), else what its files are."""
    for key in keys:
        name = key.split(b":", 2)[2].decode()
        if name.endswith(".json") and not name.startswith("__grp__") and name != "answer.json":
            metadata = json.loads(client.get(key))  # no secret in this run: entries are stored raw
            if "target_arch" in metadata:
                return metadata["target_arch"], "named target"
            arch = metadata["target"]["arch"]
            return f"{device_target} (device {arch.get('name')})", "device properties"
    files = {k.split(b":", 2)[2].decode() for k in keys}
    if files == {"answer.json"}:
        return "not a kernel: the compiler's answers (capability probes)", "compiler identity"
    if all(name.endswith(".so") for name in files):
        return "not a kernel: C++ launchers and runtime helpers", "source"
    return "not a kernel: " + ", ".join(sorted(files)), "?"


# --- the tables ---------------------------------------------------------------------------------------------------


def _ratio(stock: float, ours: float) -> Any:
    return round(stock / ours, 1) if ours else None


def node_rows(first: Dict[str, Row], nodes: Dict[str, List[Row]]) -> List[Row]:
    rows = []
    for i, (ours, stock) in enumerate([(first["ours"], first["stock"])] + list(zip(nodes["ours"], nodes["stock"]))):
        row: Row = {"node": "first (compiles)" if i == 0 else str(i)}
        for key in ("kernels", "process"):
            row[f"ours_{key}_ms"] = round(ours[f"{key}_ms"], 1)
            row[f"stock_{key}_ms"] = round(stock[f"{key}_ms"], 1)
            row[f"{key}_ratio"] = _ratio(stock[f"{key}_ms"], ours[f"{key}_ms"])
        for key in ("load", "backend", "triton_key", "driver", "imports"):
            row[f"ours_{key}_ms"] = round(ours[f"{key}_ms"], 1)
            row[f"stock_{key}_ms"] = round(stock[f"{key}_ms"], 1)
        row["compiled"] = f"{ours['compiled']}/{stock['compiled']}"
        row["built"] = f"{ours['built']}/{stock['built']}"
        rows.append(row)
    return rows


def fleet_rows(first: Dict[str, Row], nodes: Dict[str, List[Row]]) -> List[Row]:
    n = len(nodes["ours"])
    figures: Dict[str, Callable[[str, str], float]] = {
        "first node: compile and fill the store (once)": lambda kind, key: first[kind][f"{key}_ms"],
        f"node bring-up, median of {n}": lambda kind, key: statistics.median(r[f"{key}_ms"] for r in nodes[kind]),
        # What the backend and the cache decide: Triton hashes its own files once per process whatever the backend.
        f"the same without Triton's triton_key, median": lambda kind, key: statistics.median(
            r[f"{key}_ms"] - r["triton_key_ms"] for r in nodes[kind]),
        "slowest node": lambda kind, key: max(r[f"{key}_ms"] for r in nodes[kind]),
        f"all {n} nodes (sum)": lambda kind, key: sum(r[f"{key}_ms"] for r in nodes[kind]),
        f"fleet ready: first node, then {n} side by side": lambda kind, key: (
            first[kind][f"{key}_ms"] + max(r[f"{key}_ms"] for r in nodes[kind])),
    }
    rows = []
    for what, figure in figures.items():
        row: Row = {"fleet": what}
        for key in ("kernels", "process"):
            ours, stock = figure("ours", key), figure("stock", key)
            row.update({f"ours_{key}_ms": round(ours, 1), f"stock_{key}_ms": round(stock, 1),
                        f"{key}_ratio": _ratio(stock, ours)})
        rows.append(row)
    return rows


# --- main ---------------------------------------------------------------------------------------------------------


def measure(args) -> Tables:
    from support.redis_server import RedisServer, RedisServerMissing
    from triton.runtime.driver import driver
    from triton.backends.intel.runtime import level_zero
    import kernels

    names = args.kernels
    unknown = [n for n in names.split(",") if n and n not in kernels.SPECS]
    if unknown:
        raise NotMeasured(f"fleet: unknown kernel(s) {', '.join(unknown)}; known: {', '.join(kernels.SPECS)}")
    corpus = corpus_names(args.corpus)
    if not names and not corpus:
        raise NotMeasured("fleet: no kernels: --kernels and --corpus are both empty")
    target = level_zero.device(driver.active.get_current_device()).target.name
    stock_python = _stock_python(target)
    work = Path(tempfile.mkdtemp(prefix="bench-fleet-"))
    try:
        server = RedisServer(work / "redis", []).start()
    except RedisServerMissing as e:
        raise NotMeasured(f"fleet: not measured: {e}") from None
    try:
        fleets = {"ours": Fleet("ours", sys.executable, _ours_env(target, server.url, corpus), names, corpus, work),
                  "stock": Fleet("stock", stock_python, _stock_env(target, server.port), names, corpus, work)}
        first = {}
        for kind, fleet in fleets.items():
            print(f"the first {kind} node compiles {','.join(n for n in (names, corpus) if n)} for {target}",
                  file=sys.stderr, flush=True)
            first[kind] = fleet.run()
        print(f"{args.nodes} nodes of each, interleaved", file=sys.stderr, flush=True)
        nodes = interleaved(args.nodes, {kind: fleet.run for kind, fleet in fleets.items()})
        for kind, rows in nodes.items():
            _check_warm(kind, rows)
        client = server.client()
        store = store_size(client, OURS_PREFIX, "ours", target) + store_size(client, STOCK_PREFIX, "stock", target)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return Tables({"setup": {"target": target, "nodes": args.nodes, "kernels": names, "corpus": corpus,
                             "baseline": BASELINE},
                   "nodes": node_rows(first, nodes), "fleet": fleet_rows(first, nodes), "store": store})


def main(argv: List[str] | None = None) -> int:
    main_job = importlib.import_module("main")  # examples/main.py: its kernels are the default
    return device_main(__doc__, argv, measure, child=node, nodes=8, kernels=main_job.DEFAULT_KERNELS,
                       corpus=DEFAULT_CORPUS)


if __name__ == "__main__":
    sys.exit(main())
