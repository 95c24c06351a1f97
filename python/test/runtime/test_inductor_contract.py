"""What PyTorch's Inductor expects of Triton on Intel GPUs (torch 2.7 XPU pairs with this Triton 3.3 base):
the options it passes, the binary it saves for AOT, the metadata and handles it reads, and both forms of
``load_binary``.  torch itself cannot run here; these are the calls it makes, on the emulated pvc."""

from test_driver import run_json


def test_generate_native_code_is_accepted_and_recorded_and_the_binary_is_always_native():
    out = run_json("""
        import dataclasses
        result = {}
        for value in (True, False):
            spec = dataclasses.replace(kernels.SPECS["add"], options={"generate_native_code": value})
            k = spec.compile("pvc")
            result[str(value)] = [k.metadata.generate_native_code, k.asm["zebin"][:4].hex(), k.kernel is k.asm["zebin"]]
        print(json.dumps(result))
    """)
    assert out == {"True": [True, "7f454c46", True], "False": [False, "7f454c46", True]}


def test_metadata_and_handles_are_there_as_inductor_reads_them():
    out = run_json("""
        x = driver.active.alloc(4 * 4096, "device", "float32")
        k = kernels.softmax_kernel[(4, )](x, x, 1024, 1024, 1000, BLOCK=1024)
        driver.active.synchronize()
        md = k.metadata
        print(json.dumps({"threads_per_warp": md.threads_per_warp, "shared": md.shared, "n_regs": k.n_regs,
                          "n_spills": k.n_spills, "md_n_regs": md.n_regs, "zebin": k.asm["zebin"] == k.kernel}))
    """)
    assert out["threads_per_warp"] in (16, 32) and out["shared"] > 0
    assert out["n_regs"] == out["md_n_regs"] in (128, 256) and out["n_spills"] == 0 and out["zebin"]


def test_load_binary_takes_both_calls_and_refuses_spirv():
    out = run_json("""
        k = kernels.SPECS["add"].compile("pvc")
        utils = driver.active.utils
        five = utils.load_binary("add_kernel", k.kernel, 0, "", 0)  # triton-xpu 3.3's front end
        six = utils.load_binary("add_kernel", k.kernel, 0, "", False, 0)  # upstream's and PyTorch's, with is_spv
        try:
            utils.load_binary("add_kernel", k.asm["spv"], 0, "", True, 0)
            error = None
        except Exception as e:
            error = [type(e).__name__, str(e)]
        print(json.dumps({"five": len(five), "six": len(six), "handles": [five[0] != 0, six[1] != 0],
                          "error": error}))
    """)
    assert out["five"] == out["six"] == 4 and out["handles"] == [True, True]
    assert out["error"] == ["NativeBinaryError", "load_binary('add_kernel', ..., is_spv=True): this driver loads "
                            "native binaries only, never SPIR-V; pass the native binary the zebin stage made "
                            "(asm['zebin'], which is kernel.kernel; it is native whatever generate_native_code says)"]
