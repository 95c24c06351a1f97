# Zebins leave out the SPIR-V they were compiled from unless --keep-ir: `triton-xpu info` says which.
# RUN: rm -rf %t && mkdir -p %t/default %t/kept
# RUN: %triton-xpu compile %kernels --kernel add_kernel --signature "*fp32,*fp32,*fp32,i32,1024" --target pvc --out-dir %t/default -q
# RUN: %triton-xpu compile %kernels --kernel add_kernel --signature "*fp32,*fp32,*fp32,i32,1024" --target pvc --out-dir %t/kept --keep-ir -q
# RUN: %triton-xpu info %t/default/add_kernel.zebin | FileCheck %s --check-prefix=DEFAULT
# RUN: %triton-xpu info %t/kept/add_kernel.zebin | FileCheck %s --check-prefix=KEPT

# DEFAULT: target pvc: {{.*}}, zeinfo {{[0-9.]+}}, no IR{{$}}
# KEPT: target pvc: {{.*}}, zeinfo {{[0-9.]+}}, IR kept (SPIR-V {{[0-9]+}} bytes){{$}}
