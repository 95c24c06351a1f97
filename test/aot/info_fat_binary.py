# `triton-xpu info` on a fat binary shows each target's member (ocloc's name, 64.<IP version>) and its kernel;
# `--json` gives the same facts as data.
# RUN: rm -rf %t && mkdir -p %t
# RUN: %triton-xpu compile %kernels --kernel add_kernel --signature "*fp32,*fp32,*fp32,i32,1024" --target pvc,acm-g10 --out-dir %t -q
# RUN: %triton-xpu info %t/add_kernel.zebin | FileCheck %s
# RUN: %triton-xpu info %t/add_kernel.zebin --json | FileCheck %s --check-prefix=JSON

# CHECK: {{.*}}add_kernel.zebin: ocloc fat binary, {{[0-9]+}} bytes, 2 targets: pvc, acm-g10
# CHECK-NEXT: target pvc: Xe-HPC (Data Center GPU Max, PVC), member 64.12.60.7, zebin {{[0-9]+}} bytes
# CHECK-NEXT: kernel add_kernel: SIMD 32, GRF 128, spill 0 B
# CHECK: target acm-g10: Xe-HPG (Arc A-series, DG2), member 64.12.55.8, zebin {{[0-9]+}} bytes
# CHECK-NEXT: kernel add_kernel: SIMD 32, GRF {{128|256}}
# CHECK: 3: value, 4 B (int)

# JSON: "format": "fat"
# JSON: "device": "pvc"
# JSON: "member": "64.12.60.7"
# JSON: "name": "add_kernel"
# JSON: "simd_width": 32
# JSON: "grf_count": 128
# JSON: "spill_bytes": 0
# JSON: "device": "acm-g10"
# JSON: "member": "64.12.55.8"
# JSON: "name": "add_kernel"
