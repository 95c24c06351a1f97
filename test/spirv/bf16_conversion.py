# Storing a tl.dot result as bf16 converts with SPV_INTEL_bfloat16_conversion where the device converts bf16
# natively (pvc, acm-g10); tgllp has no such instruction, and its module declares no such capability.
# RUN: rm -rf %t && mkdir -p %t
# RUN: %triton-xpu compile %kernels --kernel dot_kernel --signature "*bf16,*bf16,*bf16,16" --target pvc,acm-g10,tgllp --emit-spv --out-dir %t -q
# RUN: spirv-dis %t/dot_kernel.pvc.spv | FileCheck %s --check-prefix=BF16
# RUN: spirv-dis %t/dot_kernel.acm-g10.spv | FileCheck %s --check-prefix=BF16
# RUN: spirv-dis %t/dot_kernel.tgllp.spv | FileCheck %s --check-prefix=NOBF16

# BF16: OpCapability BFloat16ConversionINTEL
# BF16: OpExtension "SPV_INTEL_bfloat16_conversion"
# BF16: OpEntryPoint Kernel %{{[^ ]+}} "dot_kernel"
# BF16: OpConvertFToBF16INTEL

# NOBF16-NOT: BFloat16ConversionINTEL
# NOBF16-NOT: SPV_INTEL_bfloat16_conversion
# NOBF16: OpEntryPoint Kernel %{{[^ ]+}} "dot_kernel"
# NOBF16-NOT: OpConvertFToBF16INTEL
