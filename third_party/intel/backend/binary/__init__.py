"""Intel GPU binaries: one strict parse of each format, and the checks before the driver sees one.

* :mod:`.elf` -- ELF64, the container: record layouts declared once, one strict parse.
* :mod:`.zeinfo` -- ``.ze_info``: the YAML subset IGC writes and the zeinfo schema.
* :mod:`.zebin` -- a zebin read on those: its target notes, kernels, arguments, spills.
* :mod:`.validate` -- what NEO trusts, cross-checked before ``zeModuleCreate``.
* :mod:`.fatbin` -- ocloc's fat binaries (``ar``): reading, writing, choosing a device's member.
* :mod:`.digest` -- binaries this project compiled and checked, recognised by digest.

Nothing else in the backend parses ELF.  The numbers binaries use to name GPUs (product families,
GFX cores, IP versions) are facts of the target table, ``targets.py``.
"""
