"""The numbers zebins and fat binaries use to name Intel GPUs, and the ocloc device names they stand for.

Product families and GFX cores are gmmlib's ``igfxfmid.h`` enums, written into a zebin's IntelGT notes; IP
versions (``ocloc ids <device>``) name the members of ocloc's fat binaries and, as a GMD id, the
product-config note of newer IGC.
"""

from __future__ import annotations

from typing import Dict, FrozenSet, Optional, Tuple

# PRODUCT_FAMILY of igfxfmid.h.  29..33 and 1210/1270/1271 measured with ocloc 22.43
# (tgllp, rkl, adl-s, adl-p, adl-n, dg1, acm-g1x, pvc); the others are from the header.
PRODUCT_FAMILIES: Dict[int, str] = {
    16: "bdw", 18: "skl", 19: "kbl", 20: "cfl", 22: "bxt", 23: "glk", 26: "icllp", 27: "lkf", 28: "jsl",
    29: "tgllp", 30: "rkl", 31: "adl-s", 32: "adl-p", 33: "adl-n",
    1210: "dg1", 1250: "xe-hp-sdv", 1270: "dg2", 1271: "pvc", 1272: "mtl", 1273: "arl", 1274: "bmg",
    1275: "lnl", 1300: "ptl",
}

# GFXCORE_FAMILY of igfxfmid.h.  IGC 1.0.12504 writes 0 (unset) in the note.
GFX_CORES: Dict[int, str] = {
    11: "gen8", 12: "gen9", 15: "gen11", 16: "gen11lp", 17: "gen12", 18: "gen12lp",
    0x0C05: "xe-hp", 0x0C07: "xe-hpg", 0x0C08: "xe-hpc", 0x0C09: "xe2", 0x1E00: "xe3",
}

# GFXCORE_FAMILY of each PRODUCT_FAMILY (igfxfmid.h; NEO's hardware tables).
_GEN9, _GEN12LP, _XE_HPG, _XE2 = (12,), (18,), (0x0C07,), (0x0C09,)
GFX_CORES_OF_FAMILY: Dict[int, Tuple[int, ...]] = {
    16: (11,), 18: _GEN9, 19: _GEN9, 20: _GEN9, 22: _GEN9, 23: _GEN9, 26: (15, 16), 27: (15, 16), 28: (15, 16),
    29: _GEN12LP, 30: _GEN12LP, 31: _GEN12LP, 32: _GEN12LP, 33: _GEN12LP, 1210: _GEN12LP, 1250: (0x0C05,),
    1270: _XE_HPG, 1271: (0x0C08,), 1272: _XE_HPG, 1273: _XE_HPG, 1274: _XE2, 1275: _XE2, 1300: (0x1E00,),
}

# IP version (``ocloc ids <device>``, measured with ocloc 22.43 and 26.27) -> ocloc device name.  Fat-binary
# members are named by IP version; the first device of each IP is the canonical one.
IP_VERSIONS: Dict[str, str] = {
    "8.0.0": "bdw", "9.0.9": "skl", "9.1.9": "kbl", "9.2.9": "cfl", "9.3.0": "apl", "9.4.0": "glk",
    "9.5.0": "whl", "9.6.0": "aml", "9.7.0": "cml", "11.0.0": "icllp", "11.1.0": "lkf", "11.2.0": "ehl",
    "12.0.0": "tgllp", "12.1.0": "rkl", "12.2.0": "adl-s", "12.3.0": "adl-p", "12.4.0": "adl-n",
    "12.10.0": "dg1", "12.55.8": "acm-g10", "12.56.5": "acm-g11", "12.57.0": "acm-g12",
    "12.60.1": "pvc-sdv", "12.60.7": "pvc",
    # ocloc 26.27 (Debian testing)
    "12.70.4": "mtl", "12.74.4": "arl-h", "20.1.0": "bmg", "20.4.4": "lnl", "30.0.4": "ptl",
}

# The product family of each device named above (measured: the product-family note ocloc writes for it).
FAMILY_OF_DEVICE: Dict[str, int] = {
    "tgllp": 29, "rkl": 30, "adl-s": 31, "adl-p": 32, "adl-n": 33, "dg1": 1210,
    "acm-g10": 1270, "acm-g11": 1270, "acm-g12": 1270, "pvc-sdv": 1271, "pvc": 1271,
    "mtl": 1272, "arl-h": 1273, "bmg": 1274, "lnl": 1275, "ptl": 1300,
}


def gmd_version(gmd: int) -> str:
    """A GMD id (the product-config note) as the ``arch.release.revision`` IP version."""
    return f"{gmd >> 22 & 0x3FF}.{gmd >> 14 & 0xFF}.{gmd & 0x3F}"


def ip_versions_of_family(family: int) -> FrozenSet[str]:
    """The IP versions of the devices of a product family this table knows (empty if none)."""
    return frozenset(ip for ip, name in IP_VERSIONS.items() if FAMILY_OF_DEVICE.get(name) == family)


def revisions_of_family(family: int) -> Optional[FrozenSet[int]]:
    """The hardware revisions IGC writes into the target metadata of a product family's zebins: the revision
    part of its devices' IP versions (measured: tgllp 0, acm-g10 8, pvc 7); None when the family is unknown."""
    ips = ip_versions_of_family(family)
    return frozenset(int(ip.rsplit(".", 1)[1]) for ip in ips) if ips else None
