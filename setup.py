"""Builds ``triton-xpu``: Intel's Triton front end and libtriton, with this repository's Intel backend.

The Triton front end and libtriton (with the Intel MLIR passes) come from
PyPI's ``triton-xpu`` wheel, which pip installs as a build requirement
(pyproject.toml).  The build lays that tree out under ``python/triton/``
(git-ignored), links ``python/triton/backends/intel`` to
``third_party/intel/backend`` as upstream Triton does for its backends, and
packages the result as one distribution named ``triton-xpu``:

* ``pip install .`` installs a plain wheel: no ``.pth`` hooks, no patching at
  run time; it replaces an installed ``triton-xpu`` and uninstalls cleanly.
* The front end gets a few small build-time changes (FRONTEND_PATCHES below) and the modules under
  ``frontend/`` (FRONTEND_FILES).
* ``pip install -e .`` is the developer mode: ``python/`` goes on ``sys.path``,
  so edits under ``third_party/intel/backend/`` take effect without reinstalling.

Set TRITON_XPU_BASE_WHEEL to a triton-xpu wheel file to build from it instead
(offline builds, ``--no-build-isolation``), and TRITON_XPU_BUILD_DIR to keep
CMake's trees and the SYCL headers elsewhere than ``build/`` (scripts/setup.sh
keeps them in the venv).
"""

import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Optional

from setuptools import Distribution, Extension, find_namespace_packages, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
BASE_DIST = "triton-xpu"
BASE_VERSION = "3.3.0b1"
# Our version: the base release it is a drop-in replacement of, plus a local label.
VERSION = f"{BASE_VERSION}+native"
# The SYCL runtime ABIs the SYCL part is built for, each against the headers of one intel-sycl-rt release:
# libsycl.so.8 is oneAPI 2025 (PyTorch 2.7's), libsycl.so.9 oneAPI 2026 (dpctl 0.22's).
SYCL_ABIS = {8: "2025.0.4", 9: "2026.2.0"}
# What the `sycl` extra installs where no SYCL runtime is there yet (PyTorch brings its own).
SYCL_RUNTIME_REQUIREMENT = "intel-sycl-rt>=2026.0,<2027"
PACKAGE_ROOT = ROOT / "python"
TRITON_DIR = PACKAGE_ROOT / "triton"
BACKEND_SRC = ROOT / "third_party" / "intel" / "backend"
STAMP = TRITON_DIR / ".base-stamp"
# CMake's trees and the SYCL headers, kept between builds.
BUILD_DIR = Path(os.environ.get("TRITON_XPU_BUILD_DIR") or ROOT / "build")

# Files of the base wheel's Intel backend that this repository's backend replaces or drops
# (its SYCL-based driver and arch parser); the libdevice bitcode is kept.
BASE_BACKEND = Path("triton") / "backends" / "intel"
KEPT_FROM_BASE_BACKEND = ("lib/libsycl-spir64-unknown-unknown.bc", )


# Changes to the base front end, the only ones this fork makes outside the backend, all upstreamable (each is
# explained where it is listed; docs/install.md lists them for users).  Applied to the copied tree at build time; a
# base that no longer matches fails the build instead of being patched blindly.
FRONTEND_PATCHES = (
    # A backend may name several binary artifacts (`binary_extensions`: the zebin and the SPIR-V it came from) which
    # CompiledKernel then reads as bytes; TRITON_STORE_BINARY_ONLY keeps the backend's own binary; and a backend may
    # check a cache entry as it is read (`cached_kernel`: a damaged entry is compiled again instead of failing every
    # later run).
    ("triton/compiler/compiler.py",
     "file.suffix[1:]: file.read_bytes() if file.suffix[1:] == binary_ext else file.read_text()",
     "file.suffix[1:]: file.read_bytes() if file.suffix[1:] in getattr(backend, \"binary_extensions\", "
     "{binary_ext}) else file.read_text()"),
    ("triton/compiler/compiler.py",
     "if (not store_only_binary) or (ext in (\"cubin\", \"hsaco\", \"json\", \"spv\")):",
     "if (not store_only_binary) or (ext in (\"cubin\", \"hsaco\", \"json\", \"spv\", backend.binary_ext)):"),
    ("triton/compiler/compiler.py",
     "        # cache hit!\n        return CompiledKernel(src, metadata_group, hash)\n",
     "        # cache hit!  A backend may check the entry it read and refuse a damaged one: it is compiled again.\n"
     "        kernel = getattr(backend, \"cached_kernel\", lambda make, group: make())(\n"
     "            lambda: CompiledKernel(src, metadata_group, hash), metadata_group)\n"
     "        if kernel is not None:\n"
     "            return kernel\n"),
    # A damaged group file (unreadable, not a group, or listing a file that is gone) is a cache miss with one
    # warning line instead of a traceback; the compile that follows rewrites the entry.
    # With no active driver, an inactive one may say why and what to do (no GPU found: how to emulate one, or
    # how to compile for a named target) instead of only "0 active drivers ([])".
    ("triton/runtime/driver.py",
     "        raise RuntimeError(f\"{len(actives)} active drivers ({actives}). There should only be one.\")\n",
     "        reasons = [x.driver.inactive_reason() for x in backends.values()\n"
     "                   if not actives and hasattr(x.driver, \"inactive_reason\")]\n"
     "        raise RuntimeError(f\"{len(actives)} active drivers ({actives}). There should only be one.\" +\n"
     "                           \"\".join(f\" {reason}\" for reason in reasons if reason))\n"),
    # A backend may note each kernel the JIT compiled or found in the cache, with the launch's keywords its options
    # came from (`jit_compiled`: TRITON_XPU_RECORD_KERNELS records what `triton-xpu fill` compiles elsewhere).
    # Here, not in triton.compile, so that only kernels the JIT got (not failed compiles) are noted, once each.
    ("triton/runtime/jit.py",
     "            kernel = self.compile(src, target=target, options=options.__dict__)\n"
     "            kernel_cache[key] = kernel\n",
     "            kernel = self.compile(src, target=target, options=options.__dict__)\n"
     "            kernel_cache[key] = kernel\n"
     "            getattr(backend, \"jit_compiled\", lambda *args: None)(src, target, options, kernel, kwargs)\n"),
    # A driver may launch fn[grid](...) in native code (`fast_launch`: asked once per JITFunction), handing what it
    # does not handle to run, so results and errors stay run's.
    ("triton/runtime/jit.py",
     "    def repr(self, _):\n        return self._fn_name if self._repr is None else self._repr(_)\n",
     "    def __getitem__(self, grid):\n"
     "        fast = self.__dict__.get(\"_fast_launch\")\n"
     "        if fast is None:\n"
     "            try:\n"
     "                make = getattr(driver.active, \"fast_launch\", None)\n"
     "            except RuntimeError:  # no active driver: run says so when called\n"
     "                return super().__getitem__(grid)\n"
     "            fast = self.__dict__[\"_fast_launch\"] = (make(self) if make is not None else None) or False\n"
     "        return fast[grid] if fast is not False else super().__getitem__(grid)\n"
     "\n"
     "    def repr(self, _):\n        return self._fn_name if self._repr is None else self._repr(_)\n"),
    ("triton/runtime/cache.py", "import os\nimport uuid\n", "import os\nimport uuid\nimport warnings\n"),
    ("triton/runtime/cache.py",
     "        with open(grp_filepath) as f:\n"
     "            grp_data = json.load(f)\n"
     "        child_paths = grp_data.get(\"child_paths\", None)\n"
     "        # Invalid group data.\n"
     "        if child_paths is None:\n"
     "            return None\n"
     "        result = {}\n"
     "        for c, p in child_paths.items():\n"
     "            if os.path.exists(p):\n"
     "                result[c] = p\n"
     "        return result\n",
     "        try:\n"
     "            with open(grp_filepath) as f:\n"
     "                child_paths = json.load(f)[\"child_paths\"]\n"
     "            missing = [c for c, p in child_paths.items() if not (isinstance(p, str) and os.path.exists(p))]\n"
     "        except (OSError, ValueError, LookupError, TypeError, AttributeError) as e:\n"
     "            problem = f\"{grp_filename} cannot be read ({type(e).__name__}: {e})\"\n"
     "        else:\n"
     "            if not missing:\n"
     "                return dict(child_paths)\n"
     "            problem = f\"{grp_filename} lists files that are gone: {', '.join(missing)}\"\n"
     "        warnings.warn(f\"damaged cache entry in {self.cache_dir}: {problem}; compiling it again\",\n"
     "                      stacklevel=2)\n"
     "        return None\n"),
    # Triton hashes libtriton (~430 MB) in every process; its digest is recorded at build time instead
    # (triton/_library_digest.py, one of FRONTEND_FILES, says when the record is trusted).
    ("triton/compiler/compiler.py",
     "    libtriton_hash = hashlib.sha256()\n"
     "    ext = sysconfig.get_config_var(\"EXT_SUFFIX\").split(\".\")[-1]\n"
     "    with open(os.path.join(TRITON_PATH, \"_C\", f\"libtriton.{ext}\"), \"rb\") as f:\n"
     "        while True:\n"
     "            chunk = f.read(1024**2)\n"
     "            if not chunk:\n"
     "                break\n"
     "            libtriton_hash.update(chunk)\n"
     "    contents.append(libtriton_hash.hexdigest())\n",
     "    from triton._library_digest import sha256\n"
     "    ext = sysconfig.get_config_var(\"EXT_SUFFIX\").split(\".\")[-1]\n"
     "    contents.append(sha256(os.path.join(TRITON_PATH, \"_C\", f\"libtriton.{ext}\")))\n"),
)
# Modules this fork adds to the front end (frontend/ mirrors the package's layout), copied in at build time.
FRONTEND_DIR = ROOT / "frontend"
FRONTEND_FILES = sorted(p.relative_to(FRONTEND_DIR) for p in FRONTEND_DIR.rglob("*.py"))
# libtriton, whose digest the build records (FRONTEND_PATCHES' last change).
LIBTRITON = Path("triton") / "_C" / "libtriton.so"
PATCHES_KEY = hashlib.sha256(
    repr(FRONTEND_PATCHES).encode() +
    b"".join(bytes(rel) + (FRONTEND_DIR / rel).read_bytes() for rel in FRONTEND_FILES)).hexdigest()[:12]


class BaseTritonNotFound(RuntimeError):
    pass


def _patch_frontend() -> None:
    for rel, old, new in FRONTEND_PATCHES:
        path = PACKAGE_ROOT / rel
        text = path.read_text()
        if text.count(old) != 1:
            raise RuntimeError(f"cannot apply the front-end change to {rel}: expected exactly one {old!r}; "
                               f"has the base triton-xpu release changed? (this build expects {BASE_VERSION})")
        path.write_text(text.replace(old, new))


def _installed_base():
    """(stamp, [(relative path, absolute path)]) of an installed PyPI triton-xpu, or None."""
    from importlib import metadata
    try:
        dist = metadata.distribution(BASE_DIST)
    except metadata.PackageNotFoundError:
        return None
    if dist.version != BASE_VERSION:  # e.g. this very package installed non-isolated
        return None
    files = [(Path(str(f)), Path(dist.locate_file(f))) for f in dist.files or [] if str(f).startswith("triton/")]
    return f"dist-{dist.version}-{len(files)}", files


def _wheel_base(wheel: Path):
    """(stamp, zip) for a triton-xpu wheel file."""
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()[:16]
    return f"wheel-{digest}", zipfile.ZipFile(wheel)


def _excluded(rel: Path) -> bool:
    if rel.parts[:3] != BASE_BACKEND.parts:
        return "__pycache__" in rel.parts
    return rel.relative_to(BASE_BACKEND).as_posix() not in KEPT_FROM_BASE_BACKEND


def _copy_base_tree() -> str:
    """Lay the base triton tree out under python/triton (without its Intel backend); returns its stamp."""
    wheel = os.environ.get("TRITON_XPU_BASE_WHEEL")
    source = _wheel_base(Path(wheel)) if wheel else _installed_base()
    if source is None:
        raise BaseTritonNotFound(
            f"the PyPI {BASE_DIST}=={BASE_VERSION} distribution is needed to build this package: build with "
            f"pip's build isolation (plain `pip install .`), or set TRITON_XPU_BASE_WHEEL to its wheel file "
            f"(`pip download --no-deps {BASE_DIST}==={BASE_VERSION}`)")
    stamp, files = source
    stamp = f"{stamp}-patches-{PATCHES_KEY}"
    if STAMP.exists() and STAMP.read_text() == stamp:
        return stamp
    shutil.rmtree(TRITON_DIR, ignore_errors=True)
    if isinstance(files, zipfile.ZipFile):
        members = [m for m in files.namelist() if m.startswith("triton/") and not m.endswith("/")]
        for name in members:
            if not _excluded(Path(name)):
                files.extract(name, PACKAGE_ROOT)
    else:
        for rel, src in files:
            if not _excluded(rel):
                dst = PACKAGE_ROOT / rel
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dst)
    # The kept libdevice bitcode lives beside our backend's sources (git-ignored there).
    base_backend = PACKAGE_ROOT / BASE_BACKEND
    for rel in KEPT_FROM_BASE_BACKEND:
        dst = BACKEND_SRC / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(base_backend / rel, dst)
    shutil.rmtree(base_backend)
    _patch_frontend()
    for rel in FRONTEND_FILES:
        shutil.copy2(FRONTEND_DIR / rel, PACKAGE_ROOT / rel)
    _record_libtriton_digest()
    STAMP.write_text(stamp)
    return stamp


def _record_libtriton_digest() -> None:
    import importlib.util
    spec = importlib.util.spec_from_file_location("library_digest", PACKAGE_ROOT / "triton/_library_digest.py")
    library_digest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(library_digest)
    library_digest.record(str(PACKAGE_ROOT / LIBTRITON))


def _link_backend() -> None:
    """python/triton/backends/intel -> third_party/intel/backend, as upstream Triton links its backends."""
    link = PACKAGE_ROOT / BASE_BACKEND
    target = os.path.relpath(BACKEND_SRC, link.parent)
    if link.is_symlink() and os.readlink(link) == target:
        return
    if link.is_symlink() or link.is_file():
        link.unlink()
    elif link.exists():
        shutil.rmtree(link)
    link.symlink_to(target, target_is_directory=True)


def prepare_tree() -> None:
    _copy_base_tree()
    _link_backend()


class BinaryDistribution(Distribution):
    """libtriton.so makes this a platform wheel."""

    def has_ext_modules(self):
        return True


class CMakeExtension(Extension):
    """A module CMake builds (CMakeLists.txt: the Level Zero runtime under lib/ and include/)."""

    def __init__(self, name: str):
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    """Runs CMake, keeping its build tree in BUILD_DIR/cmake-<toolchain>-<python> so rebuilds are incremental."""

    def build_extension(self, ext: Extension) -> None:
        if shutil.which("cmake") is None:
            raise RuntimeError("cmake not found: install it with `apt-get install cmake` (scripts/setup.sh does)")
        import pybind11
        out_dir = Path(self.get_ext_fullpath(ext.name)).resolve().parent
        out_dir.mkdir(parents=True, exist_ok=True)
        # One build tree per toolchain environment: each has its own Level Zero headers and compiler.
        toolchain = os.environ.get("TRITON_XPU_TOOLCHAIN", "host")
        build_dir = BUILD_DIR / f"cmake-{toolchain}-py{sys.version_info.major}{sys.version_info.minor}"
        build_dir.mkdir(parents=True, exist_ok=True)
        sdks = {major: _sycl_sdk(major, version) for major, version in SYCL_ABIS.items()}
        for stale in out_dir.glob("_sycl*.so"):  # a SYCL part this build may not make again
            stale.unlink()
        subprocess.run(["cmake", "-S", str(ROOT), "-B", str(build_dir), "-DCMAKE_BUILD_TYPE=Release",
                        f"-DPython_EXECUTABLE={sys.executable}", f"-Dpybind11_DIR={pybind11.get_cmake_dir()}",
                        f"-DTRITON_XPU_MODULE_OUTPUT_DIR={out_dir}"] +
                       [f"-DTRITON_XPU_SYCL{major}_ROOT={sdk or ''}" for major, sdk in sdks.items()], check=True)
        jobs = str(os.cpu_count() or 2)
        subprocess.run(["cmake", "--build", str(build_dir), "-j", jobs, "--target", "_level_zero", "_fast_launch"],
                       check=True)
        # The optional SYCL part, one module per SYCL runtime ABI: one that cannot be built leaves a wheel
        # without it, which says so when a queue of that runtime is used.
        parts = [f"_sycl{major}" for major, sdk in sdks.items() if sdk is not None]
        together = subprocess.run(["cmake", "--build", str(build_dir), "-j", jobs, "--target", *parts],
                                  stderr=subprocess.DEVNULL)
        for target in parts if together.returncode else []:  # one at a time, to keep those that build
            if subprocess.run(["cmake", "--build", str(build_dir), "-j", jobs, "--target", target]).returncode:
                print(f"[setup] the SYCL part {target} did not build (see above); the wheel works without it, and "
                      "launching on a queue of that SYCL runtime says so", file=sys.stderr)


def _sycl_sdk(major: int, version: str) -> Optional[Path]:
    """A prefix with the headers and libsycl.so.MAJOR of intel-sycl-rt ``version``, to build the SYCL part
    for that ABI: ``TRITON_XPU_SYCL<MAJOR>_ROOT``, else extracted once from the wheel pip downloads (into
    BUILD_DIR/sycl-sdk/VERSION), else None."""
    override = os.environ.get(f"TRITON_XPU_SYCL{major}_ROOT")
    if override:
        return Path(override)
    root = BUILD_DIR / "sycl-sdk" / version
    if (root / ".complete").exists():
        return root
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        # pip of the interpreter running this build, outside pip's isolated build environment.
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONNOUSERSITE", "PYTHONHOME")}
        proc = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                               "--platform", "manylinux_2_28_x86_64", f"intel-sycl-rt=={version}", "-d", tmp],
                              env=env)
        wheels = list(Path(tmp).glob("intel_sycl_rt-*.whl"))
        if proc.returncode or not wheels:
            print(f"[setup] could not download intel-sycl-rt=={version} for the SYCL part (libsycl.so.{major})",
                  file=sys.stderr)
            return None
        shutil.rmtree(root, ignore_errors=True)
        root.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(wheels[0]) as wheel:
            prefix = f"intel_sycl_rt-{version}.data/data/"
            library = f"{prefix}lib/libsycl.so.{major}.0.0"
            for member in wheel.namelist():
                if member.startswith(prefix + "include/") or member == library:
                    wheel.extract(member, tmp)
        shutil.move(os.path.join(tmp, prefix), root)
    for link in (f"libsycl.so.{major}", "libsycl.so"):
        (root / "lib" / link).symlink_to(f"libsycl.so.{major}.0.0")
    (root / ".complete").write_text(version)
    return root


prepare_tree()

setup(
    name=BASE_DIST,
    version=VERSION,
    description="Triton for Intel GPUs with ahead-of-time native binaries (zebin) and a native-only driver",
    long_description=(ROOT / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="MIT",
    python_requires=">=3.9",
    package_dir={"": "python"},
    packages=find_namespace_packages(where="python", include=["triton", "triton.*"],
                                     exclude=["*.__pycache__"]),
    package_data={"": ["*"]},
    exclude_package_data={"": ["*.pyc", ".base-stamp"]},
    include_package_data=False,
    zip_safe=False,
    distclass=BinaryDistribution,
    ext_modules=[CMakeExtension("triton.backends.intel._level_zero")],
    cmdclass={"build_ext": CMakeBuild},
    install_requires=["setuptools>=40.8.0", "PyYAML>=5.1"],
    # Launching on SYCL queues (PyTorch's, dpctl's) needs the SYCL runtime of the ABI the SYCL part is
    # built for (libsycl.so.9: oneAPI 2026).
    # The fleet cache (triton.backends.intel.fleet: Triton's remote cache on Redis) needs the Redis client.
    extras_require={"sycl": [SYCL_RUNTIME_REQUIREMENT], "fleet": ["redis>=5.0"]},
    entry_points={
        "console_scripts": [
            "proton = triton.profiler.proton:main",
            "proton-viewer = triton.profiler.viewer:main",
            "triton-xpu = triton.backends.intel.aot.cli:main",
        ],
    },
)
