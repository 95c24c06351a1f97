"""``triton-xpu``: ahead-of-time compilation of Triton kernels to native Intel GPU binaries, and inspection.

    triton-xpu compile PATH.py --kernel NAME --signature SIG --target T[,T...] --out-dir DIR [--emit-c] [--emit-spv] ...
    triton-xpu fill --targets T[,T...] --kernels RECORDED.jsonl [--jobs N]
    triton-xpu info FILE.zebin [--json]
    triton-xpu disasm FILE.zebin [--kernel NAME] [--target T]
    triton-xpu devices [--json]

Errors are one line on stderr (``triton-xpu: error: ...``) and a non-zero exit status, never a traceback
(``TRITON_XPU_CLI_TRACEBACK=1`` shows it).  Progress of ``compile`` goes to stderr; results to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from typing import Any, Dict, Optional, Sequence

PROG = "triton-xpu"


class UsageError(Exception):
    """A command-line mistake: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):

    def error(self, message: str):  # one line instead of argparse's usage block
        raise UsageError(f"{message} (see {self.prog} --help)")


# --------------------------------------------------------------------------------------------------------
# compile


def cmd_compile(args) -> int:
    from triton.backends.intel.aot import artifacts, c_loader, jobs as compile_jobs, kernels
    from triton.backends.intel.aot.progress import Progress, without_label
    from triton.backends.intel.aot.signature import AotError
    from triton.backends.intel.errors import IntelBackendError
    specs = kernels.prepare(args.path, args.kernel, args.signature, args.constexpr, args.out_name)
    targets = kernels.resolve_targets(args.target)
    options = kernels.Options(num_warps=args.num_warps, num_stages=args.num_stages,
                              threads_per_warp=args.threads_per_warp, grf_mode=args.grf,
                              keep_ir=True if args.keep_ir else None)
    if args.emit_c:
        c_loader.check_templates()
        for spec in specs:
            c_loader.check_name(spec.name)
            for arg, ty in spec.runtime_args:
                if c_loader.c_type(ty) is None:
                    raise AotError(f"--emit-c: argument {arg} of {spec.kernel} has type {ty}, which the C "
                                   f"launcher cannot take")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    artifacts.check_out_dir(args.out_dir)
    jobs = [compile_jobs.Job(spec, target, options) for spec in specs for target in targets]
    workers = min(args.jobs or compile_jobs.default_workers(), len(jobs))
    progress = Progress(len(jobs), workers, quiet=args.quiet)
    results = compile_jobs.run_jobs(jobs, workers, progress.event)
    progress.finish()

    failed = [r for r in results if r.error]
    unwritten = []
    for spec in specs:
        mine = [r for r in results if r.job.spec is spec]
        if any(r.error for r in mine):
            continue
        try:
            artifact = artifacts.assemble(spec, options, mine)
            paths = artifacts.write_outputs(artifact, args.out_dir, args.emit_c, args.emit_spv)
        except (IntelBackendError, OSError) as e:
            unwritten.append(f"{spec.name}: {_one_line(e)}")
            continue
        kind = f"fat binary: {', '.join(targets)}" if artifact.is_fat else targets[0]
        print(f"{paths[0]} ({kind}, {len(artifact.binary)} bytes)" +
              "".join(f", {os.path.basename(p)}" for p in paths[1:]))
    for text in unwritten:
        print(f"{PROG}: error: {text}", file=sys.stderr)
    for r in failed:
        message = r.error.rstrip()
        head, _, rest = message.partition("\n")
        print(f"{PROG}: error: {r.job.spec.kernel} for {r.job.target}: {without_label(head, r.job)}",
              file=sys.stderr)
        if rest and args.verbose:
            print(rest, file=sys.stderr)
    if failed and not args.verbose and any("\n" in r.error for r in failed):
        print(f"{PROG}: (rerun with --verbose for the full compiler output)", file=sys.stderr)
    return 1 if failed or unwritten else 0


# --------------------------------------------------------------------------------------------------------
# fill


def cmd_fill(args) -> int:
    import time
    from triton.backends.intel.aot import fill, jobs as compile_jobs, kernels, record
    from triton.backends.intel.aot.signature import AotError
    targets = kernels.resolve_targets(args.targets)
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    try:
        records, problems = record.read(args.kernels)
    except IsADirectoryError:
        raise UsageError(f"{args.kernels}: is a directory") from None
    except FileNotFoundError:
        raise UsageError(f"{args.kernels}: no such file") from None
    for problem in problems:
        print(f"{PROG}: error: {problem}", file=sys.stderr)
    if not records and not problems:
        raise AotError(f"{args.kernels} records no kernels: run the workload with "
                       f"TRITON_XPU_RECORD_KERNELS={args.kernels} first")
    jobs = fill.plan(args.kernels, records, targets)
    workers = max(1, min(args.jobs or compile_jobs.default_workers(), len(jobs)))
    start = time.perf_counter()

    def report(kind, result):
        if kind == "done":
            print(result.describe(), flush=True)

    results = compile_jobs.run_jobs(jobs, workers, report, work=fill.fill_one, crashed=fill.crashed)
    counts = {status: sum(r.status == status for r in results) for status in (fill.COMPILED, fill.PRESENT, fill.FAILED)}
    print(f"filled {len(results)} kernel-target pair{'s' if len(results) != 1 else ''} for {', '.join(targets)} in "
          f"{time.perf_counter() - start:.2f} s on {workers} process{'es' if workers > 1 else ''}: " +
          ", ".join(f"{n} {status}" for status, n in counts.items()))
    if counts[fill.FAILED]:
        print(f"{PROG}: error: {counts[fill.FAILED]} of {len(results)} kernel-target pairs failed (above)",
              file=sys.stderr)
    if problems:
        print(f"{PROG}: error: {len(problems)} line{'s' if len(problems) != 1 else ''} of {args.kernels} could not be "
              f"read (above)", file=sys.stderr)
    return 1 if counts[fill.FAILED] or problems else 0


# --------------------------------------------------------------------------------------------------------
# info


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except IsADirectoryError:
        raise UsageError(f"{path}: is a directory") from None
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except OSError as e:
        raise UsageError(f"{path}: {e.strerror or e}") from None


def _bytes_text(value: Optional[int]) -> str:
    return "unknown" if value is None else f"{value} B"


def format_info(info: Dict[str, Any]) -> str:
    targets = info["targets"]
    if info["format"] == "fat":
        head = (f"{info['file']}: ocloc fat binary, {info['bytes']} bytes, {len(targets)} target"
                f"{'s' if len(targets) != 1 else ''}: {', '.join(t['device'] for t in targets)}")
    else:
        head = f"{info['file']}: zebin, {info['bytes']} bytes"
    lines = [head]
    for t in targets:
        member = f"member {t['member']}, " if t["member"] else ""
        ir = "no IR" if t["ir_bytes"] is None else f"IR kept (SPIR-V {t['ir_bytes']} bytes)"
        lines.append(f"target {t['device']}: {t['family']}, {member}zebin {t['zebin_bytes']} bytes, "
                     f"zeinfo {t['zeinfo_version']}, {ir}")
        for k in t["kernels"]:
            lines.append(f"  kernel {k['name']}: SIMD {k['simd_width']}, GRF {k['grf_count'] or 'unknown'}, "
                         f"spill {_bytes_text(k['spill_bytes'])}, scratch {_bytes_text(k['scratch_bytes'])}, "
                         f"SLM {_bytes_text(k['slm_bytes'])}, barriers {k['barrier_count']}, "
                         f"DPAS {'yes' if k['has_dpas'] else 'no'}, code {_bytes_text(k['code_bytes'])}, "
                         f"required sub-group size {k['required_sub_group_size'] or 'none'}")
            lines.append(f"    arguments: {len(k['arguments'])}")
            for a in k["arguments"]:
                parts = [a["kind"]]
                if a["kind"] == "pointer":
                    parts += [p for p in (a["addrspace"], a["access"], a["addrmode"]) if p]
                text = " ".join(parts)
                type_text = f" ({a['type']})" if a["type"] else ""
                size = "sized at launch" if a["kind"] == "shared memory" else f"{a['size']} B"
                lines.append(f"      {a['index']}: {text}, {size}{type_text}")
    return "\n".join(lines)


def cmd_info(args) -> int:
    from triton.backends.intel.aot.binary_info import inspect_binary
    info = inspect_binary(args.file, _read(args.file), args.force)
    print(json.dumps(info, indent=2) if args.json else format_info(info))
    return 0


# --------------------------------------------------------------------------------------------------------
# disasm


def cmd_disasm(args) -> int:
    from triton.backends.intel import targets
    from triton.backends.intel.aot import disasm
    from triton.backends.intel.aot.binary_info import device_binaries, device_label
    from triton.backends.intel.tools import find_tool
    data = _read(args.file)
    binaries = device_binaries(args.file, data, args.force)
    iga = find_tool("iga64")
    wanted_target = targets.lookup(args.target).name if args.target else None
    shown = 0
    available = []
    for entry in binaries:
        parsed = entry["parsed"]
        device = device_label(parsed, entry["device"])
        # A fat binary names each member's device; a single zebin says only its product family.
        if not wanted_target:
            matches = True
        elif entry["device"]:
            matches = entry["device"] == wanted_target
        else:
            matches = parsed.product_family_name == targets.lookup(wanted_target).product_family
        if not matches:
            available.append(device)
            continue
        platform = disasm.iga_platform(parsed.product_family_name, iga)
        for code in disasm.kernel_code(parsed):
            available.append(f"{code.name}@{device}")
            if args.kernel and code.name != args.kernel:
                continue
            if shown:
                print()
            print(f"// kernel {code.name}, target {device}, {len(code.code)} bytes of code "
                  f"(+{code.padding} bytes of zero padding), iga64 -p={platform}")
            print(disasm.disassemble(code.code, platform, iga).rstrip("\n"))
            shown += 1
    if not shown:
        what = f"kernel {args.kernel!r}" if args.kernel else "code"
        where = f" for {wanted_target}" if wanted_target else ""
        raise UsageError(f"no {what}{where} in {args.file} (it has: {', '.join(available) or 'nothing'})")
    return 0


# --------------------------------------------------------------------------------------------------------
# devices


def cmd_devices(args) -> int:
    from triton.backends.intel.errors import IntelBackendError
    from triton.backends.intel.runtime import emulation, level_zero
    why = None
    devices = []
    if not level_zero.available():
        why = (f"no Intel GPU (no render node of vendor 0x8086) and {emulation.EMULATE_ENV} is not set "
               f"(e.g. {emulation.EMULATE_ENV}=pvc for an emulated device)")
    else:
        try:
            devices = level_zero.runtime().devices
        except IntelBackendError as e:
            why = str(e)
    rows = []
    for d in devices:
        p = d.properties
        rows.append({
            "index": d.index, "name": d.name, "target": d.target.name, "emulated": d.emulated,
            "device_id": f"0x{p.get('device_id', 0):04x}", "sub_group_sizes": list(p.get("sub_group_sizes", [])),
            "max_group_size": p.get("max_total_group_size"), "eus": (p.get("num_slices", 0) *
                                                                      p.get("num_subslices_per_slice", 0) *
                                                                      p.get("num_eus_per_subslice", 0)),
            "threads_per_eu": p.get("num_threads_per_eu"), "shared_memory": p.get("max_shared_local_memory"),
            "driver_version": p.get("driver_version_text") or p.get("driver_version"),
        })
    if args.json:
        print(json.dumps({"devices": rows, "reason": why}, indent=2))
    elif not rows:
        print(f"no Level Zero devices: {why}")
    else:
        for r in rows:
            print(f"{r['index']}: {r['name']} ({r['device_id']}), target {r['target']}"
                  f"{' (emulated: kernels do not execute)' if r['emulated'] else ''}; sub-groups "
                  f"{'/'.join(map(str, r['sub_group_sizes']))}, work-group <= {r['max_group_size']}, {r['eus']} EUs x "
                  f"{r['threads_per_eu']} threads, SLM {r['shared_memory']} B, driver {r['driver_version']}")
    return 0


# --------------------------------------------------------------------------------------------------------
# main


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Ahead-of-time compilation of Triton kernels to native Intel GPU "
                     "binaries (zebin), loaded with Level Zero without Triton or Python; and their inspection.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    c = sub.add_parser("compile", help="compile Triton kernels to NAME.zebin, NAME.json (C with --emit-c, SPIR-V with "
                       "--emit-spv)",
                       description="Compile @triton.jit kernels of a Python file for named Intel GPU targets. "
                       "Each (kernel, target) pair is compiled by triton.compile, in parallel processes; several "
                       "targets make an ocloc fat binary.")
    c.add_argument("path", help="Python file defining the kernels (it is executed)")
    c.add_argument("--kernel", "-n", action="append", required=True, metavar="NAME",
                   help="@triton.jit function to compile (repeatable)")
    c.add_argument("--signature", "-s", action="append", required=True, metavar="SIG",
                   help="argument types in the form of Triton's AOT tool, constexpr values inline, e.g. "
                   "\"*fp32:16,*fp32,*fp32,i32,1024\" (one per --kernel, in order, or one for all)")
    c.add_argument("--constexpr", "-c", action="append", default=[], metavar="K=V",
                   help="value of constexpr argument K for each kernel whose signature leaves K out (repeatable)")
    c.add_argument("--target", "-t", action="append", required=True, metavar="T[,T...]",
                   help="Intel GPU targets by ocloc name: pvc, acm-g10 (dg2), acm-g11, acm-g12, tgllp")
    c.add_argument("--num-warps", "-w", type=int, default=4, metavar="N",
                   help="warps (sub-groups) per work-group; default 4")
    c.add_argument("--num-stages", type=int, default=2, metavar="N", help="software pipelining stages; default 2")
    c.add_argument("--threads-per-warp", type=int, default=32, metavar="N",
                   help="sub-group size asked for (Triton may choose 16 for DPAS on pvc)")
    c.add_argument("--grf", default="default", metavar="MODE",
                   help="register file: default (retry with 256 when spilling), 128, 256 or auto")
    c.add_argument("--keep-ir", action="store_true",
                   help="keep each zebin's SPIR-V (.spv section), so that a driver may recompile it on a device it "
                   "was not compiled for; by default it is left out and such a load fails (also TRITON_XPU_KEEP_IR=1)")
    c.add_argument("--out-dir", "-o", required=True, metavar="DIR")
    c.add_argument("--out-name", action="append", default=[], metavar="NAME",
                   help="output name per --kernel (files NAME.*, C functions load_NAME, NAME); default the "
                   "kernel's name")
    c.add_argument("--emit-c", action="store_true", help="also write NAME.c and NAME.h (Level Zero loader)")
    c.add_argument("--emit-spv", action="store_true",
                   help="also write NAME.TARGET.spv, each target's SPIR-V module as IGC got it (for spirv-dis, or "
                   "to rerun ocloc with the build_flags of NAME.json)")
    c.add_argument("--jobs", "-j", type=int, default=None, metavar="N",
                   help="parallel compile processes (default: cores)")
    c.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    c.add_argument("--verbose", "-v", action="store_true", help="full compiler output on failure")
    c.set_defaults(func=cmd_compile)

    f = sub.add_parser("fill", help="compile recorded kernels (TRITON_XPU_RECORD_KERNELS) into Triton's cache for "
                       "named targets",
                       description="Compile each kernel specialisation a run recorded (TRITON_XPU_RECORD_KERNELS=FILE) "
                       "for named Intel GPU targets, into the Triton cache this process uses (TRITON_CACHE_DIR, or "
                       "the cache manager TRITON_CACHE_MANAGER names), under the key a JIT on a device of each target "
                       "computes. No GPU needed. Reports each kernel and target: compiled, already present or failed.")
    f.add_argument("--targets", "--target", "-t", action="append", required=True, metavar="T[,T...]",
                   help="Intel GPU targets by ocloc name: pvc, bmg, acm-g10 (dg2), ...")
    f.add_argument("--kernels", "-k", required=True, metavar="FILE",
                   help="the JSON-lines file a run wrote with TRITON_XPU_RECORD_KERNELS=FILE (kernels are imported by "
                   "module and name: make their modules importable, e.g. with PYTHONPATH)")
    f.add_argument("--jobs", "-j", type=int, default=None, metavar="N",
                   help="parallel compile processes (default: cores)")
    f.set_defaults(func=cmd_fill)

    i = sub.add_parser("info", help="resource usage per kernel and target of a zebin or fat binary")
    i.add_argument("file")
    i.add_argument("--json", action="store_true")
    i.add_argument("--force", action="store_true",
                   help="show a binary the driver would refuse, as far as it reads (after a warning)")
    i.set_defaults(func=cmd_info)

    d = sub.add_parser("disasm", help="the ISA of a zebin's kernels (through iga64)")
    d.add_argument("file")
    d.add_argument("--kernel", "-k", metavar="NAME")
    d.add_argument("--target", "-t", metavar="T", help="only this target of a fat binary")
    d.add_argument("--force", action="store_true",
                   help="disassemble a binary the driver would refuse, as far as it reads (after a warning)")
    d.set_defaults(func=cmd_disasm)

    v = sub.add_parser("devices", help="the Level Zero devices seen (real or emulated) and their targets")
    v.add_argument("--json", action="store_true")
    v.set_defaults(func=cmd_devices)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"{PROG}: warning: {message}", file=sys.stderr)


def main(argv: Optional[Sequence[str]] = None) -> int:
    warnings.showwarning = _show_warning
    parser = build_parser()
    command = "triton-xpu"
    try:
        args = parser.parse_args(argv)
        command = f"{PROG} {args.command}"
        return args.func(args)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (| head): stop quietly, as other tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except UsageError as e:
        print(f"{command}: error: {e}", file=sys.stderr)
        return 2
    except Exception as e:
        from triton.backends.intel import knobs
        if knobs.raw(knobs.CLI_TRACEBACK):
            raise
        print(f"{command}: error: {_one_line(e)}", file=sys.stderr)
        return 1


def _one_line(error: BaseException) -> str:
    text = str(error).strip()
    if not text:
        return type(error).__name__
    first = text.splitlines()[0]
    from triton.backends.intel.errors import IntelBackendError
    if isinstance(error, (IntelBackendError, OSError, ValueError, KeyError)):
        return first.strip("'\"") if isinstance(error, KeyError) else first
    return f"{type(error).__name__}: {first}"


if __name__ == "__main__":
    sys.exit(main())
