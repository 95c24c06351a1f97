// The fixed part of NAME.h, the header of the C loader `triton-xpu compile --emit-c` writes (aot/c_loader.py
// assembles it).  NAME stands for the output name; each `#include "generated/..."` line is replaced by the
// kernel's own part: about.inc, the comment that opens the file; prototype.inc, the launch function's
// declaration.  Lines starting with `//`, these notes, are not copied.
#include "generated/about.inc"
#ifndef TRITON_XPU_AOT_NAME_H
#define TRITON_XPU_AOT_NAME_H

#include <stdbool.h>
#include <stdint.h>

#include <level_zero/ze_api.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Load the kernel's native binary on `dev` in `ctx` (ZE_MODULE_FORMAT_NATIVE only; a loaded one is unloaded
 * first).  Returns the driver's error for a device the binary was not built for (NAME_build_log() then says
 * which targets it holds and what to do), and ZE_RESULT_ERROR_INVALID_NATIVE_BINARY where the driver could
 * load it only by recompiling from IR (a binary built with --keep-ir). */
ze_result_t load_NAME(ze_context_handle_t ctx, ze_device_handle_t dev);

/* Destroy the kernel and module created by load_NAME; safe to call when nothing is loaded. */
void unload_NAME(void);

/* Append a launch of gridX x gridY x gridZ work-groups to `list`.  ZE_RESULT_ERROR_UNINITIALIZED before
 * load_NAME; an empty grid appends nothing. */
#include "generated/prototype.inc"

/* The target ("pvc", "acm-g10", ...) whose binary load_NAME loaded; NULL when none is loaded. */
const char *NAME_target(void);

/* The driver's build log of the last load_NAME ("" when it wrote none). */
const char *NAME_build_log(void);

#ifdef __cplusplus
}
#endif

#endif /* TRITON_XPU_AOT_NAME_H */
