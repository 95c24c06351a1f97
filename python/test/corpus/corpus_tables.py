"""The corpus: every entry of the per-package tables, plus this project's own example kernels, by name."""

import os
import sys
from typing import Dict, List

from harness import REPO, Entry
import table_fla
import table_flag_gems
import table_liger


# The examples' large tiles take many seconds per target; the rest of the suite compiles them already.
_HEAVY_EXAMPLES = {"matmul", "matmul_128", "block_ptr_matmul_bf16", "attention"}


def _examples() -> List[Entry]:
    """examples/kernels.py's SPECS (imported by their module name, as the compile process imports them)."""
    folder = os.path.join(REPO, "examples")
    if folder not in sys.path:
        sys.path.append(folder)
    import kernels
    return [Entry(f"examples/{s.name}", "triton-xpu (examples/kernels.py)", "kernels", s.fn.__name__,
                  "project example", types=dict(s.signature), constexprs=dict(s.constexprs),
                  num_warps=s.options.get("num_warps", 4), full_only=s.name in _HEAVY_EXAMPLES)
            for s in kernels.SPECS.values()]


def _index(entries: List[Entry]) -> Dict[str, Entry]:
    out: Dict[str, Entry] = {}
    for e in entries:
        if e.name in out:
            raise ValueError(f"corpus entry {e.name} is listed twice")
        out[e.name] = e
    return out


ENTRIES: Dict[str, Entry] = _index(table_liger.ENTRIES + table_flag_gems.ENTRIES + table_fla.ENTRIES + _examples())
