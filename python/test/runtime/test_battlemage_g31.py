"""Battlemage's two dies: G21 (``bmg``, IP 20.1.0) and G31 (``bmg-g31``, IP 20.2.0), one product family.

A real device is given its target by the IP version its driver reports; the loader checks a zebin's IP version
(its product-config note) against the device's as NEO does: NEO runs a G21 zebin natively on a G31 (its
compatibility mode), and recompiles a G31 zebin on a G21 from the embedded SPIR-V (refuses it without).  The
binaries are real ocloc output (ocloc 26.27; 22.43 does not know Battlemage), loaded on NEO's emulated G31 and
G21 where the driver emulates them.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from triton.backends.intel import targets
from triton.backends.intel.binary import fatbin, zebin
from triton.backends.intel.runtime import level_zero

G31_GMD = 0x05008000  # 20.2.0 as ze_device_ip_version_ext_t reports it (measured on NEO 26.27's emulated G31)
G21_GMD = 0x05004000  # 20.1.0


def fake_device_properties(**overrides):
    """Test double of the property dict the C++ runtime reads from a Level Zero device (device_properties)."""
    props = {"name": "Intel(R) Graphics [0xe220]", "device_id": 0xE220, "sub_group_sizes": [16, 32],
             "max_total_group_size": 1024, "ip_version": G31_GMD}
    props.update(overrides)
    return {k: v for k, v in props.items() if v is not None}


def test_a_device_reporting_ip_20_2_0_gets_target_bmg_g31():
    assert level_zero._target_for(fake_device_properties(), None).name == "bmg-g31"
    assert level_zero._target_for(fake_device_properties(ip_version=G21_GMD, device_id=0xE20B), None).name == "bmg"


def test_without_an_ip_version_the_device_id_names_the_die():
    assert level_zero._target_for(fake_device_properties(ip_version=None), None).name == "bmg-g31"
    assert level_zero._target_for(fake_device_properties(ip_version=None, device_id=0xE202), None).name == "bmg"


def test_the_ip_version_wins_over_the_device_id():
    # NEO's emulation may pair any device id with an IP version (ForceDeviceId); so may a future SKU.
    assert level_zero._target_for(fake_device_properties(device_id=0xE202), None).name == "bmg-g31"


def test_an_unknown_battlemage_ip_version_falls_back_to_the_device_id():
    # 20.1.4 (BMG_G21_B0, reserved in IGC's table) is not a device ocloc names; the table knows one device id per
    # die (G21 0xE202, G31 0xE220), not every SKU's.
    props = fake_device_properties(ip_version=0x05004004, device_id=0xE202)
    assert level_zero._target_for(props, None).name == "bmg"


# --- the loader on real ocloc output -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def bmg_zebins(run_ocloc, opencl):
    """{device: zebin} of one OpenCL kernel for G21 and G31, with and without its SPIR-V."""
    from triton.backends.intel.native import compilers
    if not compilers.ocloc_knows("bmg-g31"):
        pytest.skip("the installed ocloc does not know bmg-g31 (ocloc 22.43); `./run --toolchain current` has it")
    out = {}
    for device in ("bmg", "bmg-g31"):
        out[device] = run_ocloc("k.cl", opencl.ADD.encode(), ["-device", device])[0]
        out[device + "/no-ir"] = run_ocloc("k.cl", opencl.ADD.encode(), ["-device", device, "-exclude_ir"])[0]
    return out


def test_ocloc_writes_each_die_its_ip_version_in_one_product_family(bmg_zebins):
    g21, g31 = zebin.read(bmg_zebins["bmg"]), zebin.read(bmg_zebins["bmg-g31"])
    assert (g21.product_family, g21.gfx_core_name, g21.product_config_version) == (1274, "xe2", "20.1.0")
    assert (g31.product_family, g31.gfx_core_name, g31.product_config_version) == (1274, "xe2", "20.2.0")


def test_a_g31_zebin_on_a_g21_device_is_refused_naming_what_to_compile_for(bmg_zebins):
    with pytest.raises(level_zero.NativeBinaryError) as err:
        level_zero.native_binary_for(bmg_zebins["bmg-g31"], targets.lookup("bmg"))
    assert str(err.value) == ("zebin is for bmg-g31 (IP version 20.2.0), but the device is bmg (IP version 20.1.0), "
                              "on which the driver would not run it natively; compile for bmg")
    with pytest.raises(level_zero.NativeBinaryError, match="compile for bmg$"):
        level_zero.native_kernel(bmg_zebins["bmg-g31"], targets.lookup("bmg"), "add", driver_build=39122)


def test_a_g21_zebin_is_native_on_a_g31_as_neo_takes_it(bmg_zebins):
    g31 = targets.lookup("bmg-g31")
    assert level_zero.native_binary_for(bmg_zebins["bmg"], g31) == bmg_zebins["bmg"]
    # A driver older than NEO's compatibility mode would recompile it: then it is refused, naming bmg-g31.
    with pytest.raises(level_zero.NativeBinaryError) as err:
        level_zero.native_kernel(bmg_zebins["bmg"], g31, "add", driver_build=31000)
    assert str(err.value).endswith("but the device is bmg-g31 (IP version 20.2.0), on which the driver would not "
                                   "run it natively; compile for bmg-g31")


def test_a_fat_binary_gives_a_g31_its_own_member_first(bmg_zebins):
    both, _ = fatbin.write([("64.20.1.0", bmg_zebins["bmg"]), ("64.20.2.0", bmg_zebins["bmg-g31"])])
    assert fatbin.member_for(both, targets.lookup("bmg-g31"))[0] == bmg_zebins["bmg-g31"]
    assert fatbin.member_for(both, targets.lookup("bmg"))[0] == bmg_zebins["bmg"]
    only_g31, _ = fatbin.write([("64.20.2.0", bmg_zebins["bmg-g31"])])
    with pytest.raises(level_zero.NativeBinaryError, match="^zebin is for bmg-g31 .*; compile for bmg$"):
        level_zero.native_binary_for(only_g31, targets.lookup("bmg"))


# --- on NEO's emulated G31 ---------------------------------------------------------------------------------

EMULATED = textwrap.dedent("""
    import json, sys
    from triton.backends.intel.errors import IntelBackendError
    from triton.backends.intel.runtime import level_zero
    try:
        dev = level_zero.device(0)
    except IntelBackendError as e:
        print(json.dumps({"error": str(e)}))
        sys.exit(0)
    out = {"target": dev.target.name, "device_id": dev.properties["device_id"], "ip": dev.properties.get("ip_version")}
    for name in sys.argv[1:]:
        try:
            level_zero.load_kernel(dev, open(name, "rb").read(), "add")
            out[name] = "loaded"
        except level_zero.NativeBinaryError as e:
            out[name] = str(e)
    print(json.dumps(out))
""")


def run_emulated(emulate, tmp_path, binaries):
    paths = []
    for name, data in binaries.items():
        (tmp_path / name.replace("/", "_")).write_bytes(data)
        paths.append(name.replace("/", "_"))
    proc = subprocess.run([sys.executable, "-c", EMULATED, *paths], capture_output=True, text=True, cwd=tmp_path,
                          env=dict(os.environ, TRITON_XPU_EMULATE=emulate), timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_emulated_g31_loads_g21_and_g31_zebins_natively(bmg_zebins, tmp_path):
    out = run_emulated("bmg-g31", tmp_path, bmg_zebins)
    assert out == {"target": "bmg-g31", "device_id": 0xE220, "ip": G31_GMD, "bmg": "loaded", "bmg_no-ir": "loaded",
                   "bmg-g31": "loaded", "bmg-g31_no-ir": "loaded"}


def test_emulated_g21_refuses_a_g31_zebin_before_the_driver_sees_it(bmg_zebins, tmp_path):
    out = run_emulated("bmg", tmp_path, bmg_zebins)
    refusal = ("zebin is for bmg-g31 (IP version 20.2.0), but the device is bmg (IP version 20.1.0), on which the "
               "driver would not run it natively; compile for bmg")
    assert out == {"target": "bmg", "device_id": 0xE202, "ip": G21_GMD, "bmg": "loaded", "bmg_no-ir": "loaded",
                   "bmg-g31": refusal, "bmg-g31_no-ir": refusal}


def test_emulating_g31_on_a_driver_that_does_not_know_it_names_the_one_that_does(tmp_path):
    from triton.backends.intel.native import compilers
    if compilers.ocloc_knows("bmg-g31"):
        pytest.skip("this toolchain's driver emulates G31 (tested above)")
    out = run_emulated("bmg-g31", tmp_path, {})
    assert out["error"].startswith("TRITON_XPU_EMULATE=bmg-g31: the installed Level Zero driver (NEO) cannot "
                                   "emulate bmg-g31 (")
    assert "`./run --toolchain current`" in out["error"]


# --- ahead of time -----------------------------------------------------------------------------------------


def test_triton_xpu_compile_targets_bmg_g31_or_names_the_toolchain_that_can(tmp_path):
    from triton.backends.intel.native import compilers
    kernels = os.path.join(os.path.dirname(__file__), "..", "..", "..", "examples", "kernels.py")
    cli = [sys.executable, "-m", "triton.backends.intel.aot.cli"]
    proc = subprocess.run(cli + ["compile", kernels, "--kernel", "add_kernel", "--signature",
                                 "*fp32,*fp32,*fp32,i32,1024", "--target", "bmg,bmg-g31", "--out-dir", str(tmp_path),
                                 "-q"], capture_output=True, text=True, timeout=600)
    if not compilers.ocloc_knows("bmg-g31"):  # ocloc 22.43
        assert proc.returncode != 0 and "`./run --toolchain current` has it" in proc.stdout + proc.stderr
        return
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = (tmp_path / "add_kernel.zebin").read_bytes()
    members = fatbin.device_binaries(data)
    assert sorted(members) == ["bmg", "bmg-g31"]
    assert zebin.read(members["bmg-g31"]).product_config_version == "20.2.0"
    info = subprocess.run(cli + ["info", str(tmp_path / "add_kernel.zebin")], capture_output=True, text=True,
                          timeout=600).stdout
    assert "target bmg-g31: Xe2-HPG (Arc B-series, Battlemage G31), member 64.20.2.0" in info
