"""Every example kernel compiles to valid SPIR-V for pvc and acm-g10, with no device present."""

import pytest

import kernels
from triton.backends.intel import spirv

ARCHS = ["pvc", "acm-g10"]
# The foundation's kernel set (the larger matmul variant adds minutes of IGC time on acm-g10, nothing new).
KERNELS = ["add", "softmax", "layernorm", "matmul", "block_ptr_matmul_bf16", "sort", "attention", "atomics"]
DPAS_KERNELS = {"matmul", "block_ptr_matmul_bf16", "attention"}


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("name", KERNELS)
def test_kernel_compiles_to_valid_spirv(name, arch):
    compiled = kernels.SPECS[name].compile(arch)
    binary = compiled.asm["spv"]
    summary = spirv.summarize(binary)
    assert summary.entry_points == [compiled.metadata.name]
    assert compiled.metadata.name == kernels.SPECS[name].fn.__name__
    assert "Kernel" in summary.capability_names and "Addresses" in summary.capability_names
    text = spirv.disassemble(binary)  # spirv-dis must accept the whole module
    assert 'OpEntryPoint Kernel %' in text and f'"{compiled.metadata.name}"' in text
    assert summary.sub_group_size == compiled.metadata.threads_per_warp


@pytest.mark.parametrize("name", sorted(DPAS_KERNELS))
def test_dpas_kernels_use_sub_group_16_on_pvc(name):
    # PVC's DPAS executes 16 wide: the annotation pass picks sub-group size 16 for dot kernels.
    assert spirv.summarize(kernels.SPECS[name].compile("pvc").asm["spv"]).sub_group_size == 16


def test_bf16_kernel_declares_bf16_conversions_only_where_the_target_has_them():
    caps = spirv.summarize(kernels.SPECS["block_ptr_matmul_bf16"].compile("pvc").asm["spv"]).capability_names
    assert "BFloat16ConversionINTEL" in caps
    caps = spirv.summarize(kernels.SPECS["block_ptr_matmul_bf16"].compile("tgllp").asm["spv"]).capability_names
    assert "BFloat16ConversionINTEL" not in caps


@pytest.mark.parametrize("data, message", [
    (b"", "bad magic number"),
    (b"\x7fELF" + bytes(60), "bad magic number"),
    (bytes.fromhex("03022307") + bytes(6), "is not a whole header plus words"),
    (bytes.fromhex("03022307") + bytes(16) + (0x00FF0011).to_bytes(4, "little"), "claims 255 words"),
])
def test_malformed_spirv_is_a_clear_error(data, message):
    with pytest.raises(spirv.SpirvFormatError, match=message):
        spirv.summarize(data)
