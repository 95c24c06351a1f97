"""A stand-in for `torch` (TEST DOUBLE; see ../README.md): what published Triton kernel packages and upstream's
tests touch at import, answering like a CPU-only PyTorch 2.9 build.  Not PyTorch; nothing here computes."""

from __future__ import annotations

import builtins as _b
import contextlib
import types as _types
from typing import Any

__version__ = "2.9.0+cpu"
STANDIN = True  # lets a test assert that this double, not a real torch, was imported


def _not_here(name: str):
    def call(*args: Any, **kwargs: Any):
        raise NotImplementedError(f"torch.{name} was called, but this is the stand-in torch "
                                  "(python/test/support/standin_torch): kernels are compiled, never run through torch")
    call.__name__ = name.rsplit(".", 1)[-1]
    call.__qualname__ = name
    return call


def _raising_module_getattr(module: str):
    """A module ``__getattr__`` giving, for any public name, a function that raises when called (torch's
    dynamic namespaces: nn.functional, nn.init)."""
    def getattr_(name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return _not_here(f"{module}.{name}")
    return getattr_


def _submodule(name: str, **attrs: Any) -> _types.ModuleType:
    import sys
    module = _types.ModuleType(f"torch.{name}")
    module.__dict__.update(attrs)
    sys.modules[module.__name__] = module
    return module


class dtype:
    def __init__(self, name: str, itemsize: int, is_floating_point: bool, is_signed: bool = True):
        self.name, self.itemsize = name, itemsize
        self.is_floating_point, self.is_signed = is_floating_point, is_signed
        self.is_complex = name.startswith("complex")

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    def to_real(self) -> "dtype":
        return self


float16 = half = dtype("float16", 2, True)
bfloat16 = dtype("bfloat16", 2, True)
float32 = float = dtype("float32", 4, True)
float64 = double = dtype("float64", 8, True)
int8 = dtype("int8", 1, False)
uint8 = dtype("uint8", 1, False, False)
int16 = short = dtype("int16", 2, False)
uint16 = dtype("uint16", 2, False, False)
int32 = int = dtype("int32", 4, False)
uint32 = dtype("uint32", 4, False, False)
int64 = long = dtype("int64", 8, False)
uint64 = dtype("uint64", 8, False, False)
bool = dtype("bool", 1, False, False)
complex64 = cfloat = dtype("complex64", 8, False)
complex128 = cdouble = dtype("complex128", 16, False)
complex32 = chalf = dtype("complex32", 4, False)
float8_e4m3fn = dtype("float8_e4m3fn", 1, True)
float8_e5m2 = dtype("float8_e5m2", 1, True)
float8_e4m3fnuz = dtype("float8_e4m3fnuz", 1, True)
float8_e5m2fnuz = dtype("float8_e5m2fnuz", 1, True)
float8_e8m0fnu = dtype("float8_e8m0fnu", 1, True)
float4_e2m1fn_x2 = dtype("float4_e2m1fn_x2", 1, True)
qint8 = dtype("qint8", 1, False)
quint8 = dtype("quint8", 1, False, False)
qint32 = dtype("qint32", 4, False)
quint4x2 = dtype("quint4x2", 1, False, False)
bits8 = dtype("bits8", 1, False, False)


class finfo:
    _TABLE = {"float16": (65504.0, 6.103515625e-05, 0.0009765625), "bfloat16": (3.3895e38, 1.1755e-38, 0.0078125),
              "float32": (3.4028234663852886e38, 1.1754943508222875e-38, 1.1920928955078125e-07),
              "float64": (1.7976931348623157e308, 2.2250738585072014e-308, 2.220446049250313e-16),
              "float8_e4m3fn": (448.0, 0.015625, 0.125), "float8_e5m2": (57344.0, 6.103515625e-05, 0.25),
              "float8_e4m3fnuz": (240.0, 0.0078125, 0.125), "float8_e5m2fnuz": (57344.0, 3.0517578125e-05, 0.25)}

    def __init__(self, t: dtype = float32):
        self.max, self.tiny, self.eps = self._TABLE[t.name]
        self.min, self.smallest_normal, self.dtype = -self.max, self.tiny, t.name
        self.bits = t.itemsize * 8


class iinfo:
    def __init__(self, t: dtype = int32):
        self.bits = t.itemsize * 8
        self.min = -(1 << (self.bits - 1)) if t.is_signed else 0
        self.max = (1 << (self.bits - 1)) - 1 if t.is_signed else (1 << self.bits) - 1
        self.dtype = t.name


class device:
    def __init__(self, type: Any = "cpu", index: Any = None):
        if isinstance(type, device):
            type, index = type.type, type.index
        self.type, _, idx = str(type).partition(":")
        self.index = index if index is not None else (_b.int(idx) if idx else None)

    def __repr__(self) -> str:
        return f"device(type={self.type!r})"


class Size(tuple):
    def numel(self) -> _b.int:
        n = 1
        for d in self:
            n *= d
        return n


class Tensor:
    """A type for annotations and isinstance checks; no tensor is ever created."""

    def __init__(self, *args: Any, **kwargs: Any):
        raise NotImplementedError("the stand-in torch creates no tensors (python/test/support/standin_torch)")


class Generator:
    def __init__(self, *args: Any, **kwargs: Any):
        pass


LongTensor = FloatTensor = IntTensor = BoolTensor = HalfTensor = BFloat16Tensor = Tensor
SymInt, SymFloat, SymBool = type("SymInt", (), {}), type("SymFloat", (), {}), type("SymBool", (), {})
memory_format = type("memory_format", (), {})
layout = type("layout", (), {})
Stream = type("Stream", (), {})
Event = type("Event", (), {})
Storage = UntypedStorage = TypedStorage = type("UntypedStorage", (), {})
strided = "strided"
sparse_coo = "sparse_coo"
contiguous_format, preserve_format, channels_last = "contiguous_format", "preserve_format", "channels_last"
inf, nan, pi, e = _b.float("inf"), _b.float("nan"), 3.141592653589793, 2.718281828459045

# Tensor operations the packages' Python wrappers call (never at import); calling one is an error.
for _name in ("empty", "empty_like", "empty_strided", "zeros", "zeros_like", "ones", "ones_like", "full",
              "full_like", "tensor", "arange", "rand", "randn", "randint", "randperm", "mm", "bmm", "matmul",
              "addmm", "sum", "mean", "where", "equal", "prod", "log", "exp", "clamp", "stack", "cat", "gather",
              "chunk", "split", "softmax", "log_softmax", "logsumexp", "sigmoid", "tanh", "sort", "topk", "ne",
              "eq", "view_as_real", "view_as_complex", "is_floating_point", "is_complex", "is_tensor", "allclose",
              "manual_seed", "as_strided", "broadcast_tensors", "cumsum", "max", "min", "argmax", "argmin",
              "abs", "sqrt", "rsqrt", "einsum", "flip", "roll", "tril", "triu", "outer", "cdist", "norm",
              "numel", "from_numpy", "linspace", "diag", "repeat_interleave", "unique", "searchsorted",
              "bucketize", "multinomial", "normal", "bernoulli", "scatter", "index_select", "nonzero",
              "masked_fill", "transpose", "permute", "reshape", "flatten", "narrow", "select", "squeeze",
              "unsqueeze", "cross", "dot", "vdot", "kron", "polar", "complex", "result_type", "promote_types",
              "can_cast", "get_default_dtype", "set_default_dtype", "is_grad_enabled", "is_autocast_enabled",
              "get_autocast_gpu_dtype", "get_autocast_dtype", "is_inference_mode_enabled", "compile",
              "cumprod", "bincount", "histc", "lerp", "pow", "erf", "div", "mul", "add", "sub", "neg",
              "split_with_sizes", "zeros_like", "randint_like", "rand_like", "randn_like", "clone", "isin",
              "use_deterministic_algorithms", "are_deterministic_algorithms_enabled", "get_rng_state",
              "set_rng_state", "initial_seed", "seed", "set_grad_enabled", "sym_int", "sym_float",
              "_assert", "cond", "vmap", "set_float32_matmul_precision", "get_float32_matmul_precision"):
    if _name not in globals():
        globals()[_name] = _not_here(_name)
is_grad_enabled = lambda: False  # noqa: E731 - asked at import by some autograd helpers
get_default_dtype = lambda: float32  # noqa: E731
compile = lambda fn=None, **kw: fn if fn is not None else (lambda f: f)  # noqa: E731 - a decorator at import


class _NoOpContext(contextlib.ContextDecorator):
    def __init__(self, *args: Any, **kwargs: Any):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc: Any) -> _b.bool:
        return False


no_grad = enable_grad = inference_mode = set_grad_enabled = autocast = _NoOpContext


def _passthrough_decorator(fn: Any = None, *args: Any, **kwargs: Any):
    """A decorator usable bare or with arguments: returns the function unchanged."""
    if callable(fn):
        return fn
    return lambda f: f


def _no_device(kind: str) -> _types.ModuleType:
    """torch.cuda / torch.xpu as a CPU-only build has them: nothing available."""
    def unavailable(*args: Any, **kwargs: Any):
        raise RuntimeError(f"Torch not compiled with {kind.upper()} enabled (stand-in torch)")

    def device_name(*args: Any, **kwargs: Any) -> str:
        # Informational, asked at import: fla asks torch.xpu for the device's name when Triton's active driver
        # is XPU (the emulated device, which Triton 3.3's @autotune needs at import).  A name that says what
        # this is, rather than an error that would stop the import.
        if kind == "xpu":
            return "no XPU device (stand-in torch)"
        return unavailable()
    return _submodule(kind, is_available=lambda: False, device_count=lambda: 0, is_initialized=lambda: False,
                      current_device=unavailable, get_device_capability=unavailable,
                      get_device_properties=unavailable, get_device_name=device_name, set_device=unavailable,
                      synchronize=unavailable, current_stream=unavailable, Stream=type("Stream", (), {}),
                      Event=type("Event", (), {}), device=_NoOpContext, stream=_NoOpContext,
                      is_bf16_supported=lambda *a, **k: False, empty_cache=lambda: None,
                      amp=_types.SimpleNamespace(custom_fwd=_passthrough_decorator,
                                                 custom_bwd=_passthrough_decorator, autocast=_NoOpContext),
                      _is_compiled=lambda: False, manual_seed=lambda *a: None, manual_seed_all=lambda *a: None)


cuda = _no_device("cuda")
xpu = _no_device("xpu")
mps = _submodule("mps", is_available=lambda: False)
cpu = _submodule("cpu", is_available=lambda: True, device_count=lambda: 1, current_device=lambda: 0,
                  synchronize=lambda *a: None, device=_NoOpContext, current_stream=lambda *a: None,
                  amp=_types.SimpleNamespace(autocast=_NoOpContext))
version = _submodule("version", __version__=__version__, cuda=None, hip=None, xpu=None, git_version="standin",
                     debug=False)
backends = _submodule("backends")
backends.cuda = _submodule("backends.cuda", matmul=_types.SimpleNamespace(allow_tf32=False),
                           is_built=lambda: False)
backends.cudnn = _submodule("backends.cudnn", is_available=lambda: False, allow_tf32=False)
backends.mps = _submodule("backends.mps", is_available=lambda: False, is_built=lambda: False)
backends.mkldnn = _submodule("backends.mkldnn", is_available=lambda: False)
amp = _submodule("amp", custom_fwd=_passthrough_decorator, custom_bwd=_passthrough_decorator,
                 autocast=_NoOpContext, is_autocast_available=lambda *a: False)


class _Function:
    """torch.autograd.Function: subclasses are declared at import; apply() is never reached."""

    apply = classmethod(lambda cls, *a, **k: _not_here(f"autograd.Function.apply of {cls.__name__}")())

    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any):
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Any, *args: Any):
        raise NotImplementedError


autograd = _submodule("autograd", Function=_Function, grad=_not_here("autograd.grad"))
autograd.function = _submodule("autograd.function", Function=_Function, once_differentiable=_passthrough_decorator,
                               FunctionCtx=type("FunctionCtx", (), {}))
from . import nn  # noqa: E402  (a real subpackage: packages subclass nn.Module and import nn.functional)

distributed = _submodule("distributed", is_available=lambda: False, is_initialized=lambda: False,
                         is_nccl_available=lambda: False, get_rank=lambda *a: 0, get_world_size=lambda *a: 1,
                         ProcessGroup=type("ProcessGroup", (), {}), ReduceOp=_types.SimpleNamespace(SUM="sum"),
                         DeviceMesh=type("DeviceMesh", (), {}))
distributed.tensor = _submodule("distributed.tensor", DTensor=type("DTensor", (Tensor,), {}),
                                Shard=type("Shard", (), {}), Replicate=type("Replicate", (), {}),
                                Partial=type("Partial", (), {}), Placement=type("Placement", (), {}),
                                distribute_module=_not_here("distributed.tensor.distribute_module"),
                                distribute_tensor=_not_here("distributed.tensor.distribute_tensor"))
distributed.tensor.parallel = _submodule("distributed.tensor.parallel",
                                         ParallelStyle=type("ParallelStyle", (), {}),
                                         parallelize_module=_not_here("distributed.tensor.parallel.parallelize_module"))
distributed.device_mesh = _submodule("distributed.device_mesh", DeviceMesh=type("DeviceMesh", (), {}))


class _Library:
    def __init__(self, *args: Any, **kwargs: Any):
        pass

    def impl(self, *args: Any, **kwargs: Any):
        return None

    def define(self, *args: Any, **kwargs: Any):
        return None


library = _submodule("library", Library=_Library, custom_op=lambda *a, **k: _passthrough_decorator,
                     register_fake=lambda *a, **k: _passthrough_decorator, impl=lambda *a, **k: (lambda f: f),
                     triton_op=lambda *a, **k: _passthrough_decorator, wrap_triton=lambda f: f)
compiler = _submodule("compiler", disable=_passthrough_decorator, is_compiling=lambda: False,
                      is_dynamo_compiling=lambda: False, allow_in_graph=_passthrough_decorator,
                      assume_constant_result=_passthrough_decorator)
_dynamo = _submodule("_dynamo", disable=_passthrough_decorator, is_compiling=lambda: False,
                     allow_in_graph=_passthrough_decorator, mark_static=lambda *a, **k: None,
                     config=_types.SimpleNamespace())
jit = _submodule("jit", script=_passthrough_decorator, ignore=_passthrough_decorator, unused=_passthrough_decorator,
                 is_scripting=lambda: False)
fx = _submodule("fx", wrap=_passthrough_decorator)
utils = _submodule("utils")
utils.checkpoint = _submodule("utils.checkpoint", checkpoint=_not_here("utils.checkpoint.checkpoint"))
utils._pytree = _submodule("utils._pytree", tree_map=_not_here("utils._pytree.tree_map"))
utils.cpp_extension = _submodule("utils.cpp_extension", load=_not_here("utils.cpp_extension.load"))
class _OpOverload:
    """torch.ops.<namespace>.<op>[.<overload>]: real torch resolves any registered op by name; packages take
    handles at import (to register implementations); calling one is an error here."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str) -> "_OpOverload":
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _OpOverload(f"{self._name}.{attr}")

    def __call__(self, *args: Any, **kwargs: Any):
        return _not_here(self._name)()


ops = _submodule("ops")
ops.__getattr__ = lambda ns: _OpOverload(f"ops.{ns}") if not ns.startswith("__") else _b.getattr(object, ns)
class _DispatchKey(str, _b.__import__("enum").Enum):  # torch._C.DispatchKey: names used in key sets at import
    CompositeExplicitAutograd = "CompositeExplicitAutograd"
    CompositeImplicitAutograd = "CompositeImplicitAutograd"
    Autograd = "Autograd"
    AutogradCUDA = "AutogradCUDA"
    CUDA = "CUDA"
    CPU = "CPU"
    XPU = "XPU"
    PrivateUse1 = "PrivateUse1"


class _DispatchKeySet:
    def __init__(self, *keys: Any):
        self.keys = keys

    def __or__(self, other: Any) -> "_DispatchKeySet":
        return _DispatchKeySet(*self.keys, other)

    add = __or__


_C = _submodule("_C", _get_accelerator=lambda: device("cpu"), DispatchKey=_DispatchKey,
                DispatchKeySet=_DispatchKeySet, _is_alias_of=_not_here("_C._is_alias_of"))
accelerator = _submodule("accelerator", is_available=lambda: False, current_accelerator=lambda *a, **k: None,
                         device_count=lambda: 0)
testing = _submodule("testing", assert_close=_not_here("testing.assert_close"))
special = _submodule("special", erfinv=_not_here("special.erfinv"), erf=_not_here("special.erf"))
overrides = _submodule("overrides")
_inductor = _submodule("_inductor")
_subclasses = _submodule("_subclasses")
_subclasses.fake_tensor = _submodule("_subclasses.fake_tensor", FakeTensor=type("FakeTensor", (Tensor,), {}))
types = _submodule("types", _dtype=dtype, Number=(_b.int, _b.float, _b.bool))
_utils = _submodule("_utils")


import enum as _enum  # noqa: E402


class _TypePromotionKind(_enum.Enum):  # torch._prims_common.ELEMENTWISE_TYPE_PROMOTION_KIND
    DEFAULT, NO_OPMATH, INT_TO_FLOAT, ALWAYS_BOOL, COMPLEX_TO_FLOAT, BOOL_TO_LONG = range(6)


_prims_common = _submodule("_prims_common", ELEMENTWISE_TYPE_PROMOTION_KIND=_TypePromotionKind,
                           elementwise_dtypes=_not_here("_prims_common.elementwise_dtypes"),
                           is_boolean_dtype=lambda t: t is bool,
                           is_integer_dtype=lambda t: not t.is_floating_point and not t.is_complex and t is not bool,
                           is_float_dtype=lambda t: t.is_floating_point)
random = _submodule("random", manual_seed=lambda *a: None, fork_rng=_NoOpContext)


def _structseq(name: str) -> type:
    import collections
    return collections.namedtuple(name, ("values", "indices"))


return_types = _submodule("return_types", **{n: _structseq(n) for n in (
    "cummax", "cummin", "max", "min", "sort", "topk", "kthvalue", "mode", "median", "nanmedian", "aminmax")})


def __getattr__(name: str):
    # No catch-all: a name the packages need and this double lacks must be visible, not silently mocked.
    raise AttributeError(f"the stand-in torch (python/test/support/standin_torch) has no torch.{name}; "
                         "add it there if a package or test needs it at import")
