# `triton-xpu info` shows what each kernel of a zebin or fat binary uses, per target, like
# `cuobjdump --dump-resource-usage`.  This file also holds the kernels the RUN lines compile.
# RUN: rm -rf %t && mkdir -p %t
# RUN: %triton-xpu compile %s --kernel add_kernel --signature "*fp32,*fp32,*fp32,i32,1024" --target pvc --out-dir %t/one -q
# RUN: %triton-xpu info %t/one/add_kernel.zebin | FileCheck %s --check-prefix=ONE
# RUN: %triton-xpu compile %s --kernel add_kernel --signature "*fp32,*fp32,*fp32,i32,1024" --target pvc,acm-g10 --out-dir %t/fat -q
# RUN: %triton-xpu info %t/fat/add_kernel.zebin | FileCheck %s --check-prefix=FAT
# RUN: %triton-xpu info %t/fat/add_kernel.zebin --json | FileCheck %s --check-prefix=JSON
# RUN: %triton-xpu compile %s --kernel row_sum_kernel --signature "*fp32,*fp32" --constexpr BLOCK=2048 --target pvc --out-dir %t/sum -q
# RUN: %triton-xpu info %t/sum/row_sum_kernel.zebin | FileCheck %s --check-prefix=SLM

# ONE: {{.*}}add_kernel.zebin: zebin, [[SIZE:[0-9]+]] bytes
# ONE-NEXT: target pvc: Xe-HPC (Data Center GPU Max, PVC), zebin [[SIZE]] bytes, zeinfo {{[0-9.]+}}
# ONE-NEXT: kernel add_kernel: SIMD 32, GRF 128, spill 0 B, scratch 0 B, SLM 0 B, barriers 0, DPAS no, code {{[0-9]+}} B
# ONE-NEXT: arguments: 4
# IGC 1 marks the inputs read-only and const; IGC 2 read-write.
# ONE-NEXT: 0: pointer global {{readonly|readwrite}} {{.*}}, 8 B ({{(const )?}}float*)
# ONE-NEXT: 1: pointer global {{readonly|readwrite}} {{.*}}, 8 B ({{(const )?}}float*)
# ONE-NEXT: 2: pointer global readwrite {{.*}}, 8 B (float*)
# ONE-NEXT: 3: value, 4 B (int)

# FAT: {{.*}}add_kernel.zebin: ocloc fat binary, {{[0-9]+}} bytes, 2 targets: pvc, acm-g10
# FAT-NEXT: target pvc: Xe-HPC (Data Center GPU Max, PVC), member 64.12.60.7, zebin {{[0-9]+}} bytes
# FAT-NEXT: kernel add_kernel: SIMD 32, GRF 128, spill 0 B
# FAT: target acm-g10: Xe-HPG (Arc A-series, DG2), member 64.12.55.8, zebin {{[0-9]+}} bytes
# FAT-NEXT: kernel add_kernel: SIMD 32, GRF {{128|256}}
# FAT: 3: value, 4 B (int)

# JSON: "format": "fat"
# JSON: "device": "pvc"
# JSON: "member": "64.12.60.7"
# JSON: "name": "add_kernel"
# JSON: "simd_width": 32
# JSON: "grf_count": 128
# JSON: "spill_bytes": 0
# JSON: "device": "acm-g10"

# A reduction across sub-groups: Triton's shared memory is one extra, last argument, with a barrier.
# SLM: kernel row_sum_kernel: SIMD 32, GRF 128, {{.*}}, barriers 1,
# SLM: arguments: 3
# SLM: 2: shared memory, sized at launch

import triton
import triton.language as tl


@triton.jit
def add_kernel(x_ptr, y_ptr, out_ptr, n_elements, BLOCK: tl.constexpr):
    offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < n_elements
    tl.store(out_ptr + offsets, tl.load(x_ptr + offsets, mask=mask) + tl.load(y_ptr + offsets, mask=mask), mask=mask)


@triton.jit
def row_sum_kernel(x_ptr, out_ptr, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    tl.store(out_ptr + row, tl.sum(tl.load(x_ptr + row * BLOCK + tl.arange(0, BLOCK)), axis=0))
