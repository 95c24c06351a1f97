#!/usr/bin/env python3
"""Plants each launch bug of issue 29 in a scratch clone of this repository and reports which tests catch it.

    tools/mutation_check.py [--toolchain current] [--only NAME ...] [--tests PATH ...] [--keep DIR]

A suite that passes with one of these bugs planted is missing a test.  For every mutation the clone is reset, the
bug applied to the product code (each edit must match exactly once, so a refactor that moves the code fails here
loudly instead of planting nothing), the wheel rebuilt by ./run, and the selected tests run; a mutation no test
catches is reported as SURVIVED and the exit status is 1.  Slow (a wheel build and the numeric and dispatch tests
per mutation: about 4 minutes each on 2 cores), so it is a developer's tool, not part of ./run test.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Tuple

ROOT = Path(__file__).resolve().parents[1]

# name -> (file, exact text, its replacement)
MUTATIONS: Dict[str, Tuple[str, str, str]] = {
    "l0-pointer-swap": ("lib/level_zero_module.cpp",
                        "zeKernelSetArgumentValue(kernel, static_cast<uint32_t>(i), value.size, value.pointer)",
                        "zeKernelSetArgumentValue(kernel, static_cast<uint32_t>(i < 2 ? 1 - i : i), value.size, "
                        "value.pointer)"),
    "sycl-pointer-swap": ("lib/sycl_module.cpp",
                          "for (size_t i = 0; i < count; ++i) set_arg(h, static_cast<int>(i), values[i]);",
                          "for (size_t i = 0; i < count; ++i) set_arg(h, static_cast<int>(i < 2 ? 1 - i : i), "
                          "values[i]);"),
    "scalar-swap": ("third_party/intel/backend/driver.py",
                    "        try:\n            if stream:  # a sycl::queue*",
                    "        sc = [i for i, k in enumerate(self.kinds) if k != 'ptr']\n"
                    "        if len(sc) >= 2:\n            args = list(args)\n"
                    "            args[sc[0]], args[sc[1]] = args[sc[1]], args[sc[0]]\n"
                    "        try:\n            if stream:  # a sycl::queue*"),
    "l0-grid-x+1": ("lib/level_zero_module.cpp", 'ze_group_count_t groups{to_group_count(args[0], "gx"),',
                    'ze_group_count_t groups{to_group_count(args[0], "gx") + 1,'),
    "l0-grid-z+1": ("lib/level_zero_module.cpp", 'to_group_count(args[2], "gz")};',
                    'to_group_count(args[2], "gz") + 1};'),
    "sycl-grid-x+1": ("lib/sycl_module.cpp", "size_t{grid[0]} * group[0]}", "size_t{grid[0] + 1} * group[0]}"),
    "sycl-grid-z+1": ("lib/sycl_module.cpp", "{size_t{grid[2]} * group[2]", "{size_t{grid[2] + 1} * group[2]"),
    "shared-halved": ("third_party/intel/backend/driver.py", "self.shared = metadata.shared or 0",
                      "self.shared = (metadata.shared or 0) // 2"),
    "wrong-sub-group-size": ("third_party/intel/backend/driver.py",
                             "self.group_size = (metadata.num_warps * metadata.threads_per_warp, 1, 1)",
                             "self.group_size = (metadata.num_warps * 32, 1, 1)"),
    "fp16-as-fp32": ("include/triton_xpu/launch_args.h",
                     "    case Kind::FP16:\n      out.storage = round_to_float_bits(to_double(obj, index, kind), 5, "
                     "10);\n      out.size = 2;",
                     "    case Kind::FP16:\n      out.storage = round_to_float_bits(to_double(obj, index, kind), 8, "
                     "23);\n      out.size = 4;"),
    "no-libdevice": ("third_party/intel/backend/pipelines.py", "    if libdevice_paths:\n", "    if False:\n"),
}

DEFAULT_TESTS = ["python/test/numeric", "python/test/runtime/test_dispatch.py"]


def plant(clone: Path, name: str) -> None:
    path, old, new = MUTATIONS[name]
    target = clone / path
    text = target.read_text()
    if text.count(old) != 1:
        raise SystemExit(f"mutation {name}: the text to replace occurs {text.count(old)} times in {path} (expected "
                         "once); update MUTATIONS to the current code")
    target.write_text(text.replace(old, new))


def run_tests(clone: Path, toolchain: str, tests: List[str]) -> Tuple[int, List[str], str]:
    proc = subprocess.run([str(clone / "run"), "--toolchain", toolchain, "python", "-m", "pytest", *tests, "-q",
                           "-n", "2", "-p", "no:cacheprovider"], cwd=clone, capture_output=True, text=True)
    failed = sorted(set(re.findall(r"^(?:FAILED|ERROR) (\S+)", proc.stdout, re.M)))
    tail = (proc.stdout.strip().splitlines() or [""])[-1]
    return proc.returncode, failed, tail


def by_function(tests: List[str]) -> Dict[str, int]:
    """Failed test ids grouped by test function (parameters dropped), in order, with their counts."""
    counts: Dict[str, int] = {}
    for test in tests:
        function = test.split("[", 1)[0]
        counts[function] = counts.get(function, 0) + 1
    return counts


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--toolchain", default="current")
    parser.add_argument("--only", nargs="*", choices=sorted(MUTATIONS), help="mutations to plant (default: all)")
    parser.add_argument("--tests", nargs="*", default=DEFAULT_TESTS)
    parser.add_argument("--keep", help="a scratch clone to reuse (its venv survives between runs)")
    args = parser.parse_args(argv)
    clone = Path(args.keep or tempfile.mkdtemp(prefix="triton-xpu-mutants-")) / "repo"
    if not clone.exists():
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    else:  # a kept clone: bring it to this repository's HEAD (its venv stays)
        subprocess.run(["git", "fetch", "-q", str(ROOT), "HEAD"], cwd=clone, check=True)
        subprocess.run(["git", "reset", "-q", "--hard", "FETCH_HEAD"], cwd=clone, check=True)
    survived = []
    for name in args.only or list(MUTATIONS):
        subprocess.run(["git", "checkout", "-q", "--", "."], cwd=clone, check=True)
        plant(clone, name)
        rc, failed, tail = run_tests(clone, args.toolchain, args.tests)
        if rc == 0 or not failed:
            survived.append(name)
        print(f"## {name}: {'SURVIVED' if rc == 0 else f'caught by {len(failed)} tests'} ({tail})", flush=True)
        for test, count in by_function(failed).items():
            print(f"   {test}" + (f" ({count} cases)" if count > 1 else ""), flush=True)
    subprocess.run(["git", "checkout", "-q", "--", "."], cwd=clone, check=True)
    rc, failed, tail = run_tests(clone, args.toolchain, args.tests)
    print(f"## unmutated: {'passes' if rc == 0 else 'FAILS'} ({tail})", flush=True)
    if survived:
        print(f"SURVIVED (no test caught them): {', '.join(survived)}")
    return 1 if survived or rc != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
