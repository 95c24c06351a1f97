# `triton-xpu compile` writes NAME.json beside the binary: the kernel, its constexprs, the binary's format and,
# per target, its fat-binary member, the GRF mode chosen with every attempt, spills, IGC flags and launch shape.
# RUN: rm -rf %t && mkdir -p %t
# RUN: %triton-xpu compile %kernels --kernel add_kernel --signature "*fp32,*fp32,*fp32,i32,1024" --target pvc,acm-g10 --out-dir %t -q
# RUN: FileCheck %s --input-file %t/add_kernel.json

# CHECK: "kernel": "add_kernel",
# CHECK: "BLOCK": 1024
# CHECK: "format": "fat",
# CHECK: "target": "pvc",
# CHECK: "member": "64.12.60.7",
# CHECK: "grf_mode": "128",
# CHECK: "spill_bytes": 0,
# CHECK: "grf_attempts": [
# CHECK: "build_flags": "",
# CHECK: "num_warps": 4,
# CHECK: "threads_per_warp": 32,
# CHECK: "group_size": [
# CHECK-NEXT: 128,
# CHECK: "shared": 0,
# CHECK: "target": "acm-g10",
# CHECK: "member": "64.12.55.8",
