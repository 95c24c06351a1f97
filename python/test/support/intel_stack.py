"""The Intel stack a result depends on, by its Debian packages and their exact versions: named in the header of
every pytest run and in the report of every failing test (python/test/conftest.py), and in
benchmarks/hardware_report.py's report, so that both read the same stack.
"""

import subprocess
from typing import Dict, Optional

PACKAGES = ("intel-opencl-icd", "libze-intel-gpu1", "intel-ocloc", "libigc2", "libigc1", "libigc2-tools",
            "libigc-tools", "libze1")


def versions() -> Optional[Dict[str, str]]:
    """{package: exact version} of the installed ones among :data:`PACKAGES`, by dpkg; None without dpkg."""
    found = {}
    for package in PACKAGES:
        try:
            version = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True,
                                     timeout=30).stdout.strip()
        except FileNotFoundError:
            return None
        except (OSError, subprocess.TimeoutExpired):
            version = ""
        if version:
            found[package] = version
    return found
