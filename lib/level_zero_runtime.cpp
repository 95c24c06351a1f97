// The native-only Level Zero runtime: see include/triton_xpu/level_zero_runtime.h.
#include "triton_xpu/level_zero_runtime.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstring>

namespace triton_xpu {

namespace {

struct ResultName {
  uint32_t value;
  const char *name;
};

// ze_result_t of Level Zero 1.8 (ze_api.h), by value so newer or older headers compile alike.
constexpr ResultName kResultNames[] = {
    {0u, "ZE_RESULT_SUCCESS"},
    {1u, "ZE_RESULT_NOT_READY"},
    {0x70000001u, "ZE_RESULT_ERROR_DEVICE_LOST"},
    {0x70000002u, "ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY"},
    {0x70000003u, "ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY"},
    {0x70000004u, "ZE_RESULT_ERROR_MODULE_BUILD_FAILURE"},
    {0x70000005u, "ZE_RESULT_ERROR_MODULE_LINK_FAILURE"},
    {0x70000006u, "ZE_RESULT_ERROR_DEVICE_REQUIRES_RESET"},
    {0x70000007u, "ZE_RESULT_ERROR_DEVICE_IN_LOW_POWER_STATE"},
    {0x7ff00001u, "ZE_RESULT_EXP_ERROR_DEVICE_IS_NOT_VERTEX"},
    {0x7ff00002u, "ZE_RESULT_EXP_ERROR_VERTEX_IS_NOT_DEVICE"},
    {0x7ff00003u, "ZE_RESULT_EXP_ERROR_REMOTE_DEVICE"},
    {0x70010000u, "ZE_RESULT_ERROR_INSUFFICIENT_PERMISSIONS"},
    {0x70010001u, "ZE_RESULT_ERROR_NOT_AVAILABLE"},
    {0x70020000u, "ZE_RESULT_ERROR_DEPENDENCY_UNAVAILABLE"},
    {0x70020001u, "ZE_RESULT_WARNING_DROPPED_DATA"},
    {0x78000001u, "ZE_RESULT_ERROR_UNINITIALIZED"},
    {0x78000002u, "ZE_RESULT_ERROR_UNSUPPORTED_VERSION"},
    {0x78000003u, "ZE_RESULT_ERROR_UNSUPPORTED_FEATURE"},
    {0x78000004u, "ZE_RESULT_ERROR_INVALID_ARGUMENT"},
    {0x78000005u, "ZE_RESULT_ERROR_INVALID_NULL_HANDLE"},
    {0x78000006u, "ZE_RESULT_ERROR_HANDLE_OBJECT_IN_USE"},
    {0x78000007u, "ZE_RESULT_ERROR_INVALID_NULL_POINTER"},
    {0x78000008u, "ZE_RESULT_ERROR_INVALID_SIZE"},
    {0x78000009u, "ZE_RESULT_ERROR_UNSUPPORTED_SIZE"},
    {0x7800000au, "ZE_RESULT_ERROR_UNSUPPORTED_ALIGNMENT"},
    {0x7800000bu, "ZE_RESULT_ERROR_INVALID_SYNCHRONIZATION_OBJECT"},
    {0x7800000cu, "ZE_RESULT_ERROR_INVALID_ENUMERATION"},
    {0x7800000du, "ZE_RESULT_ERROR_UNSUPPORTED_ENUMERATION"},
    {0x7800000eu, "ZE_RESULT_ERROR_UNSUPPORTED_IMAGE_FORMAT"},
    {0x7800000fu, "ZE_RESULT_ERROR_INVALID_NATIVE_BINARY"},
    {0x78000010u, "ZE_RESULT_ERROR_INVALID_GLOBAL_NAME"},
    {0x78000011u, "ZE_RESULT_ERROR_INVALID_KERNEL_NAME"},
    {0x78000012u, "ZE_RESULT_ERROR_INVALID_FUNCTION_NAME"},
    {0x78000013u, "ZE_RESULT_ERROR_INVALID_GROUP_SIZE_DIMENSION"},
    {0x78000014u, "ZE_RESULT_ERROR_INVALID_GLOBAL_WIDTH_DIMENSION"},
    {0x78000015u, "ZE_RESULT_ERROR_INVALID_KERNEL_ARGUMENT_INDEX"},
    {0x78000016u, "ZE_RESULT_ERROR_INVALID_KERNEL_ARGUMENT_SIZE"},
    {0x78000017u, "ZE_RESULT_ERROR_INVALID_KERNEL_ATTRIBUTE_VALUE"},
    {0x78000018u, "ZE_RESULT_ERROR_INVALID_MODULE_UNLINKED"},
    {0x78000019u, "ZE_RESULT_ERROR_INVALID_COMMAND_LIST_TYPE"},
    {0x7800001au, "ZE_RESULT_ERROR_OVERLAPPING_REGIONS"},
    {0x7800001bu, "ZE_RESULT_WARNING_ACTION_REQUIRED"},
    {0x7ffffffeu, "ZE_RESULT_ERROR_UNKNOWN"},
    {RESULT_RECOMPILED_FROM_IR, "RECOMPILED_FROM_IR"},
};

std::string hex32(uint32_t value) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", value);
  return buf;
}

std::string failure_message(const std::string &call, uint32_t result, const std::string &log) {
  std::string text = call + " failed: " + result_name(result) + " (" + hex32(result) + ")";
  if (!log.empty()) {
    text += "\n--- build log ---\n" + log;
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    text += "\n-----------------";
  }
  return text;
}

std::string read_build_log(ze_module_build_log_handle_t log) {
  if (log == nullptr) return {};
  size_t size = 0;
  std::string text;
  if (zeModuleBuildLogGetString(log, &size, nullptr) == ZE_RESULT_SUCCESS && size > 0) {
    text.resize(size);
    if (zeModuleBuildLogGetString(log, &size, text.data()) != ZE_RESULT_SUCCESS) text.clear();
    text.resize(std::strlen(text.c_str()));  // drop the terminating NUL
  }
  zeModuleBuildLogDestroy(log);
  return text;
}

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

std::string result_name(uint32_t result) {
  for (const auto &entry : kResultNames)
    if (entry.value == result) return entry.name;
  return "ZE_RESULT_" + hex32(result);
}

ZeFailure::ZeFailure(std::string call_, uint32_t result_, std::string log_)
    : std::runtime_error(failure_message(call_, result_, log_)),
      call(std::move(call_)),
      result(result_),
      log(std::move(log_)) {}

void throw_failure(const char *call, ze_result_t result, std::string log) {
  throw ZeFailure(call, static_cast<uint32_t>(result), std::move(log));
}

bool log_says_recompiled_from_ir(const std::string &log) {
  std::string lower(log);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return lower.find("recompiled from ir") != std::string::npos ||
         lower.find("recompiled-from-ir") != std::string::npos;
}

// --------------------------------------------------------------------------------------------
// Device synchronisation

void Device::append_sync_barrier() {
  check(zeCommandListAppendBarrier(list, event, 0, nullptr), "zeCommandListAppendBarrier");
}

void Device::wait_sync_event(uint64_t timeout_ns) {
  ze_result_t r = zeEventHostSynchronize(event, timeout_ns);
  // Reset even after a failed wait so the next synchronize starts from a clean event.
  ze_result_t reset = zeEventHostReset(event);
  check(r, "zeEventHostSynchronize");
  check(reset, "zeEventHostReset");
}

// --------------------------------------------------------------------------------------------
// Runtime

Runtime &Runtime::get() {
  // Leaked on purpose: handles are released by shutdown() (registered with Python's atexit),
  // while the interpreter and the driver are alive, never by C++ static destruction, which may
  // run after the driver library's own.
  static Runtime *runtime = new Runtime();
  return *runtime;
}

void Runtime::require_initialized() const {
  if (shut_down_) throw std::logic_error("the Level Zero runtime has been shut down");
  if (!initialized_) throw std::logic_error("the Level Zero runtime is not initialised: call init() first");
}

Device &Runtime::device(size_t index) {
  require_initialized();
  if (index >= devices_.size())
    throw std::out_of_range("device index " + std::to_string(index) + " out of range (" +
                            std::to_string(devices_.size()) + " device(s))");
  return *devices_[index];
}

void Runtime::init() {
  if (shut_down_) throw std::logic_error("the Level Zero runtime has been shut down");
  if (initialized_) return;
  check(zeInit(ZE_INIT_FLAG_GPU_ONLY), "zeInit");
  try {
    uint32_t num_drivers = 0;
    check(zeDriverGet(&num_drivers, nullptr), "zeDriverGet");
    std::vector<ze_driver_handle_t> drivers(num_drivers);
    if (num_drivers) check(zeDriverGet(&num_drivers, drivers.data()), "zeDriverGet");
    for (ze_driver_handle_t driver : drivers) {
      uint32_t num_devices = 0;
      check(zeDeviceGet(driver, &num_devices, nullptr), "zeDeviceGet");
      if (num_devices == 0) continue;
      std::vector<ze_device_handle_t> handles(num_devices);
      check(zeDeviceGet(driver, &num_devices, handles.data()), "zeDeviceGet");

      ze_context_desc_t context_desc{ZE_STRUCTURE_TYPE_CONTEXT_DESC, nullptr, 0};
      ze_context_handle_t context = nullptr;
      check(zeContextCreate(driver, &context_desc, &context), "zeContextCreate");
      contexts_.emplace_back(driver, context);

      for (ze_device_handle_t handle : handles) {
        auto dev = std::make_unique<Device>();
        dev->index = devices_.size();
        dev->driver = driver;
        dev->context = context;
        dev->handle = handle;

        uint32_t num_groups = 0;
        check(zeDeviceGetCommandQueueGroupProperties(handle, &num_groups, nullptr),
              "zeDeviceGetCommandQueueGroupProperties");
        std::vector<ze_command_queue_group_properties_t> groups(num_groups);
        for (auto &g : groups) g = {ZE_STRUCTURE_TYPE_COMMAND_QUEUE_GROUP_PROPERTIES, nullptr, 0, 0, 0};
        check(zeDeviceGetCommandQueueGroupProperties(handle, &num_groups, groups.data()),
              "zeDeviceGetCommandQueueGroupProperties");
        bool found = false;
        for (uint32_t i = 0; i < num_groups && !found; ++i)
          if (groups[i].flags & ZE_COMMAND_QUEUE_GROUP_PROPERTY_FLAG_COMPUTE) {
            dev->compute_ordinal = i;
            found = true;
          }
        if (!found) throw_failure("zeDeviceGetCommandQueueGroupProperties (no compute engine)",
                                  ZE_RESULT_ERROR_UNSUPPORTED_FEATURE);

        ze_command_queue_desc_t queue_desc{ZE_STRUCTURE_TYPE_COMMAND_QUEUE_DESC, nullptr, dev->compute_ordinal,
                                           0, 0, ZE_COMMAND_QUEUE_MODE_ASYNCHRONOUS,
                                           ZE_COMMAND_QUEUE_PRIORITY_NORMAL};
        // Register the device before creating handles so a failure below releases them.
        Device &d = *dev;
        devices_.push_back(std::move(dev));
        check(zeCommandListCreateImmediate(context, handle, &queue_desc, &d.list), "zeCommandListCreateImmediate");

        ze_event_pool_desc_t pool_desc{ZE_STRUCTURE_TYPE_EVENT_POOL_DESC, nullptr, ZE_EVENT_POOL_FLAG_HOST_VISIBLE,
                                       1};
        check(zeEventPoolCreate(context, &pool_desc, 1, &d.handle, &d.event_pool), "zeEventPoolCreate");
        ze_event_desc_t event_desc{ZE_STRUCTURE_TYPE_EVENT_DESC, nullptr, 0, ZE_EVENT_SCOPE_FLAG_HOST,
                                   ZE_EVENT_SCOPE_FLAG_HOST};
        check(zeEventCreate(d.event_pool, &event_desc, &d.event), "zeEventCreate");
      }
    }
  } catch (...) {
    release_all();
    throw;
  }
  initialized_ = true;
}

void Runtime::release_all() noexcept {
  // Kernels and modules first, then memory, then per-device objects, then the contexts.
  for (auto &entry : kernels_) {
    KernelRecord &rec = *entry.second;
    if (rec.alive) {
      zeKernelDestroy(rec.kernel);
      zeModuleDestroy(rec.module);
      rec.alive = false;
    }
  }
  kernels_.clear();
  for (auto &entry : allocations_) zeMemFree(entry.second.context, reinterpret_cast<void *>(entry.first));
  allocations_.clear();
  for (auto &dev : devices_) {
    if (dev->event) zeEventDestroy(dev->event);
    if (dev->event_pool) zeEventPoolDestroy(dev->event_pool);
    if (dev->list) zeCommandListDestroy(dev->list);
    dev->event = nullptr;
    dev->event_pool = nullptr;
    dev->list = nullptr;
  }
  devices_.clear();
  for (auto &entry : contexts_) zeContextDestroy(entry.second);
  contexts_.clear();
}

void Runtime::shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  if (!initialized_) return;
  initialized_ = false;
  // Let in-flight work finish before its kernels and memory go away; bounded, as a hung device
  // must not hang interpreter exit.
  for (auto &dev : devices_) {
    if (!dev->list || !dev->event) continue;
    std::lock_guard<std::mutex> lock(dev->sync_mutex);
    if (zeCommandListAppendBarrier(dev->list, dev->event, 0, nullptr) == ZE_RESULT_SUCCESS) {
      zeEventHostSynchronize(dev->event, 10ull * 1000 * 1000 * 1000);
      zeEventHostReset(dev->event);
    }
  }
  release_all();
}

DeviceInfo Runtime::device_info(size_t index) {
  Device &dev = device(index);
  DeviceInfo info{};
  info.props.stype = ZE_STRUCTURE_TYPE_DEVICE_PROPERTIES;
#ifdef ZE_DEVICE_IP_VERSION_EXT_NAME
  ze_device_ip_version_ext_t ip{};
  ip.stype = ZE_STRUCTURE_TYPE_DEVICE_IP_VERSION_EXT;
  info.props.pNext = &ip;
#endif
  check(zeDeviceGetProperties(dev.handle, &info.props), "zeDeviceGetProperties");
#ifdef ZE_DEVICE_IP_VERSION_EXT_NAME
  info.props.pNext = nullptr;
  info.has_ip_version = ip.ipVersion != 0;
  info.ip_version = ip.ipVersion;
#endif
  info.compute.stype = ZE_STRUCTURE_TYPE_DEVICE_COMPUTE_PROPERTIES;
  check(zeDeviceGetComputeProperties(dev.handle, &info.compute), "zeDeviceGetComputeProperties");
  info.module.stype = ZE_STRUCTURE_TYPE_DEVICE_MODULE_PROPERTIES;
  check(zeDeviceGetModuleProperties(dev.handle, &info.module), "zeDeviceGetModuleProperties");
  info.driver.stype = ZE_STRUCTURE_TYPE_DRIVER_PROPERTIES;
  check(zeDriverGetProperties(dev.driver, &info.driver), "zeDriverGetProperties");
  check(zeDriverGetApiVersion(dev.driver, &info.api_version), "zeDriverGetApiVersion");
  uint32_t num_memories = 0;
  if (zeDeviceGetMemoryProperties(dev.handle, &num_memories, nullptr) == ZE_RESULT_SUCCESS && num_memories) {
    std::vector<ze_device_memory_properties_t> mems(num_memories);
    for (auto &m : mems) {
      m = {};
      m.stype = ZE_STRUCTURE_TYPE_DEVICE_MEMORY_PROPERTIES;
    }
    if (zeDeviceGetMemoryProperties(dev.handle, &num_memories, mems.data()) == ZE_RESULT_SUCCESS)
      for (uint32_t i = 0; i < num_memories; ++i) info.total_memory += mems[i].totalSize;
  }
  return info;
}

KernelProps kernel_properties(ze_kernel_handle_t kernel) {
  ze_kernel_properties_t p{};
  p.stype = ZE_STRUCTURE_TYPE_KERNEL_PROPERTIES;
  check(zeKernelGetProperties(kernel, &p), "zeKernelGetProperties");
  KernelProps out;
  out.num_args = p.numKernelArgs;
  out.spill_mem_size = p.spillMemSize;
  out.private_mem_size = p.privateMemSize;
  out.local_mem_size = p.localMemSize;
  out.max_subgroup_size = p.maxSubgroupSize;
  out.required_subgroup_size = p.requiredSubgroupSize;
  out.max_num_subgroups = p.maxNumSubgroups;
  out.required_group_size = {p.requiredGroupSizeX, p.requiredGroupSizeY, p.requiredGroupSizeZ};
  return out;
}

LoadedKernel Runtime::load_native(size_t index, const uint8_t *data, size_t size, const std::string &kernel_name,
                                  ze_context_handle_t context) {
  Device &dev = device(index);
  if (!context) context = dev.context;
  ze_module_desc_t desc{ZE_STRUCTURE_TYPE_MODULE_DESC, nullptr, ZE_MODULE_FORMAT_NATIVE, size, data, nullptr,
                        nullptr};
  ze_module_handle_t module = nullptr;
  ze_module_build_log_handle_t log_handle = nullptr;
  auto start = std::chrono::steady_clock::now();
  ze_result_t r = zeModuleCreate(context, dev.handle, &desc, &module, &log_handle);
  double ms = ms_since(start);
  std::string log = read_build_log(log_handle);
  if (r != ZE_RESULT_SUCCESS) {
    if (module) zeModuleDestroy(module);
    throw_failure("zeModuleCreate", r, log);
  }
  if (log_says_recompiled_from_ir(log)) {
    zeModuleDestroy(module);
    throw ZeFailure("zeModuleCreate", RESULT_RECOMPILED_FROM_IR, log);
  }
  ze_kernel_desc_t kdesc{ZE_STRUCTURE_TYPE_KERNEL_DESC, nullptr, 0, kernel_name.c_str()};
  ze_kernel_handle_t kernel = nullptr;
  r = zeKernelCreate(module, &kdesc, &kernel);
  if (r != ZE_RESULT_SUCCESS) {
    zeModuleDestroy(module);
    throw_failure("zeKernelCreate", r, log);
  }
  LoadedKernel out;
  try {
    out.props = kernel_properties(kernel);
  } catch (...) {
    zeKernelDestroy(kernel);
    zeModuleDestroy(module);
    throw;
  }
  auto rec = std::make_shared<KernelRecord>();
  rec->module = module;
  rec->kernel = kernel;
  rec->context = context;
  rec->device_index = index;
  rec->num_args = out.props.num_args;
  rec->name = kernel_name;
  kernels_.emplace(kernel, rec);
  out.record = std::move(rec);
  out.build_log = std::move(log);
  out.ms = ms;
  return out;
}

std::shared_ptr<KernelRecord> Runtime::find_kernel(uintptr_t kernel) const {
  auto it = kernels_.find(reinterpret_cast<ze_kernel_handle_t>(kernel));
  return it == kernels_.end() ? nullptr : it->second;
}

void Runtime::unload(uintptr_t module, uintptr_t kernel) {
  if (shut_down_) return;  // everything was released already
  auto it = kernels_.find(reinterpret_cast<ze_kernel_handle_t>(kernel));
  if (it == kernels_.end()) throw std::invalid_argument("unload: unknown kernel handle (not from load_native, "
                                                        "or already unloaded)");
  KernelRecord &rec = *it->second;
  if (reinterpret_cast<uintptr_t>(rec.module) != module)
    throw std::invalid_argument("unload: the kernel does not belong to that module");
  rec.alive = false;
  ze_kernel_handle_t k = rec.kernel;
  ze_module_handle_t m = rec.module;
  kernels_.erase(it);
  check(zeKernelDestroy(k), "zeKernelDestroy");
  check(zeModuleDestroy(m), "zeModuleDestroy");
}

uintptr_t Runtime::alloc(size_t index, size_t nbytes, MemKind kind) {
  Device &dev = device(index);
  constexpr size_t alignment = 64;
  void *ptr = nullptr;
  ze_device_mem_alloc_desc_t ddesc{ZE_STRUCTURE_TYPE_DEVICE_MEM_ALLOC_DESC, nullptr, 0, 0};
  ze_host_mem_alloc_desc_t hdesc{ZE_STRUCTURE_TYPE_HOST_MEM_ALLOC_DESC, nullptr, 0};
  switch (kind) {
    case MemKind::Device:
      check(zeMemAllocDevice(dev.context, &ddesc, nbytes, alignment, dev.handle, &ptr), "zeMemAllocDevice");
      break;
    case MemKind::Shared:
      check(zeMemAllocShared(dev.context, &ddesc, &hdesc, nbytes, alignment, dev.handle, &ptr),
            "zeMemAllocShared");
      break;
    case MemKind::Host:
      check(zeMemAllocHost(dev.context, &hdesc, nbytes, alignment, &ptr), "zeMemAllocHost");
      break;
  }
  auto address = reinterpret_cast<uintptr_t>(ptr);
  allocations_[address] = Allocation{nbytes, dev.context};
  return address;
}

void Runtime::free(uintptr_t ptr) {
  if (shut_down_) return;  // released with its context at shutdown
  auto it = allocations_.find(ptr);
  if (it == allocations_.end())
    throw std::invalid_argument("free: address " + std::to_string(ptr) + " was not returned by alloc (or was "
                                "freed already)");
  ze_context_handle_t context = it->second.context;
  allocations_.erase(it);
  check(zeMemFree(context, reinterpret_cast<void *>(ptr)), "zeMemFree");
}

const Runtime::Allocation *Runtime::allocation_at(uintptr_t address) const {
  auto it = allocations_.upper_bound(address);
  if (it == allocations_.begin()) return nullptr;
  --it;  // the allocation starting at or below the address
  return address < it->first + it->second.size ? &it->second : nullptr;
}

bool Runtime::is_context_memory(const Device &dev, uintptr_t address) const {
  const Allocation *a = allocation_at(address);
  return a && a->context == dev.context;
}

bool Runtime::owns(uintptr_t address) const { return allocation_at(address) != nullptr; }

std::string Runtime::memory_type(const Device &dev, uintptr_t address, ze_context_handle_t context) const {
  ze_memory_allocation_properties_t props{ZE_STRUCTURE_TYPE_MEMORY_ALLOCATION_PROPERTIES, nullptr,
                                          ZE_MEMORY_TYPE_UNKNOWN, 0, 0};
  ze_device_handle_t owner = nullptr;
  if (zeMemGetAllocProperties(context ? context : dev.context, reinterpret_cast<const void *>(address), &props,
                              &owner) !=
      ZE_RESULT_SUCCESS)
    return "unknown";
  switch (props.type) {
    case ZE_MEMORY_TYPE_DEVICE: return "device";
    case ZE_MEMORY_TYPE_HOST: return "host";
    case ZE_MEMORY_TYPE_SHARED: return "shared";
    default: return "unknown";
  }
}

CompiledModule Runtime::compile_spirv(size_t index, const uint8_t *data, size_t size, const std::string &flags) {
  Device &dev = device(index);
  // IGC 1.0.12504 ends the process (exit code 1, no message) on input that is not SPIR-V, so at
  // least the header is checked here: 5 words, little-endian magic 0x07230203.
  uint32_t magic = 0;
  if (size >= 4) std::memcpy(&magic, data, sizeof magic);
  if (size < 20 || size % 4 != 0 || magic != 0x07230203u)
    throw std::invalid_argument("compile_spirv: not a little-endian SPIR-V module (" + std::to_string(size) +
                                " bytes, first word " + hex32(magic) + ", expected 0x07230203 and a multiple "
                                "of 4 bytes, at least 20)");
  ze_module_desc_t desc{ZE_STRUCTURE_TYPE_MODULE_DESC, nullptr, ZE_MODULE_FORMAT_IL_SPIRV, size, data,
                        flags.c_str(), nullptr};
  ze_module_handle_t module = nullptr;
  ze_module_build_log_handle_t log_handle = nullptr;
  auto start = std::chrono::steady_clock::now();
  ze_result_t r = zeModuleCreate(dev.context, dev.handle, &desc, &module, &log_handle);
  CompiledModule out;
  out.ms = ms_since(start);
  out.build_log = read_build_log(log_handle);
  if (r != ZE_RESULT_SUCCESS) {
    if (module) zeModuleDestroy(module);
    throw_failure("zeModuleCreate", r, out.build_log);
  }
  try {
    size_t nbytes = 0;
    check(zeModuleGetNativeBinary(module, &nbytes, nullptr), "zeModuleGetNativeBinary");
    out.binary.resize(nbytes);
    check(zeModuleGetNativeBinary(module, &nbytes, reinterpret_cast<uint8_t *>(out.binary.data())),
          "zeModuleGetNativeBinary");
    out.binary.resize(nbytes);
    uint32_t count = 0;
    check(zeModuleGetKernelNames(module, &count, nullptr), "zeModuleGetKernelNames");
    std::vector<const char *> names(count);
    if (count) check(zeModuleGetKernelNames(module, &count, names.data()), "zeModuleGetKernelNames");
    for (uint32_t i = 0; i < count; ++i) {
      std::string name = names[i];
      ze_kernel_desc_t kdesc{ZE_STRUCTURE_TYPE_KERNEL_DESC, nullptr, 0, name.c_str()};
      ze_kernel_handle_t kernel = nullptr;
      CompiledModule::Kernel entry{name, {}, 0};
      ze_result_t created = zeKernelCreate(module, &kdesc, &kernel);
      if (created != ZE_RESULT_SUCCESS) {
        entry.create_result = static_cast<uint32_t>(created);
      } else {
        try {
          entry.props = kernel_properties(kernel);
        } catch (...) {
          zeKernelDestroy(kernel);
          throw;
        }
        zeKernelDestroy(kernel);
      }
      out.kernels.push_back(std::move(entry));
    }
  } catch (...) {
    zeModuleDestroy(module);
    throw;
  }
  zeModuleDestroy(module);
  return out;
}

double raw_launch_loop(ze_kernel_handle_t kernel, Device &dev, const ze_group_count_t &groups,
                       const std::vector<RawArg> &args, uint64_t iterations) {
  const auto num_args = static_cast<uint32_t>(args.size());
  auto start = std::chrono::steady_clock::now();
  for (uint64_t it = 0; it < iterations; ++it) {
    for (uint32_t i = 0; i < num_args; ++i)
      check(zeKernelSetArgumentValue(kernel, i, args[i].size, args[i].null ? nullptr : args[i].value.data()),
            "zeKernelSetArgumentValue");
    check(zeCommandListAppendLaunchKernel(dev.list, kernel, &groups, nullptr, 0, nullptr),
          "zeCommandListAppendLaunchKernel");
  }
  auto ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
  return iterations ? ns / static_cast<double>(iterations) : 0.0;
}

// --------------------------------------------------------------------------------------------
// Float rounding

}  // namespace triton_xpu
