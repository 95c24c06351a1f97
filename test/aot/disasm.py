# `triton-xpu disasm` prints each kernel's ISA through iga64, with the IGA platform of the binary's target,
# without IGC's zero padding (which IGA would print as "illegal" instructions).
# RUN: rm -rf %t && mkdir -p %t
# RUN: %triton-xpu compile %S/../../examples/kernels.py --kernel add_kernel --signature "*fp32,*fp32,*fp32,i32,1024" --target pvc,acm-g10 --out-dir %t -q
# RUN: %triton-xpu disasm %t/add_kernel.zebin | FileCheck %s
# RUN: %triton-xpu disasm %t/add_kernel.zebin --target acm-g10 --kernel add_kernel | FileCheck %s --check-prefix=DG2
# RUN: not %triton-xpu disasm %t/add_kernel.zebin --kernel no_such_kernel 2>&1 | FileCheck %s --check-prefix=MISSING

# CHECK: // kernel add_kernel, target pvc, {{[0-9]+}} bytes of code (+{{[0-9]+}} bytes of zero padding), iga64 -p={{xehpc|12p72}}
# CHECK-NOT: illegal
# CHECK: send
# CHECK: {{EOT}}
# CHECK-NOT: illegal
# CHECK: // kernel add_kernel, target acm-g10, {{.*}} iga64 -p={{xehpg|12p71}}
# CHECK: {{EOT}}
# CHECK-NOT: illegal

# DG2-NOT: target pvc
# DG2: // kernel add_kernel, target acm-g10
# DG2: {{EOT}}

# MISSING: triton-xpu disasm: error: no kernel 'no_such_kernel' in {{.*}}add_kernel.zebin (it has: add_kernel@pvc, add_kernel@acm-g10)
