import pytest

from triton.backends.intel import targets
from triton.backends.intel.errors import TargetError


@pytest.mark.parametrize("name", ["pvc", "acm-g10", "acm-g11", "acm-g12", "tgllp"])
def test_named_targets_resolve(name):
    info = targets.lookup(name)
    assert info.name == name
    assert info.sub_group_sizes and min(info.sub_group_sizes) in (8, 16)
    assert info.grf_modes[0] == 128


def test_dg2_is_an_alias_of_acm_g10():
    assert targets.lookup("dg2") is targets.lookup("acm-g10")
    assert targets.lookup(" PVC ") is targets.lookup("pvc")


def test_capabilities_differ_per_family():
    pvc, dg2, tgl = targets.lookup("pvc"), targets.lookup("acm-g10"), targets.lookup("tgllp")
    assert pvc.has_subgroup_2d_block_io and not dg2.has_subgroup_2d_block_io
    assert pvc.has_subgroup_matrix_multiply_accumulate and dg2.has_subgroup_matrix_multiply_accumulate
    assert not tgl.has_subgroup_matrix_multiply_accumulate
    assert pvc.sub_group_sizes == (16, 32) and 8 in dg2.sub_group_sizes
    assert 256 in pvc.grf_modes and tgl.grf_modes == (128, )


def test_unknown_target_lists_the_known_ones():
    with pytest.raises(TargetError) as err:
        targets.lookup("nosuchgpu")
    msg = str(err.value)
    assert msg.startswith("unknown Intel GPU target 'nosuchgpu'; known targets: ")
    for name in ("pvc", "acm-g10", "acm-g11", "acm-g12", "tgllp", "dg2", "bmg", "bmg-g31", "lnl", "ptl", "mtl", "arl-h"):
        assert name in msg


def test_large_grf_halves_launchable_warps():
    pvc = targets.lookup("pvc")
    # 8 EUs per Xe-core x 8 threads at 128 GRF; x 4 threads at 256 GRF.
    assert pvc.max_warps_at(128) == 64
    assert pvc.max_warps_at(256) == 32


def test_driver_dict_form_still_works():
    props = {"name": "Intel(R) Data Center GPU Max 1550", "sub_group_sizes": [16, 32],
             "has_subgroup_2d_block_io": True, "has_subgroup_matrix_multiply_accumulate": True,
             "max_work_group_size": 1024}
    info = targets.resolve(props)
    assert info.sub_group_sizes == (16, 32)
    assert info.has_subgroup_2d_block_io and info.has_subgroup_matrix_multiply_accumulate
    assert info.has_bfloat16_conversions  # triton-xpu's default when a driver does not say
    assert not info.has_fp64


def test_driver_dict_with_arch_fills_in_from_the_table():
    info = targets.resolve({"arch": "pvc", "sub_group_sizes": [16, 32]})
    assert info.name == "pvc" and info.grf_modes == (128, 256) and info.has_fp64


@pytest.mark.parametrize("arch, message", [
    ({}, "malformed Intel target dict: missing sub_group_sizes"),
    ({"sub_group_sizes": []}, "malformed Intel target dict: sub_group_sizes must be a non-empty list"),
    ({"sub_group_sizes": ["16"]}, "malformed Intel target dict: sub_group_sizes must be a non-empty list"),
    ({"sub_group_sizes": [16], "max_work_group_size": -1},
     "malformed Intel target dict: max_work_group_size must be a positive integer"),
    ({"sub_group_sizes": [16], "arch": "nope"}, "unknown Intel GPU target 'nope'"),
    (90, "Intel target arch must be a device name"),
])
def test_malformed_arch_is_a_clear_error(arch, message):
    with pytest.raises(TargetError) as err:
        targets.resolve(arch)
    assert message in str(err.value)


# --- the other facts about targets, in the same table ------------------------------------------------------


def test_every_compile_target_has_its_ids_and_limits():
    for target in targets.TARGETS.values():
        family = target.family_info
        assert family is not None and family.name == target.product_family, target.name
        assert target.ip_version and target.fat_binary_member == f"64.{target.ip_version}", target.name
        assert targets.DEVICES[target.name].family == family.id, target.name
        assert target.max_scratch_per_thread in (256 * 1024, 2048 * 1024), target.name
        assert target.iga_platforms, target.name


def test_lookups_by_ip_version_and_product_family():
    pvc = targets.lookup("pvc")
    assert (pvc.ip_version, pvc.fat_binary_member) == ("12.60.7", "64.12.60.7")
    assert targets.device_of_ip("12.55.8") == "acm-g10" and targets.device_of_ip("99.0.0") is None
    assert targets.gmd_version(0x030DC007) == "12.55.7"
    assert targets.family(1271).name == "pvc" and targets.family_named("dg2").id == 1270
    assert targets.family_name(1270) == "dg2" and targets.family_name(4242) is None
    assert targets.ip_versions_of_family(1270) == {"12.55.8", "12.56.5", "12.57.0"}
    assert targets.revisions_of_family(1271) == {1, 7} and targets.revisions_of_family(18) is None
    assert targets.gfx_core_name(0x0C08) == "xe-hpc" and targets.family(1271).gfx_cores == (0x0C08, )
    # Gen12LP and earlier may use 2 MiB of scratch per thread, Xe-HP and later 256 KiB (NEO).
    assert targets.lookup("tgllp").max_scratch_per_thread == 2 * 1024 * 1024
    assert targets.family(18).max_scratch_per_thread is None  # not checked


def test_emulation_settings_are_target_facts():
    assert targets.emulated() == ("pvc", "acm-g10", "tgllp", "bmg", "bmg-g31")
    dg2 = targets.lookup("dg2").emulation
    assert (dg2.product_family, dg2.hardware_info, dg2.device_id, dg2.revision) == ("dg2", "1x4x16", "56A0", "8")
    assert targets.lookup("bmg").emulation.toolchain == "current"
    assert targets.lookup("mtl").emulation is None
    assert "emulation" not in targets.lookup("pvc").properties()  # the driver-shaped dict stays as it was


# --- Battlemage's two dies ----------------------------------------------------------------------------------


def test_battlemage_g21_and_g31_are_one_family_with_two_ip_versions():
    g21, g31 = targets.lookup("bmg"), targets.lookup("bmg-g31")
    assert targets.lookup("bmg-g21") is g21  # ocloc's other name for G21
    assert (g21.ip_version, g31.ip_version) == ("20.1.0", "20.2.0")  # `ocloc ids bmg`, `ocloc ids bmg-g31` (26.27)
    assert (g31.fat_binary_member, g31.device_id, g31.toolchain) == ("64.20.2.0", 0xE220, "current")
    assert g31.product_family == g21.product_family == "bmg" and targets.DEVICES["bmg-g31"].family == 1274
    # Same die family: every compile fact but the IP version and the device id is G21's (NEO's hardware config,
    # release helper and GFX core helper are shared).
    differ = {k for k, v in g31.properties().items() if g21.properties()[k] != v}
    assert differ == {"name", "arch", "family", "device_id", "aliases"}
    assert g31.max_scratch_per_thread == g21.max_scratch_per_thread == 256 * 1024
    assert targets.device_of_ip("20.2.0") == "bmg-g31" and targets.device_of_ip("20.1.0") == "bmg"
    assert targets.ip_versions_of_family(1274) == {"20.1.0", "20.2.0"} and targets.revisions_of_family(1274) == {0}
    assert g31.emulation.product_family == "bmg-g31" and g31.emulation.toolchain == "current"


def test_which_binaries_neo_runs_natively_on_a_device_of_another_ip_version():
    # NEO's compatibility mode (IGC's platforms.h compatibilityMapping, NEO 24.45 and later): G21 binaries run on
    # G31, never the other way round; older drivers take only their own IP version.
    assert targets.loads_natively("20.1.0", "20.2.0") and targets.loads_natively("20.1.0", "20.2.0", 39122)
    assert not targets.loads_natively("20.2.0", "20.1.0")
    assert not targets.loads_natively("20.1.0", "20.2.0", driver_build=24595)
    assert targets.loads_natively("12.60.7", "12.60.7", driver_build=24595)
    assert not targets.loads_natively("12.55.8", "12.60.7")


@pytest.mark.parametrize("name", sorted(targets.TARGETS))
def test_a_named_target_hashes_as_a_device_of_it(name):
    # The driver describes a device's target without the table's aliases and emulation settings; a compile for the
    # named target must have the same key (triton-xpu compile and fill warm a JIT's cache).
    from dataclasses import replace
    from triton.backends.compiler import GPUTarget
    from triton.backends.intel.compiler import XPUBackend
    info = targets.TARGETS[name]
    assert repr(replace(info, aliases=(), emulation=None)) == repr(info)
    # The arch dict XPUDriver.get_current_target reports for a device of the target (a device name of its own).
    arch = dict(info.properties(), name="Intel(R) Graphics [0x0000]", sub_group_sizes=list(info.sub_group_sizes),
                max_work_group_size=info.max_work_group_size, arch=info.name)
    assert XPUBackend(GPUTarget("xpu", name, 32)).hash() == XPUBackend(GPUTarget("xpu", arch, 32)).hash()
