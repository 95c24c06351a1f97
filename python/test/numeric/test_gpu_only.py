"""What only a GPU can check, measured on the CPU executor: the code a DPAS / 2D-block-IO target's dots and block
pointers become calls builtins Intel's CPU runtime does not have, so its SPIR-V does not build there (the numeric
tests run those kernels on an emulated tgllp on the CPU, and on the device's own target on a GPU).  These tests
need the CPU runtime, not a GPU; they check that the list in docs/numeric.md stays true."""

import numpy as np
import pytest

import kernels as examples
import numeric_executors as ne
import test_numeric as numeric

MM = {"BLOCK_M": 32, "BLOCK_N": 32, "BLOCK_K": 32}


def _matmul(fn, a_type, c_type, dtype):
    def launch(cpu):
        a = ne.Typed(np.zeros((64, 64), dtype), a_type)
        c = ne.Typed(np.zeros((64, 64), dtype if c_type == a_type else np.float32), c_type)
        return cpu.run(fn, (2, 2), [a, a, c, 64, 64, 64, 64, 1, 64, 1, 64, 1], num_warps=4, **MM)
    return launch


def _dot(a_type, dtype, precision="ieee", block_k=32):
    def launch(cpu):
        a = ne.Typed(np.zeros((64, 64), dtype), a_type)
        c = np.zeros((64, 64), np.float32)
        return cpu.run(numeric.dot_kernel, (2, 2), [a, a, c, 64, 64, 64], BLOCK_M=32, BLOCK_N=32, BLOCK_K=block_k,
                       PRECISION=precision)
    return launch


def _block_io():
    # The backend uses 2D block writes only where the installed IGC has them (capabilities.py: IGC 1.0.12504 does
    # not, so on `legacy` a block-pointer store is an ordinary store even for pvc).
    from triton.backends.intel.native import capabilities
    return ["intel_sub_group_2d_block_write_16b"] if capabilities.has_2d_block_write("pvc") else []


def _tf32():
    # Without the tf32 DPAS builtin in the installed IGC (1.0.12504, `legacy`) the backend refuses tf32 for pvc too.
    from triton.backends.intel.native import capabilities
    return ["intel_sub_group_tf32_tf32_matrix_mad_k8"] if capabilities.has_tf32_dpas("pvc") else None


# (launch on pvc, the builtins its SPIR-V calls that the CPU runtime lacks -- None: the backend refuses to compile
# it for pvc with this toolchain's IGC), as measured with intel-opencl-rt 2026.2.
CASES = {
    "matmul fp16 (DPAS)": (_matmul(examples.matmul_kernel, "float16", "float16", np.float16),
                           lambda: ["intel_sub_group_f16_f16_matrix_mad_k16"]),
    "block-ptr matmul bf16 (DPAS, 2D block IO)":
    (_matmul(examples.block_ptr_matmul_kernel, "bfloat16", "bfloat16", np.uint16),
     lambda: ["intel_sub_group_bf16_bf16_matrix_mad_k16"] + _block_io()),
    "matmul tf32 (DPAS)": (_dot("float32", np.float32, "tf32", 16), _tf32),
    # fp8 operands are converted to fp16 and multiplied by the fp16 DPAS instruction.
    "matmul fp8e5 (DPAS)": (_dot("fp8e5", np.uint8), lambda: ["intel_sub_group_f16_f16_matrix_mad_k16"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_dpas_and_block_io_do_not_build_on_the_cpu(cpu, case):
    launch, expected = CASES[case]
    builtins = expected()
    with pytest.raises(RuntimeError) as e:
        launch(cpu)  # compiled for the emulated pvc (uses_dot=False): DPAS and block IO where pvc has them
    if builtins is None:
        assert "input_precision must be one of ('ieee',)" in str(e.value)
        return
    assert "from SPIR-V for" in str(e.value) and "PROGRAM_BUILD_FAILURE" in str(e.value), str(e.value)[-3000:]
    imports = str(e.value).split("the module imports: ")[-1]
    for builtin in builtins:
        assert builtin in imports, str(e.value)[-3000:]
