"""The zebin stage and what it is made of: SPIR-V to the device's native binary, at compile time.

* ``stage``: ``make_zebin``, the stage Triton runs after ``pipelines.make_spv``.
* ``grf_policy``: which register file size to keep, from the attempts' spill counts.
* ``spill_forecast``: whether the larger register file's compile should start early.
* ``compilers``: the native compilers the policy talks to (ocloc, or the Level Zero driver's compiler).
* ``ocloc``, ``ocloc_runner``, ``ocloc_worker``, ``build_log``: running ocloc and reading what it says.
* ``capabilities``, ``compiler_identity``: what the installed IGC can do, asked once per installed compiler;
  ``known_compilers``: those answers for released compilers, known without asking.
"""

from triton.backends.intel.native.stage import make_zebin

__all__ = ["make_zebin"]
