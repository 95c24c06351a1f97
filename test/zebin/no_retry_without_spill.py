# A kernel that does not spill in pvc's default 128 registers is compiled once, without a GRF flag.
# RUN: rm -rf %t && mkdir -p %t
# RUN: %triton-xpu compile %kernels --kernel add_kernel --signature "*fp32,*fp32,*fp32,i32,1024" --target pvc --out-dir %t -q
# RUN: FileCheck %s --input-file %t/add_kernel.json --check-prefix=JSON
# RUN: %triton-xpu info %t/add_kernel.zebin | FileCheck %s --check-prefix=INFO

# JSON: "target": "pvc",
# JSON: "grf_mode": "128",
# JSON-NEXT: "grf_mode_requested": "default",
# JSON: "grf_attempts": [
# JSON-NEXT: {
# JSON-NEXT: "grf_mode": "128",
# JSON-NEXT: "flags": "",
# JSON-NEXT: "spill_bytes": 0,
# JSON: }
# JSON-NEXT: ],
# JSON-NEXT: "build_flags": "",

# INFO: kernel add_kernel: SIMD 32, GRF 128, spill 0 B
