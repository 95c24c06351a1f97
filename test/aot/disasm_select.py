# `triton-xpu disasm --target T --kernel NAME` shows that one target's kernel of a fat binary; a name the binary
# does not have is an error that lists what it has.
# RUN: rm -rf %t && mkdir -p %t
# RUN: %triton-xpu compile %kernels --kernel add_kernel --signature "*fp32,*fp32,*fp32,i32,1024" --target pvc,acm-g10 --out-dir %t -q
# RUN: %triton-xpu disasm %t/add_kernel.zebin --target acm-g10 --kernel add_kernel | FileCheck %s
# RUN: not %triton-xpu disasm %t/add_kernel.zebin --kernel no_such_kernel 2>&1 | FileCheck %s --check-prefix=MISSING

# CHECK-NOT: target pvc
# CHECK: // kernel add_kernel, target acm-g10
# CHECK: {{EOT}}
# CHECK-NOT: target pvc

# MISSING: triton-xpu disasm: error: no kernel 'no_such_kernel' in {{.*}}add_kernel.zebin (it has: add_kernel@pvc, add_kernel@acm-g10)
