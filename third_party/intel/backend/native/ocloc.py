"""Compiling SPIR-V to native Intel GPU code (zebin) with ocloc.

Two ways to run the same ocloc command line (``ocloc_runner.py``):

* libocloc's ``oclocInvoke`` (ctypes), called in a resident worker process
  (``ocloc_worker.py``) so that an IGC crash or hang cannot take the caller
  with it: the SPIR-V goes in and the binary and log come back as buffers,
  no files;
* the ``ocloc`` executable in a temporary directory.

``TRITON_XPU_OCLOC_MODE=lib|subprocess|auto`` picks one (default ``auto``:
libocloc when it loads, else the executable; an explicit ``TRITON_OCLOC_PATH``
also selects the executable).  ``TRITON_LIBOCLOC_PATH`` names the library.
A compile given a ``cancel`` token runs beside the others and can be stopped.

The command line is one every ocloc since 22.43 (Debian 12) understands:
``-output NAME -output_no_suffix`` (22.43 has no ``-o``) and
``-internal_options -cl-intel-allow-zebin`` (22.43 emits the legacy
patch-token format without it); an ocloc that rejects that option is detected
and not given it again.  ``exclude_ir`` adds ``-exclude_ir``: the zebin then
carries no ``.spv`` section, the SPIR-V NEO would otherwise silently recompile
on a device the binary is not for (22.43 and 26.x both honour it; 22.43 ignores
the internal option ``-exclude-ir-from-zebin``).

Failures: a missing tool is a ToolNotFoundError with the apt-get hint; a failed
or crashed ocloc, or one that exits 0 without a usable zebin, is a
CompilationError carrying the build log and a one-line repro command; a kernel
whose per-thread scratch space exceeds the device's limit is Triton's
OutOfResources, so the autotuner can prune the config.  Newer IGC reports that
itself ("total scratch space exceeds HW supported limit"); IGC 1.0.12504
(ocloc 22.43) says nothing and emits the kernel, so the zebin's scratch sizes
are checked against the device's limit.

libocloc 22.43 calls exit() when the input lacks the SPIR-V magic number (the
header is checked first) and printf()s "Command was: ..." to stdout on failure
(captured by the worker and dropped).  Every ocloc run has a timeout
(``TRITON_XPU_OCLOC_TIMEOUT``); short ones -- queries, ``ocloc ids``, capability
probes -- go through :func:`short_job`, run the same way as compiles.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import signal
import subprocess
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

from triton.runtime.errors import OutOfResources

from triton.backends.intel import targets
from triton.backends.intel.binary import elf, fatbin, validate
from triton.backends.intel.binary.zebin import Zebin, is_zebin
from triton.backends.intel.binary.zebin import read as read_zebin
from triton.backends.intel.errors import CompilationError, ToolNotFoundError, ZebinFormatError
from triton.backends.intel.native import build_log, compiler_identity
from triton.backends.intel.native.ocloc_runner import (LIB_ENV, MODE_ENV, TIMEOUT_ENV, Cancel, OclocCancelled,
                                                       OclocTimedOut, Run, choose_runner, compile_timeout, ocloc_mode,
                                                       run, short_job)
from triton.backends.intel.tools import env_var

__all__ = ["Cancel", "OclocCancelled", "OclocResult", "compile_spirv", "compile_timeout", "device_support",
           "igc_reason", "ocloc_mode", "ocloc_version", "short_job", "LIB_ENV", "MODE_ENV", "TIMEOUT_ENV"]

ALLOW_ZEBIN = "-cl-intel-allow-zebin"
EXCLUDE_IR = "-exclude_ir"  # no .spv section in the zebin (ocloc's own option; 22.43 and 26.x)
SPIRV_NAME = "kernel.spv"  # the input's name on the command line (and in the repro)
OUTPUT_NAME = "kernel"  # -output NAME -output_no_suffix: the binary is called exactly this

# Newer IGC refuses such kernels itself:
# "error: total scratch space exceeds HW supported limit for kernel K: N bytes (max permitted PTSS M bytes)"
_PTSS_OVERFLOW = re.compile(r"total\s+scratch\s+space\s+exceeds\s+HW\s+supported\s+limit"
                            r"(?:\s+for\s+kernel\s+(?P<kernel>[^\s:]+))?:?\s+(?P<required>\d+)\s+bytes"
                            r"\s*\(max\s+permitted\s+PTSS\s+(?P<limit>\d+)\s+bytes\)")

# What oclocInvoke returns (ocloc_error_code.h, OpenCL error codes).
_OCLOC_ERRORS = {-5: "CL_OUT_OF_RESOURCES", -6: "CL_OUT_OF_HOST_MEMORY", -11: "CL_BUILD_PROGRAM_FAILURE",
                 -33: "CL_INVALID_DEVICE", -44: "CL_INVALID_PROGRAM", -5150: "OCLOC_INVALID_COMMAND_LINE",
                 -5151: "OCLOC_INVALID_FILE"}

SPIRV_MAGIC = 0x07230203


@dataclass
class OclocResult:
    """One ocloc compile."""

    binary: bytes  # a zebin for one device; ocloc's fat binary (an ar archive) for several
    log: str  # ocloc's build log (IGC warnings such as spill reports included)
    command: str  # the equivalent shell command, reading the SPIR-V from kernel.spv
    ms: float  # wall time of the compile
    via: str  # "libocloc" or "subprocess"
    zebins: Dict[str, Zebin] = field(default_factory=dict, repr=False)  # each device's zebin, read and checked


def binary_output(outputs: Dict[str, bytes]) -> Optional[bytes]:
    """The device binary among ocloc's outputs (not the .spv/.bc/.ll/.txt/.log side files), whatever ocloc
    named it (26.x appends ".bin" despite -output_no_suffix)."""
    if OUTPUT_NAME in outputs:
        return outputs[OUTPUT_NAME]
    ranked = sorted((not (is_zebin(data) or fatbin.is_fat_binary(data)), name, data)
                    for name, data in outputs.items() if fatbin.is_fat_binary(data) or elf.is_elf(data))
    return ranked[0][2] if ranked else None


def _compile_args(spirv_name: str, devices: str, options: str, internal_options: str,
                  exclude_ir: bool = False) -> List[str]:
    args = ["compile", "-file", spirv_name, "-spirv_input", "-device", devices, "-output", OUTPUT_NAME,
            "-output_no_suffix"]
    if exclude_ir:
        args.append(EXCLUDE_IR)
    if options:
        args += ["-options", options]
    if internal_options:
        args += ["-internal_options", internal_options]
    return args


def _repro(exe: str, args: Sequence[str]) -> str:
    return shlex.join([exe, *args])


# An ocloc that refuses -cl-intel-allow-zebin (it emits zebin by default) is remembered here.
_zebin_option_rejected: Dict[str, bool] = {}


def _merge_internal_options(internal_options: str, allow_zebin: bool) -> str:
    words = shlex.split(internal_options)
    if allow_zebin and ALLOW_ZEBIN not in words:
        words.insert(0, ALLOW_ZEBIN)
    if not allow_zebin:
        words = [w for w in words if w != ALLOW_ZEBIN]
    return " ".join(shlex.quote(w) for w in words)


def _rejects_option(log: str, option: str) -> bool:
    """Whether a failed ocloc's log says it does not know ``option`` (ignoring its echo of the command)."""
    return any(option in line and re.search(r"(?i)\b(invalid|unknown|unsupported|unrecognized)\b", line)
               for line in log.splitlines() if not line.startswith("Command was:"))


# --------------------------------------------------------------------------------------------
# Checking the result


def _spirv_problem(spirv: bytes) -> Optional[str]:
    """Why ``spirv`` is not a SPIR-V module, or None.  libocloc 22.43 calls exit() on a wrong magic
    number, taking the whole process down, so the header is checked before ocloc sees it."""
    if len(spirv) < 20:
        return f"{len(spirv)} bytes is shorter than a SPIR-V header (20 bytes)"
    if len(spirv) % 4:
        return f"{len(spirv)} bytes is not a whole number of 32-bit words"
    words = int.from_bytes(spirv[:4], "little"), int.from_bytes(spirv[:4], "big")
    if SPIRV_MAGIC not in words:
        return f"the first word 0x{words[0]:08x} is not the SPIR-V magic number 0x{SPIRV_MAGIC:08x}"
    return None


def _death(code: int) -> str:
    if code >= 0:
        return f"exited with status {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = "signal"
    return f"crashed with signal {name} ({-code})"


def _describe_code(code: int, via: str) -> str:
    if via == "subprocess":
        return f"exit status {code}"
    name = _OCLOC_ERRORS.get(code)
    return f"error code {code}" + (f" ({name})" if name else "")


_GENERIC_ERRORS = re.compile(r"(?i)backend compiler failed build|build failed with error code")


def igc_reason(log: str) -> Optional[str]:
    """The compiler's own first error in a build log, on one line (IGC 1.0 puts the kernel's source location
    on the next lines, IGC 2 inside the error line), or None."""
    lines = [line.strip() for line in log.splitlines()]
    for i, line in enumerate(lines):
        if line.lower().startswith("error:") and not _GENERIC_ERRORS.search(line):
            reason = line[len("error:"):].strip()
            where = next((nxt for nxt in lines[i + 1:i + 3] if nxt.startswith("in file:")), None)
            return reason + (f" ({where})" if where else "")
    return None


def _raise_if_scratch_overflow(log: str, repro: str) -> None:
    m = _PTSS_OVERFLOW.search(log)
    if m:
        kernel = m.group("kernel")
        err = OutOfResources(int(m.group("required")), int(m.group("limit")),
                             f"scratch space per thread{f' of kernel {kernel}' if kernel else ''}")
        err.log, err.repro = log, repro
        raise err


def _device_binaries(binary: bytes) -> Dict[str, bytes]:
    """{device: zebin} of a single zebin ("" as the device) or a fat binary."""
    if fatbin.is_fat_binary(binary):
        return fatbin.device_binaries(binary)
    return {"": binary}


def _check_binary(binary: bytes, log: str, repro: str, check_limits: bool) -> Dict[str, Zebin]:
    """Every device binary, read and checked once ({device: Zebin}, "" for a single zebin); raises unless
    each is a loadable zebin with kernels that fit the device's scratch space."""
    try:
        members = _device_binaries(binary)
    except ZebinFormatError as e:
        raise CompilationError(f"ocloc exited successfully but its output is unusable: {e}", log, repro) from e
    if not members:
        raise CompilationError("ocloc exited successfully but its fat binary holds no device binary", log, repro)
    parsed: Dict[str, Zebin] = {}
    for device, data in members.items():
        where = f" for {device}" if device else ""
        try:
            zebin = read_zebin(data, build_log.spills(log, device or None))
        except ZebinFormatError as e:
            # IGC drops a kernel it cannot compile (e.g. beyond the scratch limit) and still writes the zebin.
            dropped = (". IGC drops kernels it cannot compile, e.g. ones whose scratch space exceeds the hardware "
                       "limit") if "no kernel" in str(e) else ""
            raise CompilationError(f"ocloc exited successfully but its output{where} is unusable: {e}{dropped}",
                                   log, repro) from e
        family = targets.family(zebin.product_family)
        limit = family.max_scratch_per_thread if check_limits and family else None
        for kernel in zebin.kernels if limit is not None else ():
            # Each scratch slot is a separate per-thread space; the largest must fit.  Checked before the
            # driver's rules, which refuse it too: Triton's autotuner prunes on OutOfResources.
            largest = max(kernel.scratch_slots().values(), default=0)
            if largest > limit:
                err = OutOfResources(largest, limit, f"scratch space per thread of kernel {kernel.name}{where}")
                err.log, err.repro = log, repro
                raise err
        if check_limits:
            try:
                validate.check(zebin)
            except ZebinFormatError as e:
                raise CompilationError(f"ocloc's output{where} is not a binary the driver may load: {e}", log,
                                       repro) from e
        parsed[device] = zebin
    return parsed


# --------------------------------------------------------------------------------------------
# Public API


def compile_spirv(spirv: bytes, devices: List[str], options: str = "", internal_options: str = "", *,
                  check_limits: bool = True, cancel: Optional[Cancel] = None, exclude_ir: bool = False) -> OclocResult:
    """Compile a SPIR-V module for ``devices`` (ocloc names: pvc, acm-g10, ...) with ocloc.

    ``options`` are OpenCL/IGC build options (``-cl-intel-256-GRF-per-thread``);
    ``internal_options`` are added to ``-cl-intel-allow-zebin``.  With
    ``check_limits`` a kernel whose per-thread scratch space exceeds the
    device's limit raises OutOfResources even where ocloc itself accepts it.
    With a ``cancel`` token the compile runs beside others (libocloc's second worker, or its own process)
    and raises OclocCancelled once ``cancel.cancel()`` stopped it.  With ``exclude_ir`` the binary embeds no
    SPIR-V (``-exclude_ir``); a device binary that still holds a ``.spv`` section is a CompilationError.
    """
    if isinstance(devices, str):
        devices = [devices]
    devices = [d.strip() for d in devices if d and d.strip()]
    if not devices:
        raise ValueError("compile_spirv needs at least one ocloc device name (e.g. 'pvc')")
    device_list = ",".join(devices)
    spirv = bytes(spirv)
    start = time.perf_counter()

    via, lib, exe = choose_runner(spare=cancel is not None)
    key = f"{via}:{exe if lib is None else lib.path}"

    allow_zebin = not _zebin_option_rejected.get(key, False)
    args = _compile_args(SPIRV_NAME, device_list, options, _merge_internal_options(internal_options, allow_zebin),
                         exclude_ir)
    repro = _repro(exe, args)

    problem = _spirv_problem(spirv)
    if problem:
        raise CompilationError(f"input is not SPIR-V: {problem}; it was not passed to ocloc",
                               log=f"not SPIR-V: {problem}", repro=repro)

    def run_once(args: List[str]) -> Run:
        try:
            return run(lib, exe, args, {SPIRV_NAME: spirv}, compile_timeout(), cancel)
        except OclocTimedOut:
            raise CompilationError(
                f"ocloc did not finish compiling for {device_list} within {compile_timeout():g} s and was stopped; "
                f"raise {TIMEOUT_ENV} (seconds) if the kernel needs longer", "", repro) from None

    result = run_once(args)
    if result.code != 0 and allow_zebin and _rejects_option(result.log, ALLOW_ZEBIN):
        # An ocloc that knows only zebin may refuse the option that enables it: retry without it and,
        # if that works, never pass it to this ocloc again.
        retry_args = _compile_args(SPIRV_NAME, device_list, options,
                                   _merge_internal_options(internal_options, False), exclude_ir)
        retry = run_once(retry_args)
        if retry.code == 0:
            _zebin_option_rejected[key] = True
            args, repro, result = retry_args, _repro(exe, retry_args), retry

    log = result.log
    if result.died:
        where = " (libocloc, in its worker process; this process is unaffected)" if via == "libocloc" else ""
        raise CompilationError(f"ocloc {_death(result.code)} compiling for {device_list}{where}; IGC crashes on "
                               "malformed SPIR-V -- the repro command reproduces it", log, repro)
    if result.code != 0:
        _raise_if_scratch_overflow(log, repro)
        reason = igc_reason(log)
        raise CompilationError(f"ocloc failed compiling for {device_list} ({_describe_code(result.code, via)})"
                               + (f": {reason}" if reason else ""), log, repro)
    binary = binary_output(result.outputs)
    if not binary:
        raise CompilationError(f"ocloc exited successfully but produced no output for {device_list}", log, repro)
    zebins = _check_binary(binary, log, repro, check_limits)
    with_ir = [device or device_list for device, zebin in zebins.items() if zebin.spirv is not None]
    if exclude_ir and with_ir:
        raise CompilationError(f"ocloc was asked for a binary without IR ({EXCLUDE_IR}) but its zebin for "
                               f"{', '.join(with_ir)} still embeds the SPIR-V (.spv section)", log, repro)
    ms = (time.perf_counter() - start) * 1e3
    return OclocResult(binary=binary, log=log, command=repro, ms=ms, via=via, zebins=zebins)


def _query(what: str) -> Optional[str]:
    """``ocloc query WHAT`` (the answer is written as a file named WHAT), or None if unsupported."""
    _, result = short_job(["query", what])
    answer = result.outputs.get(what)
    if result.died or result.code != 0 or not answer:
        return None
    return answer.rstrip(b"\0\n ").decode(errors="replace") or None


def device_support(device: str) -> Optional[str]:
    """None when compile_spirv can compile for ``device``, else the reason as a sentence: no ocloc, an ocloc
    that hangs, crashes or answers nothing, or one that does not know the device (``ocloc ids DEVICE``).
    Asked once per installed compiler (compiler_identity): a later process reads the answer from disk."""
    return compiler_identity.remembered(f"ocloc ids {device}", lambda: _ask_device_support(device),
                                        keep=lambda reason: reason is None or reason.startswith(_UNKNOWN_DEVICE))


_UNKNOWN_DEVICE = "the installed ocloc does not know "


def _ask_device_support(device: str) -> Optional[str]:
    try:
        command, result = short_job(["ids", device])
    except ToolNotFoundError as e:
        return str(e)
    code, printed = result.code, result.log
    if code == 0 and "Matched ids" in printed:
        return None
    if result.died:
        return f"{command} {_death(code)}: the installed ocloc is broken; reinstall intel-opencl-icd"
    if re.search(r"(?i)unknown acronym|could not determine (target|device)|invalid device", printed):
        return f"{_UNKNOWN_DEVICE}{device} ({command}: {printed.strip().splitlines()[0]})"
    said = f"printed {printed.strip()[:120]!r}" if printed.strip() else "printed nothing"
    return (f"{command} exited with status {code} and {said} instead of the device's ids: it is not a "
            f"working ocloc; reinstall intel-opencl-icd or point {env_var('ocloc')} to a working one")


def _libigc_fingerprint() -> str:
    """File name, size and modification time of each IGC library the loader would find."""
    dirs = [d for d in os.environ.get("LD_LIBRARY_PATH", "").split(":") if d]
    try:
        out = subprocess.run(["ldconfig", "-p"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             env={**os.environ, "PATH": os.environ.get("PATH", "") + ":/sbin:/usr/sbin"}).stdout
        dirs += [os.path.dirname(line.split(b"=>")[-1].strip().decode()) for line in out.splitlines()
                 if b"libigc.so" in line and b"=>" in line]
    except OSError:
        pass
    dirs += compiler_identity.SYSTEM_LIB_DIRS
    seen, parts = set(), []
    for d in dirs:
        for name in compiler_identity.IGC_LIBRARIES:
            path = os.path.realpath(os.path.join(d, name))
            if path in seen or not os.path.isfile(path):
                continue
            seen.add(path)
            st = os.stat(path)
            parts.append(f"{os.path.basename(path)}:{st.st_size}:{int(st.st_mtime)}")
    return ",".join(parts) or "libigc:unknown"


@functools.lru_cache(maxsize=None)
def _version(via: str, where: str) -> str:
    driver = _query("OCL_DRIVER_VERSION") or "unknown"
    neo = _query("NEO_REVISION")
    igc = _query("IGC_REVISION")  # newer ocloc only
    text = f"ocloc {driver}"
    if neo and neo not in driver:
        text += f" neo {neo}"
    text += f" igc {igc}" if igc else f" igc {_libigc_fingerprint()}"
    return text


def ocloc_version() -> str:
    """A stable identification of the ocloc and IGC that compile_spirv uses, for cache keys, e.g.
    ``ocloc 22.43.24595 igc libigc.so.1.0.1:42029952:1700179200`` (the IGC library's name, size and
    modification time when ocloc cannot report an IGC revision)."""
    def ask() -> str:
        via, lib, exe = choose_runner()
        return _version(via, lib.path if lib is not None else exe)

    # A version query that failed says "unknown": asked again by the next process, not kept.
    return compiler_identity.remembered("ocloc version", ask, keep=lambda text: "unknown" not in text)
