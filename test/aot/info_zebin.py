# `triton-xpu info` on a single zebin shows what its kernel uses on its target, like
# `cuobjdump --dump-resource-usage`: SIMD width, registers, spills, memory, barriers, DPAS, code, each argument.
# RUN: rm -rf %t && mkdir -p %t
# RUN: %triton-xpu compile %kernels --kernel add_kernel --signature "*fp32,*fp32,*fp32,i32,1024" --target pvc --out-dir %t -q
# RUN: %triton-xpu info %t/add_kernel.zebin | FileCheck %s

# CHECK: {{.*}}add_kernel.zebin: zebin, [[SIZE:[0-9]+]] bytes
# CHECK-NEXT: target pvc: Xe-HPC (Data Center GPU Max, PVC), zebin [[SIZE]] bytes, zeinfo {{[0-9.]+}}
# CHECK-NEXT: kernel add_kernel: SIMD 32, GRF 128, spill 0 B, scratch 0 B, SLM 0 B, barriers 0, DPAS no, code {{[0-9]+}} B
# CHECK-NEXT: arguments: 4
# IGC 1 marks the inputs read-only and const; IGC 2 read-write.
# CHECK-NEXT: 0: pointer global {{readonly|readwrite}} {{.*}}, 8 B ({{(const )?}}float*)
# CHECK-NEXT: 1: pointer global {{readonly|readwrite}} {{.*}}, 8 B ({{(const )?}}float*)
# CHECK-NEXT: 2: pointer global readwrite {{.*}}, 8 B (float*)
# CHECK-NEXT: 3: value, 4 B (int)
