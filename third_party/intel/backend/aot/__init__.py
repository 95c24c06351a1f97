"""Ahead of time: Triton kernels to native binaries that deploy without Triton or Python, and tools to inspect them.

The ``triton-xpu`` command (:mod:`.cli`, which only parses arguments and prints) drives:

* :mod:`.signature` -- Triton AOT signatures (``"*fp32:16,*fp32,i32,1024"``) and ``--constexpr`` values;
* :mod:`.kernels` -- the user's Python file loaded, each kernel bound to its signature (``KernelSpec``);
* :mod:`.jobs` -- every (kernel, target) compiled by ``triton.compile`` in worker processes;
* :mod:`.artifacts` -- a kernel's per-target zebins combined (one zebin or an ocloc fat binary) and written
  with ``NAME.json`` and, on request, the C loader (:mod:`.c_loader`);
* :mod:`.binary_info` -- what a zebin or fat binary holds, per target and kernel (``triton-xpu info``);
* :mod:`.disasm` -- the kernels' ISA through iga64 (``triton-xpu disasm``);
* :mod:`.progress` -- the progress line of a compile;
* :mod:`.record` -- a line per kernel the JIT compiled (``TRITON_XPU_RECORD_KERNELS``), and reading them back;
* :mod:`.fill` -- recorded kernels compiled for named targets into Triton's cache (``triton-xpu fill``).
"""
