# A pointwise kernel becomes one SPIR-V kernel entry point with Triton's sub-group size (32) on every target.
# RUN: rm -rf %t && mkdir -p %t
# RUN: %triton-xpu compile %kernels --kernel add_kernel --signature "*fp32,*fp32,*fp32,i32,1024" --target pvc,acm-g10,tgllp --emit-spv --out-dir %t -q
# RUN: spirv-dis %t/add_kernel.pvc.spv | FileCheck %s
# RUN: spirv-dis %t/add_kernel.acm-g10.spv | FileCheck %s
# RUN: spirv-dis %t/add_kernel.tgllp.spv | FileCheck %s

# CHECK-DAG: OpCapability Addresses
# CHECK-DAG: OpCapability Kernel
# CHECK-DAG: OpCapability SubgroupDispatch
# CHECK: OpEntryPoint Kernel %[[KERNEL:[^ ]+]] "add_kernel"
# CHECK-NOT: OpEntryPoint
# CHECK: OpExecutionMode %[[KERNEL]] SubgroupSize 32
