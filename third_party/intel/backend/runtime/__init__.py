"""The runtime: what loads and launches the native binaries the compiler produced.

* :mod:`.level_zero` -- devices, native-only module loading with its checks, memory; over the C++ runtime
  (``lib/level_zero_runtime.cpp``, the ``_level_zero`` extension).
* :mod:`.emulation` -- the emulated device: Intel's driver in AUB-capture mode, for machines without a GPU.
* :mod:`.sycl` -- launching on a caller's SYCL queue (PyTorch, dpctl); over the ``_sycl8``/``_sycl9`` extensions.

``driver.py``, where Triton expects it, is the front end's entry into this package.
"""
