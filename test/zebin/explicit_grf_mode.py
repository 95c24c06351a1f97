# An explicit GRF mode is obeyed as given and never retried, even where the kernel spills.
# RUN: rm -rf %t && mkdir -p %t
# RUN: %triton-xpu compile %kernels --kernel layernorm_kernel --signature "*fp32,*fp32,*fp32,*fp32,i32,i32,fp32,8192" --num-warps 8 --grf 128 --target pvc --out-dir %t/128 -q
# RUN: FileCheck %s --input-file %t/128/layernorm_kernel.json --check-prefix=SMALL
# RUN: %triton-xpu compile %kernels --kernel layernorm_kernel --signature "*fp32,*fp32,*fp32,*fp32,i32,i32,fp32,8192" --num-warps 8 --grf 256 --target pvc --out-dir %t/256 -q
# RUN: FileCheck %s --input-file %t/256/layernorm_kernel.json --check-prefix=LARGE

# SMALL: "grf_mode": "128",
# SMALL-NEXT: "grf_mode_requested": "128",
# SMALL: "spill_bytes": {{[1-9][0-9]*}},
# SMALL: "grf_attempts": [
# SMALL-NEXT: {
# SMALL-NEXT: "grf_mode": "128",
# SMALL-NEXT: "flags": "-cl-intel-128-GRF-per-thread",
# SMALL: }
# SMALL-NEXT: ],
# SMALL-NEXT: "build_flags": "-cl-intel-128-GRF-per-thread",

# LARGE: "grf_mode": "256",
# LARGE-NEXT: "grf_mode_requested": "256",
# LARGE: "grf_attempts": [
# LARGE-NEXT: {
# LARGE-NEXT: "grf_mode": "256",
# LARGE-NEXT: "flags": "-cl-intel-256-GRF-per-thread",
# LARGE: }
# LARGE-NEXT: ],
# LARGE-NEXT: "build_flags": "-cl-intel-256-GRF-per-thread",
