# On pvc a tl.dot runs on DPAS, whose width sets the kernel's sub-group size to 16; acm-g10 keeps Triton's 32.
# The SPIR-V asks for the size and the binary IGC makes of it runs at that SIMD width and requires it
# (what a SYCL launcher multiplies num_warps by; the zebin carries no SPIR-V to ask).
# RUN: rm -rf %t && mkdir -p %t
# RUN: %triton-xpu compile %kernels --kernel dot_kernel --signature "*bf16,*bf16,*bf16,16" --target pvc,acm-g10 --emit-spv --out-dir %t -q
# RUN: spirv-dis %t/dot_kernel.pvc.spv | FileCheck %s --check-prefix=PVC
# RUN: spirv-dis %t/dot_kernel.acm-g10.spv | FileCheck %s --check-prefix=DG2
# RUN: %triton-xpu info %t/dot_kernel.zebin | FileCheck %s --check-prefix=INFO

# PVC: OpEntryPoint Kernel %[[K:[^ ]+]] "dot_kernel"
# PVC: OpExecutionMode %[[K]] SubgroupSize 16

# DG2: OpEntryPoint Kernel %[[K:[^ ]+]] "dot_kernel"
# DG2: OpExecutionMode %[[K]] SubgroupSize 32

# INFO: target pvc:
# INFO-NEXT: kernel dot_kernel: SIMD 16, {{.*}}, DPAS yes, {{.*}}, required sub-group size 16{{$}}
# INFO: target acm-g10:
# INFO-NEXT: kernel dot_kernel: SIMD 32, {{.*}}, required sub-group size 32{{$}}
