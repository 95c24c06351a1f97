"""A stand-in for upstream's compiled `triton._C.libtriton`, so upstream's pure-Python modules import here.

Upstream's core (MLIR, LLVM, its pybind11 module) cannot be built on this machine.  Its Python modules only
need a few names of it at import time, and the tests that run here (synthetic zebins, ocloc, the emulated
device) never call into MLIR.  So this package:
  * loads triton-xpu 3.3.0b1's `libtriton.so` (installed in the toolchain's venv) under a private name and
    re-exports what it has (ir, passes, llvm, intel, interpreter, ...): 3.3's bindings, not upstream's, so a
    test that builds IR here tests 3.3's core, which is why no test of the series may rely on them;
  * implements in Python what upstream added in C++ and its modules call at import (`getenv`, `getenv_bool`);
  * names what upstream added and only calls later (`make_tensordesc_args`, `native_specialize_impl`,
    submodules such as `linear_layout`): calling them raises, naming this stand-in.
upstream/pytest-upstream copies this package to triton/_C/libtriton/ of the tree it assembles.
"""
import importlib.machinery
import importlib.metadata
import importlib.util
import os
import sys
import types

_PRIVATE = "_triton_xpu_330b1"  # the package name 3.3.0b1's extension is loaded under


def _real_library_path():
    """The libtriton.so of the installed triton-xpu wheel; TRITON_STANDIN_LIBTRITON overrides it."""
    path = os.environ.get("TRITON_STANDIN_LIBTRITON")
    if path:
        return path
    for dist_name in ("triton-xpu", "triton"):
        try:
            dist = importlib.metadata.distribution(dist_name)
        except importlib.metadata.PackageNotFoundError:
            continue
        for file in dist.files or ():
            if file.name.startswith("libtriton") and file.name.endswith(".so") and file.parent.name == "_C":
                return str(dist.locate_file(file))
    return None


def _load_real():
    """3.3.0b1's module, or None when no wheel is installed (then everything comes from the stand-in)."""
    path = _real_library_path()
    if path is None or not os.path.exists(path):
        return None
    # The extension's init function is PyInit_libtriton, so the module's last name component must be
    # "libtriton"; a private parent keeps it apart from this package.
    name = _PRIVATE + ".libtriton"
    loader = importlib.machinery.ExtensionFileLoader(name, path)
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    sys.modules[name] = module
    return module


class StandInMissing(NotImplementedError):
    pass


def _missing(qualname):
    """A callable that names what is missing when called, so a test that reaches it fails clearly."""

    def missing(*args, **kwargs):
        raise StandInMissing(f"{qualname} is not in the stand-in libtriton (triton-xpu 3.3.0b1 has no such "
                             "binding; upstream's compiled core cannot be built here)")

    missing.__qualname__ = missing.__name__ = qualname.rsplit(".", 1)[-1]
    return missing


def _submodule(short_name):
    """A submodule whose every attribute is a missing binding (importable; fails when used)."""
    module = types.ModuleType(f"{__name__}.{short_name}")

    def __getattr__(attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _missing(f"{module.__name__}.{attr}")

    module.__getattr__ = __getattr__
    sys.modules[module.__name__] = module
    return module


# upstream's knobs read the environment through these (python/src/ir.cc: py_getenv, py_getenv_bool).
def getenv(name, default=None):
    if not isinstance(name, str):
        raise TypeError("name must be a string")
    return os.environ.get(name, default)


def _is_truthy(value):
    # The same rule as upstream's is_truthy: "1"/"y", "on", "yes", "true", case-insensitive.
    value = value.lower()
    return value in ("1", "y", "on", "yes", "true")


def getenv_bool(name, default):
    if not isinstance(name, str):
        raise TypeError("name must be a string")
    value = os.environ.get(name)
    return default if value is None else _is_truthy(value)


_real = _load_real()
# What 3.3.0b1's extension has (ir, passes, llvm, intel, interpreter, get_cache_invalidating_env_vars ...).
if _real is not None:
    for _name in dir(_real):
        if not _name.startswith("__") and _name not in ("getenv", "getenv_bool"):
            globals()[_name] = getattr(_real, _name)
            if isinstance(globals()[_name], types.ModuleType):
                sys.modules[f"{__name__}.{_name}"] = globals()[_name]

# Functions upstream's modules import by name but only call while compiling or launching.
for _name in ("make_tensordesc_args", "native_specialize_impl", "get_cache_invalidating_env_vars"):
    if _name not in globals():
        globals()[_name] = _missing(f"{__name__}.{_name}")

# Submodules upstream imports that 3.3.0b1 lacks.
for _name in ("linear_layout", "gluon_ir", "ir", "passes", "llvm", "intel", "interpreter", "nvidia", "amd",
              "proton"):
    if _name not in globals():
        globals()[_name] = _submodule(_name)

del _name
