# The lit suite: one behaviour per file, RUN/CHECK lines that read as documentation.
# Run with `lit -sv test` from the repository root (PyPI's lit and filecheck).
import os
import sys
import tempfile

import lit.formats

config.name = "triton-xpu"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".py"]
config.excludes = ["lit.cfg.py", "Inputs"]
config.test_source_root = os.path.dirname(__file__)

config.substitutions.append(("%python", sys.executable))
# PyPI's filecheck provides the FileCheck command as `filecheck`.
config.substitutions.append(("FileCheck", "filecheck"))

config.environment["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
config.environment["TRITON_CACHE_DIR"] = tempfile.mkdtemp(prefix="triton-xpu-lit-cache-")
for var in ("HOME", "TMPDIR"):
    if var in os.environ:
        config.environment[var] = os.environ[var]
