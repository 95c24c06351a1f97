"""Which ocloc and IGC a compile would use, told from file metadata alone, and answers about them kept on disk.

A process that only loads cached kernels must not pay for the compiler: the version query, ``ocloc ids`` and
the capability probes each start ocloc (libocloc's worker process or the executable), ~50 ms together.  Their
answers depend only on the installed ocloc and IGC files, so they are kept in Triton's cache under the files'
*identity* -- each candidate file's path, size and modification time (no inode: a container made from the
same image has the same files on other inodes), plus the knobs that choose between them -- which costs a few
``stat`` calls and starts nothing.  A package upgrade changes the files, hence the identity, and everything is
asked again.  A damaged entry is asked again, with a warning.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sysconfig
import warnings
from typing import Callable, Dict, List, Optional, TypeVar

from triton.backends.intel import knobs
from triton.backends.intel.tools import env_var

T = TypeVar("T")

# Where the dynamic loader finds libocloc and libigc on the distributions Intel packages for.
SYSTEM_LIB_DIRS = ("/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib", "/opt/intel/lib")
IGC_LIBRARIES = ("libigc.so.2", "libigc.so.1")
_LIBRARIES = ("libocloc.so", "libocloc.so.1") + IGC_LIBRARIES
_KNOBS = (knobs.OCLOC_MODE, knobs.LIBOCLOC_PATH, env_var("ocloc"))


def _library_dirs() -> List[str]:
    dirs = [d for d in os.environ.get("LD_LIBRARY_PATH", "").split(":") if d]
    multiarch = sysconfig.get_config_var("MULTIARCH")
    if multiarch:
        dirs.append(f"/usr/lib/{multiarch}")
    return dirs + list(SYSTEM_LIB_DIRS)


def compiler_files() -> List[str]:
    """The files that decide what ocloc does here: the libraries the loader would find, the executable on PATH
    (or the ones the knobs name)."""
    found: List[str] = []
    for path in [knobs.raw(knobs.LIBOCLOC_PATH), knobs.raw(env_var("ocloc")), shutil.which("ocloc") or ""]:
        if path:
            found.append(path)
    for directory in _library_dirs():
        found.extend(os.path.join(directory, name) for name in _LIBRARIES)
    return found


def _describe(path: str) -> Optional[str]:
    try:
        real = os.path.realpath(path)
        st = os.stat(real)
    except OSError:
        return None
    return f"{path}->{real}:{st.st_size}:{st.st_mtime_ns}"


def identity() -> str:
    """A digest of the installed ocloc/IGC files and the knobs choosing between them; starts no process.
    Computed once per process and environment (~100 ``stat`` calls); :func:`forget` computes it anew."""
    where = tuple(os.environ.get(k, "") for k in _KNOBS + ("PATH", "LD_LIBRARY_PATH"))
    if where not in _identities:
        parts = [f"{k}={os.environ.get(k, '')}" for k in _KNOBS]
        parts += [d for d in map(_describe, compiler_files()) if d]
        _identities[where] = hashlib.sha256("\n".join(parts).encode()).hexdigest()
    return _identities[where]


_identities: Dict[tuple, str] = {}


# In-process answers: {(identity, question): answer}.
_answers: Dict[tuple, object] = {}


def remembered(question: str, ask: Callable[[], T], keep: Callable[[T], bool] = lambda _: True) -> T:
    """The answer to ``question`` about the installed compiler: from this process, else from Triton's cache
    under the compiler's identity, else ``ask()`` -- stored on disk when ``keep(answer)`` (answers that can
    change without the files changing, such as a timeout, are not)."""
    key = (identity(), question)
    if key in _answers:
        return _answers[key]  # type: ignore[return-value]
    from triton.runtime.cache import get_cache_manager
    cache = get_cache_manager(hashlib.sha256("|".join(key).encode()).hexdigest())
    stored = cache.get_file("answer.json")
    if stored:
        try:
            with open(stored) as f:
                entry = json.load(f)
            if entry["question"] != question:
                raise ValueError(f"it answers {entry['question']!r}")
            _answers[key] = entry["answer"]
            return entry["answer"]
        except (OSError, ValueError, KeyError, TypeError) as e:
            warnings.warn(f"damaged cache entry in {os.path.dirname(stored)}: answer.json cannot be read "
                          f"({type(e).__name__}: {e}); asking ocloc again", stacklevel=2)
    answer = ask()
    _answers[key] = answer
    if keep(answer):
        cache.put(json.dumps({"question": question, "answer": answer}), "answer.json", binary=False)
    return answer


def forget() -> None:
    """Drop the in-process identity and answers, as in a new process (the installed compiler changed)."""
    _answers.clear()
    _identities.clear()
