# A tl.dot kernel runs on DPAS where the target has it: on pvc the sub-group size becomes 16 (DPAS width);
# acm-g10 keeps 32; storing the result as bf16 needs BFloat16ConversionINTEL only where the device converts bf16 natively.
# RUN: %python %s pvc | FileCheck %s --check-prefix=PVC
# RUN: %python %s acm-g10 | FileCheck %s --check-prefix=DG2
# RUN: %python %s tgllp | FileCheck %s --check-prefix=TGL

# PVC: OpCapability BFloat16ConversionINTEL
# PVC: OpEntryPoint Kernel %[[K:[0-9]+]] "dot_kernel"
# PVC: OpExecutionMode %[[K]] SubgroupSize 16
# DG2: OpEntryPoint Kernel %[[K:[0-9]+]] "dot_kernel"
# DG2: OpExecutionMode %[[K]] SubgroupSize 32
# TGL-NOT: BFloat16ConversionINTEL
# TGL: OpEntryPoint Kernel %{{[0-9]+}} "dot_kernel"

import sys

import triton
import triton.language as tl
from triton.backends.compiler import GPUTarget
from triton.backends.intel import spirv
from triton.compiler import ASTSource


@triton.jit
def dot_kernel(a_ptr, b_ptr, c_ptr, N: tl.constexpr):
    offs = tl.arange(0, N)
    a = tl.load(a_ptr + offs[:, None] * N + offs[None, :])
    b = tl.load(b_ptr + offs[:, None] * N + offs[None, :])
    tl.store(c_ptr + offs[:, None] * N + offs[None, :], tl.dot(a, b).to(tl.bfloat16))


src = ASTSource(dot_kernel, {"a_ptr": "*bf16", "b_ptr": "*bf16", "c_ptr": "*bf16", "N": "constexpr"}, {"N": 64})
print(spirv.disassemble(triton.compile(src, target=GPUTarget("xpu", sys.argv[1], 32)).asm["spv"]))
