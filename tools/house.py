#!/usr/bin/env python3
"""Draws the backend package as a house: rooms, floors and the imports between them (arrows).

A room is a module at the package root or a whole subpackage.  A room's floor is the length of the longest
chain of imports below it (floor 0 imports no other room).  Each room belongs to one of the LAYERS the
design names; an arrow is upward when it goes from a lower layer to a higher one (a shared module reaching
into the zebin stage, say), and a room no layer names is reported, so a new module gets placed on purpose.

    tools/house.py [PACKAGE_DIR]      # default third_party/intel/backend

Prints the counts, the floors, every upward arrow and cycle, and the largest files.  Reads source only.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

PACKAGE = "triton.backends.intel"
# The design, bottom up: what every layer shares; binary formats; the work (compile stages, the runtime);
# the entry points Triton loads (compiler, driver, the fleet cache's remote cache backend) and the AOT tools.
# Imports go down or sideways.
LAYERS = [
    {"errors", "knobs", "options", "targets", "tools"},
    {"binary", "cache_entry", "spirv"},
    {"native", "pipelines", "runtime"},
    {"aot", "compiler", "driver", "fleet"},
]


def room_of(module: str) -> str | None:
    """``triton.backends.intel.native.ocloc`` -> ``native``; a module outside the package -> None."""
    if module == PACKAGE or not module.startswith(PACKAGE + "."):
        return None
    return module[len(PACKAGE) + 1:].split(".")[0]


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([PACKAGE] + parts)


def imports_of(root: Path, path: Path) -> set[str]:
    """Absolute names of the package modules ``path`` imports (relative imports resolved)."""
    here = module_name(root, path)
    package = here if path.name == "__init__.py" else here.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def arrows(root: Path) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for path in sorted(root.rglob("*.py")):
        source = room_of(module_name(root, path))
        if source is None:
            continue
        edges.setdefault(source, set())
        for target in filter(None, map(room_of, imports_of(root, path))):
            if target != source and ((root / target).is_dir() or (root / f"{target}.py").is_file()):
                edges[source].add(target)
    return edges


def floors(edges: dict[str, set[str]]) -> tuple[dict[str, int], list[list[str]]]:
    """Longest import chain below each room; rooms on a cycle are reported and counted once."""
    floor: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(room: str, stack: list[str]) -> int:
        if room in floor:
            return floor[room]
        if room in stack:
            cycles.append(stack[stack.index(room):] + [room])
            return 0
        below = [visit(r, stack + [room]) for r in edges.get(room, ())]
        floor[room] = 1 + max(below) if below else 0
        return floor[room]

    for room in sorted(edges):
        visit(room, [])
    return floor, cycles


def main(argv: list[str]) -> int:
    root = Path(argv[1] if len(argv) > 1 else "third_party/intel/backend")
    edges = arrows(root)
    floor, cycles = floors(edges)
    subpackages = sorted(r for r in edges if (root / r).is_dir())
    at_root = sorted(r for r in edges if r not in subpackages)
    layer = {room: i for i, rooms in enumerate(LAYERS) for room in rooms}
    unplaced = sorted(r for r in edges if r not in layer)
    upward = sorted((a, b) for a in edges for b in edges[a] if layer.get(a, 0) < layer.get(b, 0))
    print(f"{len(edges)} rooms on {max(floor.values()) + 1} floors, {sum(map(len, edges.values()))} arrows, "
          f"{len(upward)} upward, {len(cycles)} circles; {len(at_root)} modules at the root, "
          f"{len(subpackages)} subpackages ({', '.join(subpackages)})")
    for level in sorted(set(floor.values()), reverse=True):
        print(f"  floor {level}: {' '.join(sorted(r for r in floor if floor[r] == level))}")
    for a, b in upward:
        print(f"  upward: {a} -> {b}")
    if unplaced:
        print(f"  in no layer (name them in tools/house.py's LAYERS): {' '.join(unplaced)}")
    for cycle in cycles:
        print(f"  circle: {' -> '.join(cycle)}")
    sizes = sorted(((len(p.read_text().splitlines()), p.relative_to(root)) for p in root.rglob("*.py")),
                   reverse=True)
    print("  largest files: " + ", ".join(f"{p} ({n})" for n, p in sizes[:5]))
    return 1 if upward or cycles or unplaced else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
