# `triton-xpu disasm` prints each kernel's ISA through iga64, with the IGA platform of each target of the binary,
# without IGC's zero padding (which IGA would print as "illegal" instructions).
# RUN: rm -rf %t && mkdir -p %t
# RUN: %triton-xpu compile %kernels --kernel add_kernel --signature "*fp32,*fp32,*fp32,i32,1024" --target pvc,acm-g10 --out-dir %t -q
# RUN: %triton-xpu disasm %t/add_kernel.zebin | FileCheck %s

# IGA 1.0 names the platforms by family (xehpc, xehpg), IGA 2 by IP version (12p72, 12p71).
# CHECK: // kernel add_kernel, target pvc, {{[0-9]+}} bytes of code (+{{[0-9]+}} bytes of zero padding), iga64 -p={{xehpc|12p72}}
# CHECK-NOT: illegal
# CHECK: send
# CHECK: {{EOT}}
# CHECK-NOT: illegal
# CHECK: // kernel add_kernel, target acm-g10, {{.*}} iga64 -p={{xehpg|12p71}}
# CHECK-NOT: illegal
# CHECK: send
# CHECK: {{EOT}}
# CHECK-NOT: illegal
