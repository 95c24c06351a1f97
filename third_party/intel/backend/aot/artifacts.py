"""A kernel's artifact: its per-target zebins combined -- one target gives that zebin, several an ocloc fat
binary (an ``ar`` archive, members named ``64.<IP version>`` as ocloc names them, 8-byte aligned as NEO's own
encoder aligns them) -- and the files written: ``NAME.zebin``, ``NAME.json`` (per target: GRF mode, spills,
attempts, flags, launch shape, shared memory) and, on request, the C loader (``c_loader.py``) and each target's
SPIR-V module as IGC got it (``NAME.TARGET.spv``).

Each member is the binary the GRF policy chose for its target; the SPIR-V differs per target (layouts, DPAS,
sub-group size), so no single ocloc multi-device compile could produce them.  No ``generic_ir`` member: a
device without a member must fail to load, not compile from IR.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

from triton.backends.intel import targets as targets_mod
from triton.backends.intel.aot import binary_info
from triton.backends.intel.aot.jobs import JobResult, plain
from triton.backends.intel.aot.kernels import KernelSpec, Options
from triton.backends.intel.aot.signature import AotError
from triton.backends.intel.binary import fatbin, zebin

def member_name(target: str) -> str:
    """ocloc's fat-binary member name for ``target``'s zebin: ``64.<IP version>`` (zebins are 64-bit)."""
    device = targets_mod.DEVICES.get(target)
    ip = device.ip_version if device else None
    # NEO also matches "<pointer size>.<product abbreviation>" when it does not know the IP version.
    return fatbin.member_name(64, ip or target)


@dataclass
class TargetBuild:
    """One target's binary inside a kernel's artifact."""

    target: str
    zebin: bytes
    metadata: Dict[str, Any]
    kernel: zebin.KernelInfo
    offset: int  # where the zebin starts in the artifact's binary
    member: Optional[str]  # fat-binary member name; None for a single zebin
    ms: float
    spv: bytes = b""  # the SPIR-V module this target's zebin was compiled from
    embeds_ir: bool = False  # whether the zebin keeps that SPIR-V (.spv section; --keep-ir)

    @property
    def group_size(self) -> int:
        return int(self.metadata["num_warps"]) * int(self.metadata["threads_per_warp"])

    @property
    def shared(self) -> int:
        return int(self.metadata.get("shared") or 0)


@dataclass
class Artifact:
    """A kernel compiled for every requested target: the binary to ship and what is known about it."""

    spec: KernelSpec
    options: Options
    binary: bytes
    builds: List[TargetBuild]

    @property
    def is_fat(self) -> bool:
        return len(self.builds) > 1

    @property
    def kernel_symbol(self) -> str:
        """The kernel's name inside the binary (Triton's, normally the function's name)."""
        return self.builds[0].kernel.name


def assemble(spec: KernelSpec, options: Options, results: Sequence[JobResult]) -> Artifact:
    """Combine one kernel's per-target results (all successful) into its binary."""
    parsed, with_ir = [], []
    for result in results:
        info = zebin.read(result.zebin)
        parsed.append(info.kernel(result.metadata.get("name") or spec.kernel))
        with_ir.append(info.spirv is not None)
    if len(results) == 1:
        r = results[0]
        builds = [TargetBuild(r.job.target, r.zebin, r.metadata, parsed[0], 0, None, r.ms, r.spv, with_ir[0])]
        return Artifact(spec, options, r.zebin, builds)
    names = [member_name(r.job.target) for r in results]
    binary, places = fatbin.write(list(zip(names, (r.zebin for r in results))))
    builds = [
        TargetBuild(r.job.target, r.zebin, r.metadata, k, offset, name, r.ms, r.spv, ir)
        for r, k, name, (offset, _), ir in zip(results, parsed, names, places, with_ir)
    ]
    return Artifact(spec, options, binary, builds)


def describe(artifact: Artifact, binary_file: str) -> Dict[str, Any]:
    """The ``NAME.json`` document."""
    from triton.backends.intel.aot import c_loader
    spec = artifact.spec
    targets = []
    for b in artifact.builds:
        md = b.metadata
        k = b.kernel
        targets.append({
            "target": b.target,
            "family": targets_mod.lookup(b.target).family,
            "member": b.member,
            "offset": b.offset,  # where this target's zebin starts in the binary file
            "zebin_bytes": len(b.zebin),
            "zebin_sha256": hashlib.sha256(b.zebin).hexdigest(),
            "embeds_ir": b.embeds_ir,  # the zebin keeps its SPIR-V (--keep-ir): a driver may recompile it elsewhere
            "grf_mode": md.get("grf_mode"),
            "grf_mode_requested": md.get("grf_mode_requested"),
            "n_regs": md.get("n_regs"),
            "spill_bytes": md.get("spill_bytes"),
            "scratch_bytes": md.get("scratch_bytes"),
            "grf_attempts": md.get("grf_attempts"),
            "build_flags": md.get("build_flags"),
            "num_warps": md.get("num_warps"),
            "threads_per_warp": md.get("threads_per_warp"),
            "group_size": [b.group_size, 1, 1],
            "shared": b.shared,
            "num_stages": md.get("num_stages"),
            "native_compiler": md.get("native_compiler"),
            "native_compiler_version": md.get("native_compiler_version"),
            "triton_hash": md.get("hash"),
            "stage_ms": md.get("stage_ms"),
            "compile_ms": round(b.ms, 1),
            "kernel": binary_info.kernel_summary(k),  # what the binary itself says, as `triton-xpu info --json`
        })
    return {
        "name": spec.name,
        "kernel": artifact.kernel_symbol,
        "source": spec.path,
        "signature": dict(spec.signature),
        "constexprs": plain(spec.constexprs),
        "divisible_by_16": sorted(spec.divisibility),
        "arguments": [{"name": n, "type": t, "c_type": c_loader.c_type(t)} for n, t in spec.runtime_args],
        "options": artifact.options.as_dict(),
        "binary": {
            "file": binary_file,
            "format": "fat" if artifact.is_fat else "zebin",
            "bytes": len(artifact.binary),
            "sha256": hashlib.sha256(artifact.binary).hexdigest(),
        },
        "targets": targets,
    }


def check_out_dir(out_dir: str) -> None:
    """Create ``out_dir`` and make sure a file can be written there: checked before compiling, so that a
    wrong ``--out-dir`` costs no compile time."""
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise AotError(f"--out-dir {out_dir}: it exists and is not a directory")
    try:
        os.makedirs(out_dir, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=out_dir, prefix=".triton-xpu-write-check-")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise AotError(f"--out-dir {out_dir}: cannot write there ({e.strerror or e})") from None


def _write_all(files: List[Tuple[str, Any]]) -> None:
    """Write each (path, data): all to temporary files first, then each renamed into place, so a reader
    never sees half a file and a failed write leaves no temporary file.  AotError names the real path."""
    staged: List[Tuple[str, str]] = []
    path = ""
    try:
        for path, _ in files:  # what would make a rename fail once others are done
            if os.path.isdir(path):
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
        for path, data in files:
            tmp = f"{path}.tmp{os.getpid()}"
            staged.append((tmp, path))
            with open(tmp, "wb" if isinstance(data, (bytes, bytearray)) else "w") as f:
                f.write(data)
        for tmp, path in staged:
            os.replace(tmp, path)
    except OSError as e:
        for tmp, _ in staged:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        raise AotError(f"cannot write {path}: {e.strerror or e}") from None


def spv_file(name: str, target: str) -> str:
    """The file ``--emit-spv`` writes a target's SPIR-V to: one per target, since each target's module differs."""
    return f"{name}.{target}.spv"


def write_outputs(artifact: Artifact, out_dir: str, emit_c: bool, emit_spv: bool = False) -> List[str]:
    """Write NAME.zebin, NAME.json, with ``emit_c`` NAME.h / NAME.c and with ``emit_spv`` NAME.TARGET.spv for
    each target; returns the paths written.

    Everything is generated before anything is written: a kernel the C loader cannot express leaves no files.
    """
    name = artifact.spec.name
    files: List[Tuple[str, Any]] = [(f"{name}.zebin", artifact.binary),
                                    (f"{name}.json", json.dumps(describe(artifact, f"{name}.zebin"), indent=2) + "\n")]
    if emit_c:
        from triton.backends.intel.aot import c_loader
        header, source = c_loader.generate(artifact)
        files += [(f"{name}.h", header), (f"{name}.c", source)]
    if emit_spv:
        for b in artifact.builds:
            if not b.spv:
                raise AotError(f"--emit-spv: no SPIR-V for {name} on {b.target}")
            files.append((spv_file(name, b.target), b.spv))
    check_out_dir(out_dir)
    placed = [(os.path.join(out_dir, filename), data) for filename, data in files]
    _write_all(placed)
    return [path for path, _ in placed]
