/* Loads the AOT-compiled add kernel (add.h / add.c from `triton-xpu compile --out-name add --emit-c`) on the
 * first Level Zero device and launches it once.  Prints what happened; exit 0 on success, 3 when loading is
 * refused, 2 when another Level Zero call fails. */
#include <stdio.h>
#include <stdlib.h>

#include "add.h"

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

  printf("before load: launch 0x%x\n", (unsigned)add(NULL, 1, 1, 1, NULL, NULL, NULL, 0));
  ze_result_t r = load_add(ctx, dev);
  if (r != ZE_RESULT_SUCCESS) {
    printf("load: 0x%x\nlog: %s\n", (unsigned)r, add_build_log());
    return 3;
  }
  printf("loaded for %s\n", add_target());

  const int32_t count = 5000;
  ze_device_mem_alloc_desc_t device_desc = {.stype = ZE_STRUCTURE_TYPE_DEVICE_MEM_ALLOC_DESC};
  ze_host_mem_alloc_desc_t host_desc = {.stype = ZE_STRUCTURE_TYPE_HOST_MEM_ALLOC_DESC};
  void *x, *y, *out;
  CHECK("alloc x", zeMemAllocShared(ctx, &device_desc, &host_desc, count * sizeof(float), 64, dev, &x));
  CHECK("alloc y", zeMemAllocShared(ctx, &device_desc, &host_desc, count * sizeof(float), 64, dev, &y));
  CHECK("alloc out", zeMemAllocShared(ctx, &device_desc, &host_desc, count * sizeof(float), 64, dev, &out));
  ze_command_queue_desc_t queue_desc = {.stype = ZE_STRUCTURE_TYPE_COMMAND_QUEUE_DESC};
  ze_command_queue_handle_t queue;
  CHECK("zeCommandQueueCreate", zeCommandQueueCreate(ctx, dev, &queue_desc, &queue));
  ze_command_list_desc_t list_desc = {.stype = ZE_STRUCTURE_TYPE_COMMAND_LIST_DESC};
  ze_command_list_handle_t list;
  CHECK("zeCommandListCreate", zeCommandListCreate(ctx, dev, &list_desc, &list));

  CHECK("launch", add(list, (count + 1023) / 1024, 1, 1, x, y, out, count));
  CHECK("empty launch", add(list, 0, 1, 1, x, y, out, count));
  CHECK("zeCommandListClose", zeCommandListClose(list));
  CHECK("zeCommandQueueExecuteCommandLists", zeCommandQueueExecuteCommandLists(queue, 1, &list, NULL));
  CHECK("zeCommandQueueSynchronize", zeCommandQueueSynchronize(queue, UINT64_MAX));
  printf("launched\n");

  unload_add();
  unload_add();
  printf("after unload: %s\n", add_target() == NULL ? "nothing loaded" : add_target());
  zeCommandListDestroy(list);
  zeCommandQueueDestroy(queue);
  zeMemFree(ctx, x);
  zeMemFree(ctx, y);
  zeMemFree(ctx, out);
  zeContextDestroy(ctx);
  return 0;
}
