# `triton-xpu compile --emit-c` writes a C loader in Triton's AOT convention with Level Zero types: the
# native binary embedded, ZE_MODULE_FORMAT_NATIVE only, constexprs absent, one launch shape per target.
# RUN: rm -rf %t && mkdir -p %t
# RUN: %triton-xpu compile %s --kernel add_kernel --signature "*fp32:16,*fp32:16,*fp32:16,i32" --constexpr BLOCK=1024 --target pvc,acm-g10 --out-dir %t --emit-c -q
# RUN: cat %t/add_kernel.h | FileCheck %s --check-prefix=HEADER
# RUN: cat %t/add_kernel.c | FileCheck %s --check-prefix=SOURCE
# RUN: cat %t/add_kernel.json | FileCheck %s --check-prefix=JSON
# RUN: %triton-xpu compile %s --kernel scalars_kernel --out-name scalars --signature "*fp32,i1,i8,u16,i64,fp16,bf16,fp32,fp64,64" --target pvc --out-dir %t --emit-c -q
# RUN: cat %t/scalars.h | FileCheck %s --check-prefix=SCALARS

# HEADER: #include <level_zero/ze_api.h>
# HEADER: ze_result_t load_add_kernel(ze_context_handle_t ctx, ze_device_handle_t dev);
# HEADER: void unload_add_kernel(void);
# HEADER: ze_result_t add_kernel(ze_command_list_handle_t list, uint32_t gridX, uint32_t gridY, uint32_t gridZ, void *x_ptr, void *y_ptr, void *out_ptr, int32_t n_elements);
# HEADER: const char *add_kernel_target(void);
# HEADER: const char *add_kernel_build_log(void);

# SOURCE: static _Alignas(64) const unsigned char add_kernel_binary[{{[0-9]+}}] = {
# SOURCE-NEXT: 0x21, 0x3c, 0x61, 0x72, 0x63, 0x68, 0x3e, 0x0a,
# SOURCE: {"pvc", {{[0-9]+}}u, {{[0-9]+}}u, 128u, 32u, 0u, 4u},
# SOURCE-NEXT: {"acm-g10", {{[0-9]+}}u, {{[0-9]+}}u, 128u, 32u, 0u, 4u},
# SOURCE: static const char add_kernel_kernel_name[] = "add_kernel";
# SOURCE: "recompiled from ir", "recompiled-from-ir"
# SOURCE: zeModuleGetNativeBinary
# SOURCE: .format = ZE_MODULE_FORMAT_NATIVE,
# SOURCE-NOT: ZE_MODULE_FORMAT_IL_SPIRV
# SOURCE: return ZE_RESULT_ERROR_INVALID_NATIVE_BINARY;
# SOURCE: zeKernelSetGroupSize(kernel, target->group_size, 1u, 1u)
# SOURCE: if (gridX == 0u || gridY == 0u || gridZ == 0u) return ZE_RESULT_SUCCESS;
# SOURCE: zeKernelSetArgumentValue(add_kernel_kernel, 3u, sizeof n_elements, &n_elements);
# SOURCE: zeCommandListAppendLaunchKernel(list, add_kernel_kernel, &groups, NULL, 0u, NULL);

# JSON: "kernel": "add_kernel",
# JSON: "BLOCK": 1024
# JSON: "format": "fat",
# JSON: "target": "pvc",
# JSON: "member": "64.12.60.7",
# JSON: "grf_mode": "128",
# JSON: "spill_bytes": 0,
# JSON: "grf_attempts": [
# JSON: "build_flags": "",
# JSON: "num_warps": 4,
# JSON: "threads_per_warp": 32,
# JSON: "shared": 0,
# JSON: "target": "acm-g10",

# SCALARS: ze_result_t scalars(ze_command_list_handle_t list, uint32_t gridX, uint32_t gridY, uint32_t gridZ, void *out_ptr, bool flag, int8_t i8, uint16_t u16, int64_t i64, float h, float bf, float f, double d);

import triton
import triton.language as tl


@triton.jit
def add_kernel(x_ptr, y_ptr, out_ptr, n_elements, BLOCK: tl.constexpr):
    offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < n_elements
    tl.store(out_ptr + offsets, tl.load(x_ptr + offsets, mask=mask) + tl.load(y_ptr + offsets, mask=mask), mask=mask)


@triton.jit
def scalars_kernel(out_ptr, flag, i8, u16, i64, h, bf, f, d, BLOCK: tl.constexpr):
    total = (flag.to(tl.float32) + i8.to(tl.float32) + u16.to(tl.float32) + i64.to(tl.float32) + h.to(tl.float32) +
             bf.to(tl.float32) + f + d.to(tl.float32))
    tl.store(out_ptr + tl.arange(0, BLOCK), tl.zeros((BLOCK, ), tl.float32) + total)
