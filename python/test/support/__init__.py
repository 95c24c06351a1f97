"""The test suite's support code, in one place and out of the shipped package (the wheel test checks that it
never ships).

* :mod:`support.zebin_edit`: field-by-field copies of real zebins (corrupt ones, for the validator's tests and
  the fuzzer);
* :mod:`support.zebin_fuzz`: the loader fuzzer's reusable parts -- its mutants and the child process that
  loads and launches them -- under ``tools/fuzz_zebin.py`` (the command line) and the tests;
* :mod:`support.intel_stack`: the Intel stack a result depends on, by its Debian packages (the pytest header,
  benchmarks/hardware_report.py);
* :mod:`support.redis_server`: a real ``redis-server`` on a free loopback port and the environment that selects
  the fleet cache on it (the fleet cache's tests, benchmarks/fleet.py);
* ``standin_torch/``: a TEST DOUBLE of PyTorch (see its README.md), for the corpus's compile processes and
  upstream/pytest-upstream; ``standin_torch_xpu/`` the same with a ``torch.xpu`` device over dpctl, for running
  stock triton-xpu as a benchmark's baseline (benchmarks/stock_triton.py).

Importable as ``support`` from every test (pytest puts ``python/test``, the folder of the root conftest, on
``sys.path``); a tool puts ``python/test`` on its path once.  Helpers only one test folder uses stay in that
folder.  The kernels the tests compile are not here: they are the examples' (``examples/kernels.py``), shared
by the main job, the benchmarks, these tests and the lit suite.
"""
