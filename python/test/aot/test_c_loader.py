"""The generated C: compiled with the system compiler against Debian's Level Zero headers, linked with
-lze_loader, run on the emulated devices (the real NEO driver; kernels do not execute there)."""

import json
import re
import shutil
import struct
import subprocess

import pytest

from aot_helpers import EXAMPLES, HERE, REPO, neo_env, run_cli
from triton.backends.intel.aot import c_loader

C_PROGRAMS = HERE / "c"
# The templates as the repository has them (the installed package's are c_loader.TEMPLATE_DIR).
SOURCE_TEMPLATES = REPO / "third_party" / "intel" / "backend" / "aot" / "c_templates"
STRICT = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic"]
INVALID_NATIVE_BINARY = 0x7800000F
MODULE_BUILD_FAILURE = 0x70000004  # ZE_RESULT_ERROR_MODULE_BUILD_FAILURE


def build(cc, out_dir, program, kernel, exe):
    """cc -std=c11 -Wall -Werror: the test program with the generated NAME.c, linked with -lze_loader."""
    proc = subprocess.run([cc, *STRICT, "-I", str(out_dir), str(C_PROGRAMS / program), str(out_dir / f"{kernel}.c"),
                           "-lze_loader", "-o", str(exe)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return exe


def run_on(target, exe):
    return subprocess.run([str(exe)], capture_output=True, text=True, env=neo_env(target), timeout=120)


@pytest.fixture(scope="module")
def add_pvc(built, cc, tmp_path_factory):
    return build(cc, built["pvc"], "launch_add.c", "add", tmp_path_factory.mktemp("c") / "add_pvc")


@pytest.fixture(scope="module")
def add_fat(built, cc, tmp_path_factory):
    return build(cc, built["fat"], "launch_add.c", "add", tmp_path_factory.mktemp("c") / "add_fat")


@pytest.fixture(scope="module")
def dot_fat(built, cc, tmp_path_factory):
    return build(cc, built["fat"], "launch_dot.c", "dot_kernel", tmp_path_factory.mktemp("c") / "dot_fat")


def test_loads_and_launches_on_the_device_it_was_compiled_for(add_pvc):
    proc = run_on("pvc", add_pvc)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines == ["before load: launch 0x78000001",  # ZE_RESULT_ERROR_UNINITIALIZED
                     "loaded for pvc", "launched", "after unload: nothing loaded"]


@pytest.fixture(scope="module")
def add_pvc_ir(built, cc, tmp_path_factory):
    return build(cc, built["pvc_ir"], "launch_add.c", "add", tmp_path_factory.mktemp("c") / "add_pvc_ir")


def test_another_device_gets_the_drivers_error_and_what_to_do(add_pvc):
    # The zebin carries no IR (the default): NEO has nothing to recompile on acm-g10 and refuses it.
    proc = run_on("acm-g10", add_pvc)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    # The driver's own refusal: NEO 22.43 says ZE_RESULT_ERROR_INVALID_NATIVE_BINARY, NEO 26.x
    # ZE_RESULT_ERROR_MODULE_BUILD_FAILURE; the loader adds to the build log what that means.
    code = next(c for c in (INVALID_NATIVE_BINARY, MODULE_BUILD_FAILURE) if f"load: 0x{c:x}\n" in proc.stdout)
    note = proc.stdout.split("log: ", 1)[1].strip()
    # The device's name is NEO's (it differs between NEO versions); its id is the emulated acm-g10's.
    assert re.fullmatch(
        re.escape(f"triton-xpu: add: the driver refused the native binary (0x{code:08x}): it holds native code for "
                  "pvc only and no IR to recompile from, and device \"") + r'[^"]+' + re.escape(
                      "\" (id 0x56a0) is not a device it was compiled for. Recompile the kernel for this device's "
                      "target (triton-xpu compile --target TARGET; `triton-xpu devices` names it)"), note), note
    assert "recompiled" not in proc.stdout


def test_another_device_with_ir_kept_is_refused_not_recompiled(add_pvc_ir):
    # Built with --keep-ir, NEO would recompile the pvc zebin's SPIR-V on acm-g10; the loader refuses.
    proc = run_on("acm-g10", add_pvc_ir)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert f"load: 0x{INVALID_NATIVE_BINARY:x}\n" in proc.stdout
    assert "recompiled from IR" in proc.stdout
    assert proc.stdout.rstrip().endswith("triton-xpu: refused: the driver could load the binary only by "
                                         "recompiling it from IR; it was not compiled for this device")


def test_fat_binary_loads_each_devices_own_member(add_fat):
    for target in ("pvc", "acm-g10"):
        proc = run_on(target, add_fat)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert f"loaded for {target}" in proc.stdout and "launched" in proc.stdout


def test_fat_binary_without_a_member_for_the_device_is_refused(add_fat):
    proc = run_on("tgllp", add_fat)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    # The driver's own refusal: NEO 22.43 says ZE_RESULT_ERROR_INVALID_NATIVE_BINARY, NEO 26.x
    # ZE_RESULT_ERROR_MODULE_BUILD_FAILURE.
    assert any(f"load: 0x{code:x}" in proc.stdout for code in (INVALID_NATIVE_BINARY, MODULE_BUILD_FAILURE))
    assert "it holds native code for pvc, acm-g10 only and no IR to recompile from, and device \"" in proc.stdout


def test_fat_binary_targets_launch_with_their_own_shape(built, dot_fat):
    # pvc: DPAS with sub-groups of 16; acm-g10: sub-groups of 32 and shared memory (an extra argument).
    meta = {t["target"]: t for t in json.loads((built["fat"] / "dot_kernel.json").read_text())["targets"]}
    assert meta["pvc"]["threads_per_warp"] == 16 and meta["pvc"]["group_size"] == [16, 1, 1]
    assert meta["acm-g10"]["group_size"] == [32, 1, 1] and meta["acm-g10"]["shared"] > 0
    source = (built["fat"] / "dot_kernel.c").read_text()
    for target, m in meta.items():
        n_args = 3 + (1 if m["shared"] else 0)
        row = (f'{{"{target}", {m["offset"]}u, {m["zebin_bytes"]}u, {m["group_size"][0]}u, '
               f'{m["threads_per_warp"]}u, {m["shared"]}u, {n_args}u}},')
        assert row in source
        proc = run_on(target, dot_fat)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert f"loaded for {target}" in proc.stdout and "launched" in proc.stdout


def test_header_is_valid_cplusplus(built, cc):
    cxx = cc.replace("gcc", "g++") if cc.endswith("gcc") else "c++"
    proc = subprocess.run([cxx, "-std=c++17", "-Wall", "-Werror", "-fsyntax-only", "-x", "c++",
                           str(built["fat"] / "add.h")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_half_precision_scalars_are_rounded_to_nearest_even(cc, tmp_path):
    np = pytest.importorskip("numpy")
    proc = run_cli("compile", EXAMPLES, "--kernel", "scalars_kernel", "--out-name", "scalars",
                   "--signature", "*fp32,i1,i8,i16,u16,u32,i64,fp16,bf16,fp32,fp64,64", "--target", "pvc",
                   "--out-dir", tmp_path, "--emit-c", "-q")
    assert proc.returncode == 0, proc.stderr
    header = (tmp_path / "scalars.h").read_text()
    assert ("void *out_ptr, bool flag, int8_t i8, int16_t i16, uint16_t u16, uint32_t u32, int64_t i64, float h, "
            "float bf, float f, double d);") in header
    values = np.array([0.0, -0.0, 1.0, -2.5, 65504.0, 65520.0, 1e6, 6.1e-5, 5.96e-8, 2.98e-8, 2.99e-8, 1e-9,
                       0.1, 1.0 + 2.0**-11, 1.0 + 3 * 2.0**-11, 3.14159265, np.inf, -np.inf,
                       1.0 + 2.0**-8, 1.0 + 3 * 2.0**-8, 3.3895e38, 1e-40], dtype=np.float32)
    literals = ", ".join("INFINITY" if v == np.inf else "-INFINITY" if v == -np.inf else f"{float(v).hex()}f"
                         for v in values)
    probe = tmp_path / "probe.c"
    probe.write_text('#include <math.h>\n#include <stdio.h>\n#include "scalars.c"\nint main(void) {\n'
                     f'  static const float v[] = {{{literals}}};\n'
                     '  for (size_t i = 0; i < sizeof v / sizeof v[0]; ++i)\n'
                     '    printf("%u %u\\n", (unsigned)scalars_fp16_bits(v[i]), (unsigned)scalars_bf16_bits(v[i]));\n'
                     '  return 0;\n}\n')
    exe = tmp_path / "probe"
    out = subprocess.run([cc, "-std=c11", "-Wall", "-Werror", "-I", str(tmp_path), str(probe), "-lze_loader", "-o",
                          str(exe)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    got = [tuple(map(int, line.split())) for line in subprocess.run([str(exe)], capture_output=True,
                                                                      text=True).stdout.splitlines()]
    with np.errstate(over="ignore"):
        fp16 = values.astype(np.float16).view(np.uint16)
    assert len(got) == len(values)
    for value, (h, b), want_h in zip(values, got, fp16):
        bits = struct.unpack("<I", struct.pack("<f", value))[0]
        want_b = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16  # round to nearest even (no NaN among the values)
        assert (h, b) == (int(want_h), want_b), value
    nan = subprocess.run([cc, "-std=c11", "-x", "c", "-", "-I", str(tmp_path), "-lze_loader", "-o",
                          str(tmp_path / "nan")], input='#include <math.h>\n#include <stdio.h>\n#include "scalars.c"\n'
                         'int main(void) { printf("%u %u\\n", (unsigned)scalars_fp16_bits(NAN), '
                         '(unsigned)scalars_bf16_bits(NAN)); return 0; }\n', capture_output=True, text=True)
    assert nan.returncode == 0, nan.stderr
    h, b = map(int, subprocess.run([str(tmp_path / "nan")], capture_output=True, text=True).stdout.split())
    assert (h & 0x7C00) == 0x7C00 and (h & 0x3FF) and (b & 0x7F80) == 0x7F80 and (b & 0x7F)


# A hand-written generated part for the templates as they are (a kernel named NAME taking an int32_t, an fp16
# and a bf16 scalar), independent of c_loader's generator: what each `#include "generated/PART.inc"` expects.
MINIMAL_PARTS = {
    "about.inc": "/* NAME: the templates' own compile test. */\n",
    "prototype.inc": "ze_result_t NAME(ze_command_list_handle_t list, uint32_t gridX, uint32_t gridY, uint32_t gridZ,"
                     " int32_t n, float h, float b);\n",
    "binary.inc": 'static _Alignas(64) const unsigned char NAME_binary[8] = {0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0};\n'
                  'static const NAME_target_t NAME_targets[] = {{"pvc", 0u, 8u, 16u, 16u, 0u, 3u}};\n'
                  'static const char NAME_kernel_name[] = "NAME";\n'
                  'static const char NAME_built_for[] = "pvc";\n'
                  'static const int NAME_embeds_ir = 0;\n',
    "launch.inc": '#include "fp16_bits.c"\n#include "bf16_bits.c"\n'
                  "ze_result_t NAME(ze_command_list_handle_t list, uint32_t gridX, uint32_t gridY, uint32_t gridZ,"
                  " int32_t n, float h, float b) {\n"
                  "  if (NAME_kernel == NULL) return ZE_RESULT_ERROR_UNINITIALIZED;\n"
                  "  uint16_t hb = NAME_fp16_bits(h), bb = NAME_bf16_bits(b);\n"
                  "  ze_result_t r = zeKernelSetArgumentValue(NAME_kernel, 0u, sizeof n, &n);\n"
                  "  if (r == ZE_RESULT_SUCCESS) r = zeKernelSetArgumentValue(NAME_kernel, 1u, sizeof hb, &hb);\n"
                  "  if (r == ZE_RESULT_SUCCESS) r = zeKernelSetArgumentValue(NAME_kernel, 2u, sizeof bb, &bb);\n"
                  "  ze_group_count_t groups = {gridX, gridY, gridZ};\n"
                  "  return r != ZE_RESULT_SUCCESS ? r : zeCommandListAppendLaunchKernel(list, NAME_kernel, &groups,"
                  " NULL, 0u, NULL);\n"
                  "}\n",
}


def test_the_templates_compile_as_c_with_a_minimal_generated_part(cc, tmp_path):
    # The fixed C as it is in the repository, unassembled: loader.c includes "NAME.h" (loader.h) and its parts.
    (tmp_path / "generated").mkdir()
    for part, text in MINIMAL_PARTS.items():
        (tmp_path / "generated" / part).write_text(text)
    shutil.copy(SOURCE_TEMPLATES / "loader.h", tmp_path / "NAME.h")
    proc = subprocess.run([cc, *STRICT, "-I", str(tmp_path), "-I", str(SOURCE_TEMPLATES), "-c",
                           str(SOURCE_TEMPLATES / "loader.c"), "-o", str(tmp_path / "loader.o")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    symbols = subprocess.run(["nm", "--defined-only", "-g", str(tmp_path / "loader.o")], capture_output=True,
                             text=True).stdout.split()
    assert {"load_NAME", "unload_NAME", "NAME", "NAME_target", "NAME_build_log"} <= set(symbols)
    cxx = cc.replace("gcc", "g++") if cc.endswith("gcc") else "c++"
    proc = subprocess.run([cxx, "-std=c++17", "-Wall", "-Wextra", "-Werror", "-pedantic", "-fsyntax-only", "-x",
                           "c++", "-I", str(tmp_path), str(tmp_path / "NAME.h")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_every_template_ships_in_the_installed_package():
    # The repository's templates are those c_loader reads, and the installed package has each, as it is here.
    in_repo = sorted(p.name for p in SOURCE_TEMPLATES.iterdir() if p.is_file() and not p.name.startswith("."))
    assert in_repo == sorted(c_loader.TEMPLATES)
    installed = c_loader.TEMPLATE_DIR
    for name in in_repo:
        path = f"{installed}/{name}"
        with open(path, "rb") as f:  # FileNotFoundError names the missing file
            assert f.read() == (SOURCE_TEMPLATES / name).read_bytes(), f"{path} differs from the repository's"
    c_loader.check_templates()


def test_generated_files_keep_nothing_of_the_templates_machinery(built):
    for path in [built["fat"] / f for f in ("add.h", "add.c", "dot_kernel.h", "dot_kernel.c")]:
        text = path.read_text()
        leftover = re.search(r'(?<![0-9A-Za-z])NAME(?![0-9A-Za-z])|#include "generated/|^//', text, re.MULTILINE)
        assert leftover is None, f"{path.name}: {leftover.group(0)!r}"
        assert text.startswith(f"/* {path.name} -- generated by triton-xpu; do not edit.\n")
