/* Loads the AOT-compiled dot kernel (a fat binary whose targets launch differently) and launches it once on an
 * immediate command list.  Exit 0 on success, 3 when loading is refused. */
#include <stdio.h>

#include "dot_kernel.h"

#define CHECK(what, call)                                        \
  do {                                                           \
    ze_result_t r_ = (call);                                     \
    if (r_ != ZE_RESULT_SUCCESS) {                               \
      printf("%s: 0x%x\n", what, (unsigned)r_);                  \
      return 2;                                                  \
    }                                                            \
  } while (0)

int main(void) {
  CHECK("zeInit", zeInit(ZE_INIT_FLAG_GPU_ONLY));
  uint32_t n = 1;
  ze_driver_handle_t driver;
  CHECK("zeDriverGet", zeDriverGet(&n, &driver));
  n = 1;
  ze_device_handle_t dev;
  CHECK("zeDeviceGet", zeDeviceGet(driver, &n, &dev));
  ze_context_desc_t context_desc = {.stype = ZE_STRUCTURE_TYPE_CONTEXT_DESC};
  ze_context_handle_t ctx;
  CHECK("zeContextCreate", zeContextCreate(driver, &context_desc, &ctx));
  ze_result_t r = load_dot_kernel(ctx, dev);
  if (r != ZE_RESULT_SUCCESS) {
    printf("load: 0x%x\nlog: %s\n", (unsigned)r, dot_kernel_build_log());
    return 3;
  }
  printf("loaded for %s\n", dot_kernel_target());
  ze_device_mem_alloc_desc_t device_desc = {.stype = ZE_STRUCTURE_TYPE_DEVICE_MEM_ALLOC_DESC};
  void *a, *b, *c;
  CHECK("alloc a", zeMemAllocDevice(ctx, &device_desc, 16 * 16 * 2, 64, dev, &a));
  CHECK("alloc b", zeMemAllocDevice(ctx, &device_desc, 16 * 16 * 2, 64, dev, &b));
  CHECK("alloc c", zeMemAllocDevice(ctx, &device_desc, 16 * 16 * 4, 64, dev, &c));
  ze_command_queue_desc_t queue_desc = {.stype = ZE_STRUCTURE_TYPE_COMMAND_QUEUE_DESC};
  ze_command_list_handle_t list;
  CHECK("zeCommandListCreateImmediate", zeCommandListCreateImmediate(ctx, dev, &queue_desc, &list));
  CHECK("launch", dot_kernel(list, 1, 1, 1, a, b, c));
  CHECK("zeCommandListAppendBarrier", zeCommandListAppendBarrier(list, NULL, 0, NULL));
  printf("launched\n");
  unload_dot_kernel();
  zeCommandListDestroy(list);
  zeContextDestroy(ctx);
  return 0;
}
