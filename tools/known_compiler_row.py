#!/usr/bin/env python3
"""Print the row of third_party/intel/backend/native/known_compilers.py for the installed ocloc and IGC: the
build id of every compiler file found and every capability probe's answer, each asked of ocloc itself (a
minute or so).  Run it in the toolchain whose compiler the row is for, and paste the row into ``KNOWN``:

    ./run --toolchain current python tools/known_compiler_row.py
    ./run --toolchain legacy python tools/known_compiler_row.py
"""

from __future__ import annotations

import os
import pprint
import sys


def main() -> int:
    from triton.backends.intel.native import capabilities, known_compilers, ocloc
    files = known_compilers.installed_files()
    if files is None:
        print("an ocloc or IGC file found here has no GNU build id: no row can name "
              "this compiler; its probes run once per installed compiler and are kept in Triton's cache",
              file=sys.stderr)
        return 1
    toolchain = os.environ.get("TRITON_XPU_TOOLCHAIN", "host")
    row = known_compilers.KnownCompiler(description=ocloc.ocloc_version(), toolchain=toolchain, files=files,
                                        answers=capabilities.measured_answers())
    print(pprint.pformat(row, width=116, sort_dicts=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
