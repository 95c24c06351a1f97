"""``kernel[grid](...)`` through the native dispatcher (runtime/fast_launch.py): it returns the kernel Triton's own
path returns, keeps Triton's hooks, recompiles when Triton would, and every error is the one Triton's path raises.
Each test's child runs on the emulated pvc and compares with Triton's own path, ``KernelInterface.__getitem__``
(the lambda that calls ``JITFunction.run``), in the same process.  That the launches set the right arguments and
grid is test_dispatch.py's ``*_fast`` cases; what they compute, the numeric suite's."""

import textwrap

import pytest

from test_driver import run_json

PRELUDE = """
from triton.runtime.jit import KernelInterface
from triton.compiler import CompiledKernel

N = 1 << 12
x, y, out = (driver.active.alloc(4 * N, "device", "float32") for _ in range(3))
add = kernels.add_kernel
grid = (N // 1024, )


def tritons(fn, grid):
    return KernelInterface.__getitem__(fn, grid)  # Triton's own fn[grid]: run, in Python


def stats(fn):
    return fn._fast_launch.stats()


def outcome(call):
    try:
        return ("returned", call())
    except Exception as e:
        return ("raised", type(e).__name__, str(e))
"""


def child(code: str, **env) -> dict:
    return run_json(PRELUDE + textwrap.dedent(code), env=env or None)


def test_a_repeated_call_returns_the_kernel_run_returns():
    out = child("""
        import struct
        odd = driver.active.alloc(4 * N + 64, "device", "float32")
        class Offset:  # a pointer 4 bytes into a buffer: not divisible by 16
            dtype = odd.dtype
            def data_ptr(self):
                return odd.data_ptr() + 4
        calls = [((x, y, out, N), {"BLOCK": 1024}), ((x, y, out, N - 1), {"BLOCK": 1024}),
                 ((x, y, Offset(), N), {"BLOCK": 1024}), ((x, y, out, 1), {"BLOCK": 1024}),
                 ((x, y, out, N), {"BLOCK": 512}), ((x, y, out, N), {"BLOCK": 1024, "num_warps": 8})]
        same, kinds = [], set()
        for args, kwargs in calls:
            first = add[grid](*args, **kwargs)
            again = add[grid](*args, **kwargs)
            run_says = add.run(*args, grid=grid, warmup=True, **kwargs)
            same.append(first is again is run_says)
            kinds.add(id(first))
        print(json.dumps({"same": same, "distinct": len(kinds), "stats": stats(add)}))
    """)
    assert all(out["same"]), out
    assert out["distinct"] == 6  # each call above is its own specialisation
    assert out["stats"]["hits"] == 6 and out["stats"]["misses"] == 6 and out["stats"]["declined"] == 0


def test_hooks_go_through_run():
    out = child("""
        add[grid](x, y, out, N, BLOCK=1024)
        seen = []
        CompiledKernel.launch_enter_hook = lambda metadata: seen.append("enter")
        CompiledKernel.launch_exit_hook = lambda metadata: seen.append("exit")
        add[grid](x, y, out, N, BLOCK=1024)
        CompiledKernel.launch_enter_hook = CompiledKernel.launch_exit_hook = None
        add.add_pre_run_hook(lambda *args, **kwargs: seen.append(("pre", len(args))))
        add[grid](x, y, out, N, BLOCK=1024)
        print(json.dumps({"seen": seen, "stats": stats(add)}))
    """)
    assert out["seen"] == ["enter", "exit", ["pre", 4]]
    assert out["stats"] == {"hits": 0, "misses": 1, "declined": 2, "entries": 1}


def test_a_cleared_kernel_cache_compiles_again_as_triton_does():
    out = child("""
        first = add[grid](x, y, out, N, BLOCK=1024)
        add[grid](x, y, out, N, BLOCK=1024)
        add.device_caches.clear()
        second = add[grid](x, y, out, N, BLOCK=1024)
        third = add[grid](x, y, out, N, BLOCK=1024)
        print(json.dumps({"new": first is not second, "kept": second is third, "stats": stats(add)}))
    """)
    assert out["new"] and out["kept"]
    assert out["stats"]["misses"] == 2 and out["stats"]["hits"] == 2


def test_a_changed_global_raises_tritons_error():
    out = child("""
        SCALE = tl.constexpr(2.0)

        @triton.jit
        def scaled(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
            offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
            tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=offs < n) * SCALE, mask=offs < n)

        scaled[grid](x, out, N, BLOCK=1024)
        scaled[grid](x, out, N, BLOCK=1024)
        SCALE = tl.constexpr(3.0)
        ours = outcome(lambda: scaled[grid](x, out, N, BLOCK=1024))
        theirs = outcome(lambda: tritons(scaled, grid)(x, out, N, BLOCK=1024))
        print(json.dumps({"ours": ours, "theirs": theirs}))
    """)
    assert out["ours"] == out["theirs"]
    assert out["ours"][:2] == ["raised", "RuntimeError"] and "Global variable SCALE has changed" in out["ours"][2]


# (grid, arguments) of a call Triton refuses, made after the same kernel was remembered for good arguments.
BAD_CALLS = {
    "too_many_arguments": ("grid", "(x, y, out, N, 1024, 5)"),
    "a_missing_argument": ("grid", "(x, y, out, BLOCK=1024)"),
    "an_argument_given_twice": ("grid", "(x, y, out, N, n_elements=N, BLOCK=1024)"),
    "an_unknown_keyword": ("grid", "(x, y, out, N, BLOCK=1024, colour=3)"),
    "a_string_for_a_pointer": ("grid", "('x', y, out, N, BLOCK=1024)"),
    "another_contexts_memory": ("grid", "(x, y, foreign, N, BLOCK=1024)"),
    "an_int_beyond_64_bits": ("grid", "(x, y, out, 2**70, BLOCK=1024)"),
    "an_empty_grid": ("()", "(x, y, out, N, BLOCK=1024)"),
    "a_grid_of_strings": ("('a', )", "(x, y, out, N, BLOCK=1024)"),
}


@pytest.mark.parametrize("case", BAD_CALLS)
def test_a_bad_call_raises_what_tritons_path_raises(case):
    grid, args = BAD_CALLS[case]
    out = child(f"""
        import ctypes
        class Foreign:  # host memory of no Level Zero context
            dtype = out.dtype
            def __init__(self):
                self.buffer = ctypes.create_string_buffer(4 * N + 64)
            def data_ptr(self):
                return (ctypes.addressof(self.buffer) + 15) // 16 * 16
        foreign = Foreign()
        add[grid](x, y, out, N, BLOCK=1024)
        add[grid](x, y, out, N, BLOCK=1024)  # remembered: the bad call below is not a first call
        ours = outcome(lambda: add[{grid}]{args})
        theirs = outcome(lambda: tritons(add, {grid}){args})
        print(json.dumps({{"ours": ours, "theirs": theirs}}))
    """)
    assert out["ours"] == out["theirs"]
    assert out["ours"][0] == "raised", out


def test_a_callable_grid_gets_what_tritons_path_gives_it():
    out = child("""
        seen = []
        def grid_of(meta):
            seen.append(sorted((k, v if isinstance(v, (int, float, str)) else type(v).__name__)
                               for k, v in meta.items()))
            return (triton.cdiv(meta["n_elements"], meta["BLOCK"]), )
        add[grid_of](x, y, out, N, BLOCK=1024)
        add[grid_of](x, y, out, N, BLOCK=1024)
        tritons(add, grid_of)(x, y, out, N, BLOCK=1024)
        print(json.dumps({"seen": seen, "stats": stats(add)}))
    """)
    assert out["seen"][0] == out["seen"][1] == out["seen"][2]
    assert out["stats"]["hits"] == 1


def test_the_knob_turns_it_off():
    out = child("""
        bound = add[grid]
        add[grid](x, y, out, N, BLOCK=1024)
        print(json.dumps({"type": type(bound).__name__, "fast": add.__dict__.get("_fast_launch")}))
    """, TRITON_XPU_FAST_LAUNCH="0")
    assert out == {"type": "function", "fast": False}


def test_autotuned_and_heuristic_kernels_keep_their_own_path():
    out = child("""
        @triton.autotune(configs=[triton.Config({"BLOCK": 512}), triton.Config({"BLOCK": 1024})], key=["n"])
        @triton.jit
        def tuned(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
            offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
            tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=offs < n), mask=offs < n)

        @triton.heuristics({"BLOCK": lambda args: 256})
        @triton.jit
        def heuristic(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
            offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
            tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=offs < n), mask=offs < n)

        g = lambda meta: (triton.cdiv(N, meta["BLOCK"]), )
        tuned[g](x, out, N)
        tuned[g](x, out, N)
        heuristic[g](x, out, N)
        print(json.dumps({"best": tuned.best_config.kwargs,
                          "kinds": [type(tuned[g]).__name__, type(heuristic[g]).__name__]}))
    """)
    assert out["best"]["BLOCK"] in (512, 1024)
    assert out["kinds"] == ["function", "function"]  # Triton's own wrappers, then fn.run


@pytest.mark.usefixtures("sycl_gpu")
def test_on_sycl_queues_a_repeated_call_follows_the_current_queue_even_a_new_one():
    out = child("""
        import gc
        import dpctl, dpctl.memory as dpm

        class USM:
            dtype = "float32"
            def __init__(self, queue):
                self.memory = dpm.MemoryUSMDevice(4 * N, queue=queue)
            def data_ptr(self):
                return self.memory._pointer

        first, second = (dpctl.SyclQueue("level_zero:gpu", property="in_order") for _ in range(2))
        a = [USM(first) for _ in range(3)]
        outcomes = []
        for queue in (first, first, second, second):
            with driver.active.stream(queue):
                outcomes.append(outcome(lambda: add[grid](*a, N, BLOCK=1024) is not None))
        # A queue freed and another made, perhaps at the same address: launches go to the new one.
        del second
        gc.collect()
        third = dpctl.SyclQueue("level_zero:gpu", property="in_order")
        for _ in range(2):
            with driver.active.stream(third):
                outcomes.append(outcome(lambda: add[grid](*a, N, BLOCK=1024) is not None))
        third.wait()
        print(json.dumps({"outcomes": outcomes, "stats": stats(add)}))
    """)
    assert out["outcomes"] == [["returned", True]] * 6
    assert out["stats"]["misses"] == 1 and out["stats"]["hits"] + out["stats"]["declined"] == 5
    assert out["stats"]["hits"] >= 4


def test_a_dtype_made_per_call_never_gets_another_dtypes_kernel():
    # Constexpr dtypes are keyed by identity: a temporary one must not leave its address to the next.
    out = child("""
        @triton.jit
        def cast(x_ptr, out_ptr, n, DT: tl.constexpr):
            offs = tl.arange(0, 1024)
            tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=offs < n).to(DT).to(tl.float32), mask=offs < n)

        wrong = 0
        for i in range(40):
            name = "fp16" if i % 2 else "bf16"
            got = cast[(1, )](x, out, N, DT=tl.dtype(name))
            wrong += got is not cast.run(x, out, N, grid=(1, ), warmup=True, DT=tl.dtype(name))
        print(json.dumps({"wrong": wrong, "stats": stats(cast)}))
    """)
    assert out["wrong"] == 0, out


def test_a_grid_that_clears_the_cache_and_launches_again_is_survived():
    out = child("""
        depth = []
        def grid_of(meta):
            if not depth:
                depth.append(1)
                add.device_caches[0][0].clear()
                add._fast_launch.forget()
                add[(1, )](x, y, out, N, BLOCK=1024)
            return (4, )
        add[grid_of](x, y, out, N, BLOCK=1024)
        again = add[grid_of](x, y, out, N, BLOCK=1024)
        print(json.dumps({"ok": again is not None, "stats": stats(add)}))
    """)
    assert out["ok"]


def test_a_replaced_run_takes_every_call():
    out = child("""
        calls = []
        real = add.run
        def wrapped(*args, **kwargs):
            calls.append(1)
            return real(*args, **kwargs)
        add[grid](x, y, out, N, BLOCK=1024)
        add.run = wrapped
        for _ in range(3):
            add[grid](x, y, out, N, BLOCK=1024)
        print(json.dumps({"calls": len(calls)}))
    """)
    assert out["calls"] == 3


def test_an_interrupt_in_an_argument_propagates_and_the_grid_runs_once():
    out = child("""
        class Interrupting:
            dtype = out.dtype
            armed = False
            def data_ptr(self):
                if Interrupting.armed:
                    raise KeyboardInterrupt
                return out.data_ptr()
        arg = Interrupting()
        add[grid](x, y, arg, N, BLOCK=1024)
        Interrupting.armed = True
        try:
            add[grid](x, y, arg, N, BLOCK=1024)
            interrupted = "no"
        except KeyboardInterrupt:
            interrupted = "yes"
        import ctypes
        host = ctypes.create_string_buffer(4 * N + 64)
        class Foreign:
            dtype = out.dtype
            def data_ptr(self):
                return (ctypes.addressof(host) + 15) // 16 * 16
        counted = []
        def grid_of(meta):
            counted.append(1)
            return (4, )
        add[grid_of](x, y, out, N, BLOCK=1024)
        counted.clear()
        ours = outcome(lambda: add[grid_of](x, y, Foreign(), N, BLOCK=1024))
        ours_count = len(counted)
        counted.clear()
        theirs = outcome(lambda: tritons(add, grid_of)(x, y, Foreign(), N, BLOCK=1024))
        print(json.dumps({"interrupted": interrupted, "ours": ours, "theirs": theirs, "counts": [ours_count,
                                                                                                   len(counted)]}))
    """)
    assert out["interrupted"] == "yes"
    assert out["ours"] == out["theirs"] and out["ours"][0] == "raised"
    assert out["counts"] == [1, 1]


def test_a_parameter_named_debug_keeps_tritons_path():
    out = child("""
        @triton.jit
        def named(out_ptr, debug, BLOCK: tl.constexpr):
            tl.store(out_ptr + tl.arange(0, BLOCK), tl.zeros((BLOCK, ), tl.float32) + debug)
        print(json.dumps({"type": type(named[grid]).__name__}))
    """)
    assert out["type"] == "function"


def test_the_interpreter_keeps_its_own_path():
    # TRITON_INTERPRET=1 makes @triton.jit an InterpretedFunction, whose [grid] is Triton's interpreter.
    out = child("""
        @triton.jit
        def double(x_ptr, out_ptr, BLOCK: tl.constexpr):
            offs = tl.arange(0, BLOCK)
            tl.store(out_ptr + offs, tl.load(x_ptr + offs) * 2)

        print(json.dumps({"type": type(double).__name__, "bound": type(double[(1, )]).__name__}))
    """, TRITON_INTERPRET="1")
    assert out == {"type": "InterpretedFunction", "bound": "GridExecutor"}


def test_a_missing_extension_is_said_and_leaves_tritons_path():
    out = child("""
        import builtins, warnings
        real_import = builtins.__import__
        def no_extension(name, globals=None, locals=None, fromlist=(), level=0):
            if fromlist and "_fast_launch" in fromlist:
                raise ImportError("cannot import name '_fast_launch'")
            return real_import(name, globals, locals, fromlist, level)
        builtins.__import__ = no_extension
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            bound = add[grid]
        builtins.__import__ = real_import
        bound(x, y, out, N, BLOCK=1024)
        print(json.dumps({"type": type(bound).__name__, "said": [str(w.message) for w in caught]}))
    """)
    assert out["type"] == "function"
    assert any("native kernel[grid] dispatcher is missing from this install" in said and "reinstall" in said
               for said in out["said"]), out
