"""Triton's Intel GPU backend: Triton kernels to native Intel GPU binaries (zebin).

Triton discovers this folder as ``triton/backends/intel`` and loads
``compiler.py`` and ``driver.py`` from it; everything else is a module per
concern, imported as ``triton.backends.intel.<module>``.
"""
