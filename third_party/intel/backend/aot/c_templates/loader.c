// The fixed part of NAME.c, the C loader `triton-xpu compile --emit-c` writes (aot/c_loader.py assembles it).
// NAME stands for the output name; each `#include "generated/..."` line is replaced by the kernel's own part:
//   about.inc   the comment that opens the file;
//   binary.inc  NAME_binary (the zebin or fat binary), NAME_targets (one NAME_target_t per target),
//               NAME_kernel_name (the kernel's symbol in the binary), NAME_built_for (the targets, as text)
//               and NAME_embeds_ir (1 when the zebins keep their SPIR-V, `--keep-ir`);
//   launch.inc  the launch function NAME(...), which sets the arguments of NAME_kernel and appends the launch,
//               after fp16_bits.c and bf16_bits.c where it takes such scalars.
// Lines starting with `//`, these notes, are not copied.
#include "generated/about.inc"
#include "NAME.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One target's binary: where its zebin is in NAME_binary and how to launch it there. */
typedef struct {
  const char *target;
  size_t offset, size;
  uint32_t group_size;       /* work-items per work-group: num_warps x threads per warp */
  uint32_t threads_per_warp; /* the kernel's SIMD width */
  uint32_t shared;           /* bytes of shared local memory, passed as one extra last argument */
  uint32_t num_args;         /* arguments of the kernel, the shared-memory one included */
} NAME_target_t;

#include "generated/binary.inc"

static ze_module_handle_t NAME_module = NULL;
static ze_kernel_handle_t NAME_kernel = NULL;
static const NAME_target_t *NAME_loaded = NULL;
static char NAME_log[4096];

static void NAME_keep_log(ze_module_build_log_handle_t log) {
  NAME_log[0] = '\0';
  if (log == NULL) return;
  size_t size = 0;
  if (zeModuleBuildLogGetString(log, &size, NULL) == ZE_RESULT_SUCCESS && size > 0) {
    char *text = (char *)malloc(size);
    if (text != NULL && zeModuleBuildLogGetString(log, &size, text) == ZE_RESULT_SUCCESS) {
      const char *end = (const char *)memchr(text, '\0', size);
      size_t n = end != NULL ? (size_t)(end - text) : size;
      if (n >= sizeof NAME_log) n = sizeof NAME_log - 1;
      memcpy(NAME_log, text, n);
      NAME_log[n] = '\0';
    }
    free(text);
  }
  zeModuleBuildLogDestroy(log);
}

static void NAME_note(const char *text) {
  size_t used = strlen(NAME_log);
  size_t room = sizeof NAME_log - used;
  if (room > 1) {
    size_t n = strlen(text);
    if (n >= room) n = room - 1;
    memcpy(NAME_log + used, text, n);
    NAME_log[used + n] = '\0';
  }
}

/* NEO's warning when it compiled the embedded SPIR-V instead of loading the native code:
 * "module got recompiled from IR because provided native binary is incompatible ... [-Wrecompiled-from-ir]" */
static int NAME_recompiled(const char *log) {
  static const char *const needles[] = {"recompiled from ir", "recompiled-from-ir"};
  for (const char *p = log; *p != '\0'; ++p) {
    for (size_t k = 0; k < sizeof needles / sizeof needles[0]; ++k) {
      const char *n = needles[k];
      size_t i = 0;
      while (n[i] != '\0' && p[i] != '\0') {
        char c = p[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != n[i]) break;
        ++i;
      }
      if (n[i] == '\0') return 1;
    }
  }
  return 0;
}

/* Why the driver refused the native binary, in the build log: a device the binary has no native code for. */
static void NAME_explain_refusal(ze_device_handle_t dev, ze_result_t r) {
  ze_device_properties_t props = {.stype = ZE_STRUCTURE_TYPE_DEVICE_PROPERTIES};
  char device[sizeof props.name + 32] = "this device";
  if (zeDeviceGetProperties(dev, &props) == ZE_RESULT_SUCCESS) {
    props.name[sizeof props.name - 1] = '\0';
    snprintf(device, sizeof device, "device \"%s\" (id 0x%04x)", props.name, (unsigned)props.deviceId);
  }
  char text[1024];
  snprintf(text, sizeof text,
           "\ntriton-xpu: NAME: the driver refused the native binary (0x%08x): it holds native code for %s only%s, "
           "and %s is not a device it was compiled for. Recompile the kernel for this device's target "
           "(triton-xpu compile --target TARGET; `triton-xpu devices` names it)",
           (unsigned)r, NAME_built_for, NAME_embeds_ir ? "" : " and no IR to recompile from", device);
  NAME_note(text);
}

/* Which target's binary the driver loaded. */
static const NAME_target_t *NAME_identify(ze_module_handle_t module, const ze_kernel_properties_t *props) {
  const size_t count = sizeof NAME_targets / sizeof NAME_targets[0];
  if (count == 1u) return &NAME_targets[0];
  size_t size = 0;
  if (zeModuleGetNativeBinary(module, &size, NULL) == ZE_RESULT_SUCCESS && size > 0) {
    uint8_t *native = (uint8_t *)malloc(size);
    if (native != NULL && zeModuleGetNativeBinary(module, &size, native) == ZE_RESULT_SUCCESS) {
      for (size_t i = 0; i < count; ++i) {
        const NAME_target_t *t = &NAME_targets[i];
        if (t->size == size && memcmp(NAME_binary + t->offset, native, size) == 0) {
          free(native);
          return t;
        }
      }
    }
    free(native);
  }
  /* The driver returned something else: the targets the loaded kernel's shape matches, if they agree. */
  const NAME_target_t *found = NULL;
  for (size_t i = 0; i < count; ++i) {
    const NAME_target_t *t = &NAME_targets[i];
    if (t->threads_per_warp != props->maxSubgroupSize || t->num_args != props->numKernelArgs) continue;
    if (found != NULL && (found->group_size != t->group_size || found->shared != t->shared)) return NULL;
    found = t;
  }
  return found;
}

void unload_NAME(void) {
  if (NAME_kernel != NULL) zeKernelDestroy(NAME_kernel);
  if (NAME_module != NULL) zeModuleDestroy(NAME_module);
  NAME_kernel = NULL;
  NAME_module = NULL;
  NAME_loaded = NULL;
}

ze_result_t load_NAME(ze_context_handle_t ctx, ze_device_handle_t dev) {
  unload_NAME();
  ze_module_desc_t desc = {
      .stype = ZE_STRUCTURE_TYPE_MODULE_DESC,
      .format = ZE_MODULE_FORMAT_NATIVE,
      .inputSize = sizeof NAME_binary,
      .pInputModule = NAME_binary,
  };
  ze_module_handle_t module = NULL;
  ze_module_build_log_handle_t log = NULL;
  ze_result_t r = zeModuleCreate(ctx, dev, &desc, &module, &log);
  NAME_keep_log(log);
  if (r != ZE_RESULT_SUCCESS) {
    if (module != NULL) zeModuleDestroy(module);
    if (r == ZE_RESULT_ERROR_INVALID_NATIVE_BINARY || r == ZE_RESULT_ERROR_MODULE_BUILD_FAILURE)
      NAME_explain_refusal(dev, r);
    return r;
  }
  if (NAME_recompiled(NAME_log)) {
    /* Never a silent JIT: the binary is not for this device. */
    NAME_note(
        "\ntriton-xpu: refused: the driver could load the binary only by recompiling it from IR; "
        "it was not compiled for this device");
    zeModuleDestroy(module);
    return ZE_RESULT_ERROR_INVALID_NATIVE_BINARY;
  }
  ze_kernel_desc_t kdesc = {.stype = ZE_STRUCTURE_TYPE_KERNEL_DESC, .pKernelName = NAME_kernel_name};
  ze_kernel_handle_t kernel = NULL;
  r = zeKernelCreate(module, &kdesc, &kernel);
  if (r != ZE_RESULT_SUCCESS) {
    zeModuleDestroy(module);
    return r;
  }
  ze_kernel_properties_t props = {.stype = ZE_STRUCTURE_TYPE_KERNEL_PROPERTIES};
  r = zeKernelGetProperties(kernel, &props);
  const NAME_target_t *target = r == ZE_RESULT_SUCCESS ? NAME_identify(module, &props) : NULL;
  if (r == ZE_RESULT_SUCCESS && (target == NULL || props.numKernelArgs != target->num_args)) {
    NAME_note("\ntriton-xpu: the loaded kernel matches none of the embedded targets");
    r = ZE_RESULT_ERROR_INVALID_NATIVE_BINARY;
  }
  if (r == ZE_RESULT_SUCCESS) r = zeKernelSetGroupSize(kernel, target->group_size, 1u, 1u);
  /* Shared local memory is the kernel's last argument: its size, no value. */
  if (r == ZE_RESULT_SUCCESS && target->shared > 0u)
    r = zeKernelSetArgumentValue(kernel, target->num_args - 1u, target->shared, NULL);
  if (r != ZE_RESULT_SUCCESS) {
    zeKernelDestroy(kernel);
    zeModuleDestroy(module);
    return r;
  }
  NAME_module = module;
  NAME_kernel = kernel;
  NAME_loaded = target;
  return ZE_RESULT_SUCCESS;
}

const char *NAME_target(void) { return NAME_loaded != NULL ? NAME_loaded->target : NULL; }

const char *NAME_build_log(void) { return NAME_log; }

#include "generated/launch.inc"
