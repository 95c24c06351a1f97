"""The table of Intel GPU targets the backend compiles for by name.

A target is named the way ocloc names devices (``pvc``, ``acm-g10``, ...), so
``GPUTarget("xpu", "pvc", 32)`` compiles for Ponte Vecchio with no device
present.  A real device's driver reports a dict of properties instead; both
forms end up as one :class:`TargetInfo`.

Sources of the facts below:
  [ocloc]  ``ocloc ids <name>`` / ``ocloc compile -device <name>`` of intel-opencl-icd 22.43 (Debian 12) and
           26.27 (Debian testing); ``ocloc query CL_DEVICE_EXTENSIONS -device <name>`` (26.27).
  [neo-src] NEO's source (intel/compute-runtime): ``hw_info_<product>.cpp`` (threads per EU, fp64),
           ``release_helper*`` (GRF sizes), ``compiler_product_helper*`` and ``caps_*.h`` (DPAS, tf32,
           2D block IO), ``gfx_core_helper*`` (sub-group sizes; threads per EU by GRF count: half at 256),
           ``device_ids_configs_<product>.h`` (device ids); gmmlib's igfxfmid.h (product families).
  [neo]    Intel compute-runtime (NEO) hardware tables: ``hw_cmds_<product>.h`` (threadsPerEu,
           maxEuPerSubslice) and ``calculateAvailableThreadCount`` (threads per EU by GRF count:
           <=128 GRF -> 8, <=256 GRF -> 4 on Xe-HPG/Xe-HPC).
  [ext]    OpenCL extensions the NEO driver reports for the device: cl_intel_required_subgroup_size
           (sub-group sizes), cl_intel_subgroup_matrix_multiply_accumulate (DPAS),
           cl_intel_subgroup_2d_block_io, cl_intel_bfloat16_conversions.
  [emu]    Measured on the NEO driver in AUB-capture mode (see shared notes): pvc is device 0x0bd5 with
           maxTotalGroupSize 1024 and sub-group sizes 16/32.
  [igc]    IGC's GRF-mode options: -cl-intel-256-GRF-per-thread is accepted for Xe-HPG (DG2) and
           Xe-HPC (PVC); Xe-LP (TGL) has a fixed 128-entry register file.
  [gmm]    gmmlib's igfxfmid.h: PRODUCT_FAMILY and GFXCORE_FAMILY, the numbers a zebin's IntelGT notes carry.
  [iga]    iga64's platform names (``iga64 -p``); old and new iga64 spell them differently.

Besides the compile targets, this module holds every other fact about Intel GPUs the backend uses, so that no
other module keeps a table: product families (:data:`FAMILIES`: name, GFX cores, IGA platforms, scratch
limit), the devices ``ocloc`` knows with their IP versions (:data:`DEVICES`; fat-binary members are named by
IP version), and how NEO's AUB mode emulates a target (``TargetInfo.emulation``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, asdict
from typing import Any, Dict, FrozenSet, Mapping, Optional, Tuple

from triton.backends.intel.errors import TargetError


@dataclass(frozen=True)
class ProductFamily:
    """A PRODUCT_FAMILY of igfxfmid.h [gmm], as a zebin's IntelGT note names it, and what follows from it."""

    id: int
    name: str  # as ocloc and the zebin reader spell it
    gfx_cores: Tuple[int, ...]  # its GFXCORE_FAMILY values [gmm][neo]
    iga_platforms: Tuple[str, ...] = ()  # iga64 -p names, preferred first [iga]
    # Largest per-thread scratch space (NEO GfxCoreHelper::getMaxScratchSize); None: not checked.
    max_scratch_per_thread: Optional[int] = None


_GEN9, _GEN11, _GEN12LP, _XE_HPG, _XE2 = (12, ), (15, 16), (18, ), (0x0C07, ), (0x0C09, )
_XE_LP_IGA = ("xelp", "12p1", "xe")
_KIB = 1024
# Product families 29..33, 1210, 1270 and 1271 measured with ocloc 22.43 (the notes of tgllp, rkl, adl-s,
# adl-p, adl-n, dg1, acm-g1x and pvc binaries); the others from igfxfmid.h.  Scratch: Xe-HP and later 256 KiB,
# Gen12LP and earlier 2 MiB.
FAMILIES: Dict[int, ProductFamily] = {
    f.id: f
    for f in (
        ProductFamily(16, "bdw", (11, ), ("8", "gen8")),
        ProductFamily(18, "skl", _GEN9, ("9", "gen9")),
        ProductFamily(19, "kbl", _GEN9, ("9", "gen9")),
        ProductFamily(20, "cfl", _GEN9, ("9", "gen9")),
        ProductFamily(22, "bxt", _GEN9, ("9", "gen9")),
        ProductFamily(23, "glk", _GEN9, ("9", "gen9")),
        ProductFamily(26, "icllp", _GEN11, ("11", "gen11"), 2048 * _KIB),
        ProductFamily(27, "lkf", _GEN11, ("11", "gen11"), 2048 * _KIB),
        ProductFamily(28, "jsl", _GEN11, ("11", "gen11"), 2048 * _KIB),
        ProductFamily(29, "tgllp", _GEN12LP, _XE_LP_IGA, 2048 * _KIB),
        ProductFamily(30, "rkl", _GEN12LP, _XE_LP_IGA, 2048 * _KIB),
        ProductFamily(31, "adl-s", _GEN12LP, _XE_LP_IGA, 2048 * _KIB),
        ProductFamily(32, "adl-p", _GEN12LP, _XE_LP_IGA, 2048 * _KIB),
        ProductFamily(33, "adl-n", _GEN12LP, _XE_LP_IGA, 2048 * _KIB),
        ProductFamily(1210, "dg1", _GEN12LP, _XE_LP_IGA, 2048 * _KIB),
        ProductFamily(1250, "xe-hp-sdv", (0x0C05, ), ("xehp", "12p5"), 256 * _KIB),
        ProductFamily(1270, "dg2", _XE_HPG, ("xehpg", "12p71"), 256 * _KIB),
        ProductFamily(1271, "pvc", (0x0C08, ), ("xehpc", "12p72"), 256 * _KIB),
        ProductFamily(1272, "mtl", _XE_HPG, ("xelpg", "12p74", "xehpg", "12p71"), 256 * _KIB),
        ProductFamily(1273, "arl", _XE_HPG, ("xelpg", "12p74", "xehpg", "12p71"), 256 * _KIB),
        ProductFamily(1274, "bmg", _XE2, ("xe2", "20"), 256 * _KIB),
        ProductFamily(1275, "lnl", _XE2, ("xe2", "20"), 256 * _KIB),
        ProductFamily(1300, "ptl", (0x1E00, ), ("xe3", "30"), 256 * _KIB),
    )
}

# GFXCORE_FAMILY names [gmm].  IGC 1.0.12504 writes 0 (unset) in the note.
GFX_CORES: Dict[int, str] = {
    11: "gen8", 12: "gen9", 15: "gen11", 16: "gen11lp", 17: "gen12", 18: "gen12lp",
    0x0C05: "xe-hp", 0x0C07: "xe-hpg", 0x0C08: "xe-hpc", 0x0C09: "xe2", 0x1E00: "xe3",
}


@dataclass(frozen=True)
class Device:
    """A device ``ocloc`` knows by name [ocloc]."""

    name: str
    ip_version: str  # ``ocloc ids NAME``; fat-binary members are named ``64.<ip_version>``
    family: Optional[int] = None  # its product family, where measured (the note ocloc writes for it)


# Measured with ocloc 22.43 and 26.27 (mtl and newer: 26.27 only).  Where devices share an IP version, the first
# one listed is the canonical name.  Battlemage is two dies of one product family (1274, GFX core xe2): G21
# (``bmg``, ``bmg-g21``: 20.1.0) and G31 (``bmg-g31``: 20.2.0; ocloc 26.27, not 22.43).
DEVICES: Dict[str, Device] = {
    d.name: d
    for d in (
        Device("bdw", "8.0.0"), Device("skl", "9.0.9"), Device("kbl", "9.1.9"), Device("cfl", "9.2.9"),
        Device("apl", "9.3.0"), Device("glk", "9.4.0"), Device("whl", "9.5.0"), Device("aml", "9.6.0"),
        Device("cml", "9.7.0"), Device("icllp", "11.0.0"), Device("lkf", "11.1.0"), Device("ehl", "11.2.0"),
        Device("tgllp", "12.0.0", 29), Device("rkl", "12.1.0", 30), Device("adl-s", "12.2.0", 31),
        Device("adl-p", "12.3.0", 32), Device("adl-n", "12.4.0", 33), Device("dg1", "12.10.0", 1210),
        Device("acm-g10", "12.55.8", 1270), Device("acm-g11", "12.56.5", 1270), Device("acm-g12", "12.57.0", 1270),
        Device("pvc-sdv", "12.60.1", 1271), Device("pvc", "12.60.7", 1271),
        Device("mtl", "12.70.4", 1272), Device("arl-h", "12.74.4", 1273), Device("bmg", "20.1.0", 1274),
        Device("bmg-g31", "20.2.0", 1274), Device("lnl", "20.4.4", 1275), Device("ptl", "30.0.4", 1300),
    )
}


@dataclass(frozen=True)
class Emulation:
    """How NEO's AUB-capture mode presents a device of the target (its debug keys; emulation.py) [emu].

    Measured with NEO 22.43 and 26.27: pvc, dg2 and bmg report 0 threads per EU (every kernel creation fails)
    unless the hardware layout is given; dg2 also needs a device id (else 0) and revision 8, whose binaries are
    the ones ocloc builds for acm-g10 (another revision makes NEO recompile them from IR); tgllp needs its id,
    and on NEO 26.27 a layout too.  bmg exists only in newer drivers: NEO 22.43 presents a device without
    compute engines."""

    product_family: str  # ProductFamilyOverride
    hardware_info: Optional[str] = None  # HardwareInfoOverride: slices x subslices x EUs per subslice
    device_id: Optional[str] = None  # ForceDeviceId (hex, no 0x)
    revision: Optional[str] = None  # OverrideRevision
    toolchain: str = "legacy"  # the oldest of this project's toolchains whose NEO emulates it


@dataclass(frozen=True)
class TargetInfo:
    """What the compiler needs to know about one Intel GPU."""

    name: str  # ocloc device name, e.g. "pvc"
    family: str  # marketing / architecture family, for messages
    product_family: str  # the zebin's product-family name (FAMILIES): all acm-g1x are "dg2"
    sub_group_sizes: Tuple[int, ...]
    has_subgroup_2d_block_io: bool
    has_subgroup_matrix_multiply_accumulate: bool  # DPAS
    has_subgroup_matrix_multiply_accumulate_tensor_float32: bool
    has_bfloat16_conversions: bool
    has_fp64: bool
    threads_per_eu: int  # hardware threads per EU at the default (128) GRF size
    eus_per_subslice: int  # EUs per Xe-core; a work-group runs on one Xe-core
    grf_modes: Tuple[int, ...]  # register-file sizes the compiler can select, smallest first
    max_work_group_size: int
    grf_bytes: int = 32  # bytes per register: 32 up to Xe-HPG, 64 from Xe-HPC on [igc]
    device_id: Optional[int] = None  # PCI device id of a representative SKU
    # The oldest of this project's toolchains whose ocloc knows the target (scripts/toolchains/*.conf):
    # "legacy" (Debian 12, ocloc 22.43) or "current" (Debian testing, ocloc 26.x) [ocloc].
    toolchain: str = "legacy"
    # Other names of the target, and how TRITON_XPU_EMULATE presents it (None: not emulated).  Neither is what the
    # compiler targets, so neither is in the repr the backend's hash() is made of: a compile for the named target and
    # a JIT on a device of it (whose target the driver describes without them) share cache entries.
    aliases: Tuple[str, ...] = field(default=(), repr=False, compare=False)
    emulation: Optional[Emulation] = field(default=None, repr=False, compare=False)

    @property
    def default_grf(self) -> int:
        return self.grf_modes[0]

    @property
    def ip_version(self) -> Optional[str]:
        device = DEVICES.get(self.name)
        return device.ip_version if device else None

    @property
    def fat_binary_member(self) -> Optional[str]:
        """The name of its member in an ocloc fat binary."""
        return f"64.{self.ip_version}" if self.ip_version else None

    @property
    def family_info(self) -> Optional[ProductFamily]:
        return family_named(self.product_family)

    @property
    def max_scratch_per_thread(self) -> Optional[int]:
        return self.family_info.max_scratch_per_thread if self.family_info else None

    @property
    def iga_platforms(self) -> Tuple[str, ...]:
        return self.family_info.iga_platforms if self.family_info else ()

    def threads_per_eu_at(self, grf: int) -> int:
        """Hardware threads per EU when every thread uses ``grf`` registers [neo]."""
        if grf <= 128:
            return self.threads_per_eu
        # Doubling the register file halves the threads an EU can hold.
        return max(1, self.threads_per_eu * 128 // grf)

    def max_warps_at(self, grf: int) -> int:
        """Largest num_warps launchable with ``grf`` registers per thread.

        All sub-groups of a work-group must be resident on one Xe-core at
        once (barriers and SLM are per Xe-core), so num_warps may not exceed
        EUs per Xe-core x hardware threads per EU at that GRF size.
        """
        return self.eus_per_subslice * self.threads_per_eu_at(grf)

    def properties(self) -> Dict[str, Any]:
        """The property dict in the shape a device driver reports it."""
        props = asdict(self)
        props["sub_group_sizes"] = list(self.sub_group_sizes)
        props["grf_modes"] = list(self.grf_modes)
        props["aliases"] = list(self.aliases)
        props["arch"] = self.name
        del props["emulation"]
        return props


def _xe_hpg(name: str, device_id: int, emulation: Optional[Emulation] = None) -> TargetInfo:
    # DG2 / Arc A-series (Xe-HPG): XMX (DPAS) with 8-wide execution, no 2D block IO extension,
    # no native fp64 [ext]; 16 EUs per Xe-core x 8 threads [neo]; 256-GRF mode accepted [igc].
    return TargetInfo(
        name=name,
        family="Xe-HPG (Arc A-series, DG2)",
        product_family="dg2",
        sub_group_sizes=(8, 16, 32),
        has_subgroup_2d_block_io=False,
        has_subgroup_matrix_multiply_accumulate=True,
        has_subgroup_matrix_multiply_accumulate_tensor_float32=False,
        has_bfloat16_conversions=True,
        has_fp64=False,
        threads_per_eu=8,
        eus_per_subslice=16,
        grf_modes=(128, 256),
        max_work_group_size=1024,
        device_id=device_id,
        aliases=("dg2", ) if name == "acm-g10" else (),
        emulation=emulation,
    )


def _integrated(name: str, family: str, dpas: bool, device_id: Optional[int] = None,
                aliases: Tuple[str, ...] = ()) -> TargetInfo:
    return TargetInfo(
        name=name,
        family=family,
        product_family=name.split("-")[0],
        sub_group_sizes=(8, 16, 32),
        has_subgroup_2d_block_io=False,
        has_subgroup_matrix_multiply_accumulate=dpas,
        has_subgroup_matrix_multiply_accumulate_tensor_float32=False,
        has_bfloat16_conversions=True,
        has_fp64=True,
        threads_per_eu=8,
        eus_per_subslice=16,
        grf_modes=(128, 256),
        max_work_group_size=1024,
        device_id=device_id,
        toolchain="current",
        aliases=aliases,
    )


def _xe2_or_later(name: str, family: str, product_family: str, device_id: Optional[int],
                  emulation: Optional[Emulation] = None, aliases: Tuple[str, ...] = ()) -> TargetInfo:
    return TargetInfo(
        name=name,
        family=family,
        product_family=product_family,
        sub_group_sizes=(16, 32),
        has_subgroup_2d_block_io=True,
        has_subgroup_matrix_multiply_accumulate=True,
        has_subgroup_matrix_multiply_accumulate_tensor_float32=True,
        has_bfloat16_conversions=True,
        has_fp64=True,
        threads_per_eu=8,
        eus_per_subslice=8,
        grf_modes=(128, 256),
        max_work_group_size=1024,
        grf_bytes=64,
        device_id=device_id,
        toolchain="current",
        aliases=aliases,
        emulation=emulation,
    )


TARGETS: Dict[str, TargetInfo] = {
    t.name: t
    for t in (
        # Ponte Vecchio / Data Center GPU Max (Xe-HPC): sub-groups 16 and 32 [emu], DPAS with 16-wide
        # execution incl. tf32, 2D block IO, bf16 conversions [ext]; 8 EUs per Xe-core x 8 threads
        # [neo]; 128 and 256 GRF [igc]; device 0x0bd5 [emu].
        TargetInfo(
            name="pvc",
            family="Xe-HPC (Data Center GPU Max, PVC)",
            product_family="pvc",
            sub_group_sizes=(16, 32),
            has_subgroup_2d_block_io=True,
            has_subgroup_matrix_multiply_accumulate=True,
            has_subgroup_matrix_multiply_accumulate_tensor_float32=True,
            has_bfloat16_conversions=True,
            has_fp64=True,
            threads_per_eu=8,
            eus_per_subslice=8,
            grf_modes=(128, 256),
            max_work_group_size=1024,
            grf_bytes=64,
            device_id=0x0BD5,
            emulation=Emulation("pvc", hardware_info="1x4x8"),
        ),
        _xe_hpg("acm-g10", 0x56A0, Emulation("dg2", hardware_info="1x4x16", device_id="56A0", revision="8")),
        _xe_hpg("acm-g11", 0x56A5),
        _xe_hpg("acm-g12", 0x56B0),
        # Tiger Lake integrated graphics (Xe-LP): no DPAS, no 2D block IO, no bf16 conversions, no
        # fp64 [ext]; 16 EUs per subslice x 7 threads, fixed 128 GRF [neo][igc]; work-groups up to 512
        # [neo].
        TargetInfo(
            name="tgllp",
            family="Xe-LP (Tiger Lake integrated)",
            product_family="tgllp",
            sub_group_sizes=(8, 16, 32),
            has_subgroup_2d_block_io=False,
            has_subgroup_matrix_multiply_accumulate=False,
            has_subgroup_matrix_multiply_accumulate_tensor_float32=False,
            has_bfloat16_conversions=False,
            has_fp64=False,
            threads_per_eu=7,
            eus_per_subslice=16,
            grf_modes=(128, ),
            max_work_group_size=512,
            device_id=0x9A49,
            emulation=Emulation("tgllp", hardware_info="1x6x16", device_id="9A49"),
        ),
        # Xe-LPG (Meteor Lake integrated): no DPAS, no 2D block IO, bf16 conversions, fp64; 8 threads per EU,
        # 128/256 GRF [neo-src]; 16 EUs per Xe-core (not stated in NEO's source: the Xe-LPG core).
        _integrated("mtl", "Xe-LPG (Meteor Lake integrated)", dpas=False),
        # Xe-LPG+ (Arrow Lake-H integrated): as mtl, with DPAS (no tf32) [neo-src].
        _integrated("arl-h", "Xe-LPG+ (Arrow Lake-H integrated)", dpas=True, aliases=("arl", )),
        # Xe2 (Battlemage discrete, Lunar Lake integrated) and Xe3 (Panther Lake integrated): sub-groups 16
        # and 32, DPAS incl. tf32, 2D block IO, bf16 conversions, fp64, 64-byte GRFs, 8 threads per EU at 128
        # GRF and half at 256 [neo-src]; 8 EUs per Xe-core (the Xe2/Xe3 core; NEO reads it from the kernel
        # driver).  Xe3 also has smaller register files (32-96 GRF, 10 threads per EU); the GRF policy only
        # moves up from the default 128.
        # Battlemage's two dies (one product family, two IP versions): NEO gives G31 the same hardware
        # config, release helper (release_helper_common_xe2.inl, 160 KiB SLM) and GFX core helper as G21
        # [neo-src]; device ids G21 0xE202..0xE216, G31 0xE220..0xE223 (device_ids_configs_bmg.h).  NEO 26.27
        # emulates G31 as ProductFamilyOverride=bmg-g31 (device 0xE220, IP 20.2.0) [emu].
        _xe2_or_later("bmg", "Xe2-HPG (Arc B-series, Battlemage G21)", "bmg", 0xE202,
                      Emulation("bmg", hardware_info="1x4x8", toolchain="current"), aliases=("bmg-g21", )),
        _xe2_or_later("bmg-g31", "Xe2-HPG (Arc B-series, Battlemage G31)", "bmg", 0xE220,
                      Emulation("bmg-g31", hardware_info="1x4x8", toolchain="current")),
        _xe2_or_later("lnl", "Xe2-LPG (Lunar Lake integrated)", "lnl", None),
        _xe2_or_later("ptl", "Xe3-LPG (Panther Lake integrated)", "ptl", 0xB080),
    )
}

_ALIASES: Dict[str, str] = {alias: t.name for t in TARGETS.values() for alias in t.aliases}

# Keys a real device's driver reports (triton-xpu's dict form) that the compiler reads.
_REQUIRED_DICT_KEYS = ("sub_group_sizes", )


# --- lookups by product family, IP version and GFX core ----------------------------------------------------


def family(family_id: Optional[int]) -> Optional[ProductFamily]:
    """The product family with this igfxfmid.h number, None if unknown."""
    return FAMILIES.get(family_id) if family_id is not None else None


def family_named(name: Optional[str]) -> Optional[ProductFamily]:
    """The product family called ``name`` (``pvc``, ``dg2``), None if unknown."""
    return next((f for f in FAMILIES.values() if f.name == name), None)


def family_name(family_id: Optional[int]) -> Optional[str]:
    row = family(family_id)
    return row.name if row else None


def gfx_core_name(core: Optional[int]) -> Optional[str]:
    return GFX_CORES.get(core) if core is not None else None


def device_of_ip(ip_version: str) -> Optional[str]:
    """The canonical ocloc device name of an IP version (``12.60.7`` -> ``pvc``), None if unknown."""
    return next((d.name for d in DEVICES.values() if d.ip_version == ip_version), None)


def ip_version_names() -> Dict[str, str]:
    """{IP version: canonical device name} for every device ocloc knows (fat-binary member names)."""
    names: Dict[str, str] = {}
    for d in DEVICES.values():
        names.setdefault(d.ip_version, d.name)
    return names


# Zebins NEO loads natively on a device of another IP version, by the device's IP version: NEO's
# EnableCompatibilityMode (on by default since NEO 24.45) accepts a binary whose product config the
# compatibilityMapping of IGC's platforms.h lists for the device (validateTargetDevice,
# isTargetProductConfigCompatibleWithProductConfig; NEO 26.27.39122.14).  Measured on NEO 26.27's emulated G31: a
# ``bmg`` zebin loads without recompiling, with or without its SPIR-V; with EnableCompatibilityMode=0 NEO recompiles
# it (or refuses it without IR).  The mapping is one-way: a ``bmg-g31`` zebin on a G21 is recompiled.
NATIVE_COMPATIBLE: Dict[str, FrozenSet[str]] = {
    "20.2.0": frozenset({"20.1.0"}),  # BMG_G31_A0 runs BMG_G21_A0 binaries
    "20.4.4": frozenset({"20.1.0"}),  # LNL_B0 runs BMG_G21_A0 binaries
    "12.56.5": frozenset({"12.55.8"}), "12.57.0": frozenset({"12.55.8"}),  # DG2_G11_B1, DG2_G12_A0 run DG2_G10_C0
    "12.71.4": frozenset({"12.70.4"}),  # MTL_H_B0 runs MTL_U_B0 binaries
    "30.1.0": frozenset({"30.0.4"}), "30.3.1": frozenset({"30.0.4"}),  # PTL_U_A0, WCL_A1 run PTL_H_B0 binaries
}
NATIVE_COMPATIBLE_SINCE_BUILD = 31740  # NEO 24.45.31740: the first release with EnableCompatibilityMode


def loads_natively(binary_ip: str, device_ip: str, driver_build: Optional[int] = None) -> bool:
    """Whether NEO takes a zebin whose product config is ``binary_ip`` as native code on a device of IP version
    ``device_ip`` (NEO build ``driver_build``; unknown: assumed to have the compatibility mode)."""
    if binary_ip == device_ip:
        return True
    if driver_build and driver_build < NATIVE_COMPATIBLE_SINCE_BUILD:
        return False
    return binary_ip in NATIVE_COMPATIBLE.get(device_ip, frozenset())


def gmd_version(gmd: int) -> str:
    """A GMD id (newer IGC's product-config note) as the ``arch.release.revision`` IP version."""
    return f"{gmd >> 22 & 0x3FF}.{gmd >> 14 & 0xFF}.{gmd & 0x3F}"


def ip_versions_of_family(family_id: Optional[int]) -> FrozenSet[str]:
    """The IP versions of the devices of a product family (empty if none is measured)."""
    return frozenset(d.ip_version for d in DEVICES.values() if d.family is not None and d.family == family_id)


def revisions_of_family(family_id: Optional[int]) -> Optional[FrozenSet[int]]:
    """The hardware revisions IGC writes into the target metadata of a product family's zebins: the revision
    part of its devices' IP versions (measured: tgllp 0, acm-g10 8, pvc 7); None when the family is unknown."""
    ips = ip_versions_of_family(family_id)
    return frozenset(int(ip.rsplit(".", 1)[1]) for ip in ips) if ips else None


def emulated() -> Tuple[str, ...]:
    """Names of the targets TRITON_XPU_EMULATE can present."""
    return tuple(t.name for t in TARGETS.values() if t.emulation is not None)


def grf_bytes_of_family(product_family: str) -> Optional[int]:
    """Bytes per GRF of a zebin product family (``pvc``, ``dg2``, ...), None for one not in the table."""
    sizes = {t.grf_bytes for t in TARGETS.values() if t.product_family == product_family}
    return sizes.pop() if len(sizes) == 1 else None


def known_names() -> Tuple[str, ...]:
    return tuple(sorted(TARGETS)) + tuple(sorted(_ALIASES))


def lookup(name: str) -> TargetInfo:
    """The target called ``name`` (an ocloc device name or an alias), or a TargetError."""
    if not isinstance(name, str):
        raise TargetError(f"Intel target name must be a string, got {type(name).__name__} {name!r}")
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in TARGETS:
        raise TargetError(f"unknown Intel GPU target {name!r}; known targets: {', '.join(known_names())}")
    return TARGETS[key]


def from_device_dict(props: Mapping[str, Any]) -> TargetInfo:
    """A TargetInfo from the property dict a real device's driver reports.

    Where the dict names the device (key ``arch``, a known target), the table
    supplies what the dict leaves out; otherwise missing capabilities default
    to off, as a device that does not report them lacks them.
    """
    if not isinstance(props, Mapping):
        raise TargetError(f"Intel target arch must be a device name or a dict, got {type(props).__name__}")
    missing = [k for k in _REQUIRED_DICT_KEYS if k not in props]
    if missing:
        raise TargetError(f"malformed Intel target dict: missing {', '.join(missing)} "
                          f"(got keys: {', '.join(sorted(map(str, props))) or 'none'}); "
                          f"pass a device name instead, one of: {', '.join(known_names())}")
    sizes = props["sub_group_sizes"]
    if (not isinstance(sizes, (list, tuple)) or not sizes
            or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in sizes)):
        raise TargetError(f"malformed Intel target dict: sub_group_sizes must be a non-empty list of "
                          f"positive integers, got {sizes!r}")
    base = lookup(props["arch"]) if props.get("arch") else None

    def flag(key: str) -> bool:
        if key in props and props[key] is not None:
            return bool(props[key])
        return bool(getattr(base, key)) if base else False

    def number(key: str, default: int) -> int:
        value = props.get(key)
        if value is None:
            return getattr(base, key) if base else default
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise TargetError(f"malformed Intel target dict: {key} must be a positive integer, got {value!r}")
        return value

    return TargetInfo(
        name=base.name if base else str(props.get("name") or "xpu"),
        family=base.family if base else str(props.get("name") or "unknown Intel GPU"),
        product_family=base.product_family if base else "",
        sub_group_sizes=tuple(sorted(sizes)),
        has_subgroup_2d_block_io=flag("has_subgroup_2d_block_io"),
        has_subgroup_matrix_multiply_accumulate=flag("has_subgroup_matrix_multiply_accumulate"),
        has_subgroup_matrix_multiply_accumulate_tensor_float32=flag(
            "has_subgroup_matrix_multiply_accumulate_tensor_float32"),
        # triton-xpu's driver assumes bf16 conversions when the key is absent; keep that.
        has_bfloat16_conversions=flag("has_bfloat16_conversions") if
        ("has_bfloat16_conversions" in props or base) else True,
        has_fp64=flag("has_fp64"),
        threads_per_eu=number("threads_per_eu", 8),
        eus_per_subslice=number("eus_per_subslice", 8),
        grf_modes=tuple(props.get("grf_modes") or (base.grf_modes if base else (128, ))),
        max_work_group_size=number("max_work_group_size", 1024),
        grf_bytes=base.grf_bytes if base else 32,
        device_id=props.get("device_id", base.device_id if base else None),
        toolchain=base.toolchain if base else "legacy",
    )


def resolve(arch: Any) -> TargetInfo:
    """The TargetInfo for a GPUTarget's ``arch``: a device name or a driver's property dict."""
    if isinstance(arch, str):
        return lookup(arch)
    if isinstance(arch, Mapping):
        return from_device_dict(arch)
    raise TargetError(f"Intel target arch must be a device name (one of: {', '.join(known_names())}) "
                      f"or a property dict, got {type(arch).__name__} {arch!r}")
