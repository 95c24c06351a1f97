"""The native dispatcher's key against Triton 3.3's own (runtime/fast_launch.py): on thousands of generated calls,
two calls the dispatcher keys alike always have the same Triton key (so it launches the kernel run would choose),
two calls with the same Triton key are keyed alike (so it recompiles no more than Triton), and the calls it hands
to run are exactly the documented ones.

Triton's key is computed as ``JITFunction.run`` computes it -- its binder on the call's arguments, ``debug`` filled
in from the kernel and ``TRITON_DEBUG`` -- and the dispatcher's with ``dispatcher.key(*args, **kwargs)``; no kernel
is compiled (in a child process on the emulated pvc: the binder needs the active driver's backend).
"""

from test_driver import run_json

CHILD = """
import math, os, random
from triton.backends.intel.runtime import fast_launch


class Tensor:
    # What Triton's specialisation reads of a tensor: its dtype and its address.
    def __init__(self, dtype, address):
        self.dtype, self.address = dtype, address

    def data_ptr(self):
        return self.address


@triton.jit(do_not_specialize=["ns"], do_not_specialize_on_alignment=["na"])
def probe(p, q, i, ns, na, f, b, maybe, ann: tl.int32, C: tl.constexpr, D: tl.constexpr = 4):
    pass


device = driver.active.get_current_device()
_, _, _, binder = probe.device_caches[device]
dispatcher = fast_launch.dispatcher(probe)

INTS = [0, 1, -1, 2, 8, 24, -8, 15, 16, 17, -16, 32, 48, 2**31 - 1, 2**31, 2**31 + 16, -2**31, -2**31 - 1, -2**31 - 16, 2**32,
        2**63 - 1, 2**63, 2**63 + 16, 2**64 - 1, 2**64 - 16, -2**63]
BEYOND_64_BITS = [2**64, -2**63 - 1, 2**70]  # Triton keys them; its launcher refuses them: run's path
DTYPES = [tl.float32, tl.float16, tl.bfloat16, tl.int32, tl.int8, tl.uint64]
ADDRESSES = [0x1000, 0x1008, 0x1010, 0x1004, 0x2000 + 1, 2**47 + 16, 2**47 + 24]
CONSTEXPRS = [1, 2, 16, 0, -1, True, False, 1.0, 2.5, -0.0, 0.0, math.inf, "a", "b", "", None, tl.float16,
              tl.float32, 2**40, 2**63 - 1]
RARE_CONSTEXPRS = [math.nan, 2**63, 2**64]  # run's path (a NaN never equals itself; beyond the encoded ints)
SCALARS = INTS + [True, False, 0.5, 1.0, -2.0, math.nan, None]


def tensor(r):
    return Tensor(r.choice(DTYPES), r.choice(ADDRESSES))


def argument(r, kind):
    if kind == "ptr":
        return None if r.random() < 0.1 else tensor(r)
    if kind == "int":
        roll = r.random()
        return r.choice(INTS) if roll < 0.85 else r.choice(SCALARS) if roll < 0.99 else r.choice(BEYOND_64_BITS)
    if kind == "float":
        return r.choice([0.5, 1.0, -3.25, 1e30, 2, 16, 1])
    if kind == "bool":
        return r.choice([True, False])
    if kind == "any":
        return r.choice([tensor(r), None] + SCALARS)


KINDS = ("ptr", "ptr", "int", "int", "int", "float", "bool", "any", "int")


def call(r):
    args = [argument(r, k) for k in KINDS]
    kwargs = {}
    C = r.choice(CONSTEXPRS if r.random() < 0.98 else RARE_CONSTEXPRS)
    if r.random() < 0.5:
        args.append(C)
    else:
        kwargs["C"] = C
    roll = r.random()
    if roll < 0.3 and "C" not in kwargs:
        args.append(r.choice(CONSTEXPRS))  # D by position
    elif roll < 0.5:
        kwargs["D"] = r.choice(CONSTEXPRS)  # by name; else its default
    options = [("num_warps", r.choice([4, 8, 4.0])), ("debug", r.choice([True, False, None, 0])),
               ("num_stages", r.choice([2, 3])), ("grf_mode", r.choice(["default", "256", "auto"]))]
    r.shuffle(options)
    for name, value in options[:r.randrange(0, 4)]:
        kwargs[name] = value
    return args, kwargs


def triton_key(args, kwargs):
    # JITFunction.run's own lines.
    kwargs = dict(kwargs)
    kwargs["debug"] = kwargs.get("debug", probe.debug) or os.environ.get("TRITON_DEBUG", "0") == "1"
    _, specialization, options = binder(*args, **kwargs)
    return str(specialization) + str(options)


def documented_to_run(args, kwargs):
    # What fast_launch.py says goes to run: ints beyond 64 bits (runtime or constexpr), NaN constexprs or options,
    # runtime arguments that are dtypes.
    values = list(args) + list(kwargs.values())
    runtime = args[:9]
    if any(isinstance(v, int) and not isinstance(v, bool) and not -2**63 <= v < 2**64 for v in runtime):
        return True
    constant = args[9:] + list(kwargs.values())
    if any(isinstance(v, int) and not isinstance(v, bool) and not -2**63 <= v < 2**63 for v in constant):
        return True
    return any(isinstance(v, float) and v != v for v in constant)


def near(r, base):
    # A call that differs from `base` in one or two runtime values: often the same specialisation by other values
    # (32 for 16, another aligned address), often one value away from another (17 for 16).
    args, kwargs = list(base[0]), dict(base[1])
    for _ in range(r.randrange(1, 3)):
        slot = r.randrange(len(KINDS))
        args[slot] = argument(r, KINDS[slot])
    return args, kwargs


r = random.Random(20261207)
bases = [call(r) for _ in range(60)]
by_native, by_triton, seen_twice = {}, {}, set()
declined, wrong_decline, calls = 0, [], 0
for n in range(8000):
    os.environ["TRITON_DEBUG"] = "1" if n % 7 == 0 else "0"
    args, kwargs = call(r) if n % 5 == 0 else near(r, r.choice(bases))
    native = dispatcher.key(*args, **kwargs)
    key = triton_key(args, kwargs)
    calls += 1
    if native is None:
        declined += 1
    if (native is None) != documented_to_run(args, kwargs):
        wrong_decline.append(repr((args, kwargs, native is None))[:300])
    if native is None:
        continue
    if native in by_native:
        seen_twice.add(key)
    by_native.setdefault(native, set()).add(key)
    by_triton.setdefault(key, set()).add(native)

unsound = [sorted(keys)[:2] for keys in by_native.values() if len(keys) > 1]
split = [key for key, natives in by_triton.items() if len(natives) > 1]
print(json.dumps({"calls": calls, "keys_called_twice": len(seen_twice), "declined": declined, "native_keys": len(by_native), "triton_keys": len(by_triton),
                  "unsound": unsound[:3], "n_unsound": len(unsound), "split": split[:3], "n_split": len(split),
                  "wrong_decline": wrong_decline[:5], "n_wrong_decline": len(wrong_decline)}))
"""


def test_the_dispatchers_key_is_tritons_on_thousands_of_calls():
    out = run_json(CHILD)
    assert out["n_unsound"] == 0, out["unsound"]  # keyed alike, different Triton keys: the wrong kernel
    assert out["n_split"] == 0, out["split"]  # one Triton key, several of ours: recompiles Triton would not make
    assert out["n_wrong_decline"] == 0, out["wrong_decline"]
    # The generator reaches many distinct specialisations and leaves most calls to the native path.
    # The generator reaches many specialisations, many of them by several calls with different values, and leaves
    # only a few calls to run.
    assert out["triton_keys"] > 2000 and out["keys_called_twice"] > 700, out
    assert 0 < out["declined"] < out["calls"] // 10, out
