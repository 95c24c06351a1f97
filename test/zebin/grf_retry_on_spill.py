# The GRF policy on pvc: a layernorm row of 8192 floats over 8 sub-groups spills in the default 128 registers
# (IGC 1 and 2), so the zebin stage compiles it again with 256, which spills less, and keeps that binary.
# RUN: rm -rf %t && mkdir -p %t
# RUN: %triton-xpu compile %kernels --kernel layernorm_kernel --signature "*fp32,*fp32,*fp32,*fp32,i32,i32,fp32,8192" --num-warps 8 --target pvc --out-dir %t -q
# RUN: FileCheck %s --input-file %t/layernorm_kernel.json --check-prefix=JSON
# RUN: %triton-xpu info %t/layernorm_kernel.zebin | FileCheck %s --check-prefix=INFO

# JSON: "target": "pvc",
# JSON: "grf_mode": "256",
# JSON-NEXT: "grf_mode_requested": "default",
# JSON: "grf_attempts": [
# JSON-NEXT: {
# JSON-NEXT: "grf_mode": "128",
# JSON-NEXT: "flags": "",
# JSON-NEXT: "spill_bytes": {{[1-9][0-9]*}},
# JSON: "kept": false,
# JSON: {
# JSON-NEXT: "grf_mode": "256",
# JSON-NEXT: "flags": "-cl-intel-256-GRF-per-thread",
# JSON-NEXT: "spill_bytes": {{[0-9]+}},
# JSON: "kept": true,
# JSON-NEXT: "reason": "kept: spills {{[1-9][0-9]*}} -> {{[0-9]+}} B ({{.*}}) at 256 GRF, at least the {{[0-9]+}}% minimum gain",
# JSON: }
# JSON-NEXT: ],
# JSON-NEXT: "build_flags": "-cl-intel-256-GRF-per-thread",

# The binary kept is the 256-register one.
# INFO: kernel layernorm_kernel: SIMD 32, GRF 256, spill {{[0-9]+}} B
