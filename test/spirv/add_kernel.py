# A pointwise kernel becomes one SPIR-V kernel entry point with Triton's sub-group size (32) on every target.
# RUN: %python %s pvc | FileCheck %s
# RUN: %python %s acm-g10 | FileCheck %s
# RUN: %python %s tgllp | FileCheck %s

# CHECK-DAG: OpCapability Addresses
# CHECK-DAG: OpCapability Kernel
# CHECK-DAG: OpCapability SubgroupDispatch
# CHECK: OpEntryPoint Kernel %[[KERNEL:[0-9]+]] "add_kernel"
# CHECK: OpExecutionMode %[[KERNEL]] SubgroupSize 32

import sys

import triton
import triton.language as tl
from triton.backends.compiler import GPUTarget
from triton.backends.intel import spirv
from triton.compiler import ASTSource


@triton.jit
def add_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=offs < n) + tl.load(y_ptr + offs, mask=offs < n),
             mask=offs < n)


src = ASTSource(add_kernel, {"x_ptr": "*fp32", "y_ptr": "*fp32", "out_ptr": "*fp32", "n": "i32",
                             "BLOCK": "constexpr"}, {"BLOCK": 1024})
print(spirv.disassemble(triton.compile(src, target=GPUTarget("xpu", sys.argv[1], 32)).asm["spv"]))
