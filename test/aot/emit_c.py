# `triton-xpu compile --emit-c` writes a C loader in Triton's AOT convention with Level Zero types: the native
# binary embedded, ZE_MODULE_FORMAT_NATIVE only, constexprs absent, one launch shape per target.
# RUN: rm -rf %t && mkdir -p %t
# RUN: %triton-xpu compile %kernels --kernel add_kernel --signature "*fp32,*fp32,*fp32,i32" --constexpr BLOCK=1024 --target pvc,acm-g10 --out-dir %t --emit-c -q
# RUN: FileCheck %s --input-file %t/add_kernel.h --check-prefix=HEADER
# RUN: FileCheck %s --input-file %t/add_kernel.c --check-prefix=SOURCE

# HEADER: #include <level_zero/ze_api.h>
# HEADER: ze_result_t load_add_kernel(ze_context_handle_t ctx, ze_device_handle_t dev);
# HEADER: void unload_add_kernel(void);
# HEADER: ze_result_t add_kernel(ze_command_list_handle_t list, uint32_t gridX, uint32_t gridY, uint32_t gridZ, void *x_ptr, void *y_ptr, void *out_ptr, int32_t n_elements);
# HEADER: const char *add_kernel_target(void);
# HEADER: const char *add_kernel_build_log(void);

# The binary starts with the ar magic "!<arch>\n" of a fat binary.
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
