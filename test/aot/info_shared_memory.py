# A reduction across sub-groups uses a barrier, and Triton's shared memory is one extra, last argument of the
# kernel, its size given at launch.
# RUN: rm -rf %t && mkdir -p %t
# RUN: %triton-xpu compile %kernels --kernel row_sum_kernel --signature "*fp32,*fp32" --constexpr BLOCK=2048 --target pvc --out-dir %t -q
# RUN: %triton-xpu info %t/row_sum_kernel.zebin | FileCheck %s

# CHECK: kernel row_sum_kernel: SIMD 32, GRF 128, {{.*}}, barriers 1,
# CHECK-NEXT: arguments: 3
# CHECK: 2: shared memory, sized at launch
