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
    for name in ("pvc", "acm-g10", "acm-g11", "acm-g12", "tgllp", "dg2", "bmg", "lnl", "ptl", "mtl", "arl-h"):
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
