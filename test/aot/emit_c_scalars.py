# The C launcher takes each scalar kind as its C type: i1 bool, integers their <stdint.h> types, fp16 and bf16
# as float (rounded when set), fp32 float, fp64 double.
# RUN: rm -rf %t && mkdir -p %t
# RUN: %triton-xpu compile %kernels --kernel scalars_kernel --out-name scalars --signature "*fp32,i1,i8,i16,u16,u32,i64,fp16,bf16,fp32,fp64,64" --target pvc --out-dir %t --emit-c -q
# RUN: FileCheck %s --input-file %t/scalars.h

# CHECK: ze_result_t scalars(ze_command_list_handle_t list, uint32_t gridX, uint32_t gridY, uint32_t gridZ, void *out_ptr, bool flag, int8_t i8, int16_t i16, uint16_t u16, uint32_t u32, int64_t i64, float h, float bf, float f, double d);
