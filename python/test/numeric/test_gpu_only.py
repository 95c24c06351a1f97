"""What only a GPU can check, measured on the CPU executor: the code a DPAS / 2D-block-IO target's dots and block
pointers become calls builtins Intel's CPU OpenCL runtime does not have, so its SPIR-V does not build there (the
numeric tests compile those kernels for tgllp on the CPU, and for the device's own target on a GPU).  These tests
need the CPU runtime, not a GPU; they check that the list in docs/numeric.md stays true."""

import re
import warnings

import pytest

from triton.backends.compiler import GPUTarget

import kernels as examples
import numeric_executors as ne
import test_numeric as numeric

MM = {"BLOCK_M": 32, "BLOCK_N": 32, "BLOCK_K": 32}


def _dot(a, c, precision="ieee", block_k=32):
    return ne.Kernel(numeric.dot_kernel, {"a_ptr": f"*{a}", "b_ptr": f"*{a}", "c_ptr": f"*{c}", "M": "i32", "N": "i32",
                                          "K": "i32"}, {"BLOCK_M": 32, "BLOCK_N": 32, "BLOCK_K": block_k,
                                                        "PRECISION": precision}, uses_dot=True)


def _block_io():
    # The backend uses 2D block writes only where the installed IGC has them (capabilities.py: IGC 1.0.12504 does
    # not, so on `legacy` a block-pointer store is an ordinary store even for pvc).
    from triton.backends.intel import capabilities
    return ["intel_sub_group_2d_block_write_16b"] if capabilities.has_2d_block_write("pvc") else []


def _tf32():
    # Without the tf32 DPAS builtin in the installed IGC (1.0.12504, `legacy`) the backend refuses tf32 for pvc too.
    from triton.backends.intel import capabilities
    return ["intel_sub_group_tf32_tf32_matrix_mad_k8"] if capabilities.has_tf32_dpas("pvc") else None


# (kernel, the builtins its pvc SPIR-V calls that the CPU runtime lacks -- None: the backend refuses to compile it
# for pvc with this toolchain's IGC), as measured with intel-opencl-rt 2026.2.
CASES = {
    "matmul fp16 (DPAS)": (lambda: ne.Kernel(examples.matmul_kernel, numeric._mm_sig("fp16", "fp16", "fp16"), MM),
                           lambda: ["intel_sub_group_f16_f16_matrix_mad_k16"]),
    "block-ptr matmul bf16 (DPAS, 2D block IO)":
    (lambda: ne.Kernel(examples.block_ptr_matmul_kernel, numeric._mm_sig("bf16", "bf16", "bf16"), MM),
     lambda: ["intel_sub_group_bf16_bf16_matrix_mad_k16"] + _block_io()),
    "matmul tf32 (DPAS)": (lambda: _dot("fp32", "fp32", "tf32", 16), _tf32),
    # fp8 operands are converted to fp16 and multiplied by the fp16 DPAS instruction.
    "matmul fp8e5 (DPAS)": (lambda: _dot("fp8e5", "fp32"), lambda: ["intel_sub_group_f16_f16_matrix_mad_k16"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_dpas_and_block_io_do_not_build_on_the_cpu(cpu, case):
    make_kernel, expected = CASES[case]
    kernel, builtins = make_kernel(), expected()
    if builtins is None:
        from triton.compiler.errors import CompilationError
        with pytest.raises(CompilationError) as e:
            kernel.compile(GPUTarget("xpu", "pvc", 32))
        assert "input_precision must be one of ('ieee',)" in str(e.value.__cause__ or e.value)
        return
    compiled = kernel.compile(GPUTarget("xpu", "pvc", 32))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(cpu.cl.RuntimeError, match="BUILD_PROGRAM_FAILURE") as e:
            cpu.program(compiled)
    missing = " ".join(re.findall(r"Symbols not found: \[([^\]]*)\]", str(e.value)))
    for builtin in builtins:
        assert builtin in missing, str(e.value)[-2000:]
