// The native-only Level Zero runtime behind triton.backends.intel._level_zero.
//
// Plain C++ (no Python): the process-wide state (drivers, contexts, devices with
// their immediate command lists), loading native binaries, memory, and the
// device's own SPIR-V compiler as a compile-time generator.  The Python binding
// (lib/level_zero_module.cpp) adds argument conversion, the GIL handling and the
// exception translation on top.
//
// Threading: every function here expects its caller to serialise calls (the
// binding holds the GIL), except Device::wait_sync_event, which runs with the GIL
// released while its caller holds Device::sync_mutex, and Runtime::compile_spirv,
// which touches no runtime state besides reading the device list.
#pragma once

#include <level_zero/ze_api.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

namespace triton_xpu {

// Not a ze_result_t: the result a native load reports when the driver's build log says it
// recompiled the module from the SPIR-V embedded in the binary instead of loading the native
// code (NEO's -Wrecompiled-from-ir warning).  Chosen in the range the Level Zero spec leaves
// to experimental results (0x7ff....); result_name() calls it "RECOMPILED_FROM_IR".
constexpr uint32_t RESULT_RECOMPILED_FROM_IR = 0x7fff0001u;

// The ze_result_t name ("ZE_RESULT_ERROR_INVALID_NATIVE_BINARY"), "RECOMPILED_FROM_IR", or
// "ZE_RESULT_0x...." for a value these headers do not know.
std::string result_name(uint32_t result);

// A failed Level Zero call: what the binding turns into the Python ZeError.
class ZeFailure : public std::runtime_error {
 public:
  ZeFailure(std::string call, uint32_t result, std::string log = {});
  const std::string call;
  const uint32_t result;
  const std::string log;  // the driver's build log, or ""
};

[[noreturn]] void throw_failure(const char *call, ze_result_t result, std::string log = {});

inline void check(ze_result_t result, const char *call) {
  if (result != ZE_RESULT_SUCCESS) throw_failure(call, result);
}

// One device: its context (shared with the other devices of its driver), the immediate command
// list everything is appended to, and one host-visible event to wait on that list.
struct Device {
  size_t index = 0;
  ze_driver_handle_t driver = nullptr;
  ze_context_handle_t context = nullptr;
  ze_device_handle_t handle = nullptr;
  uint32_t compute_ordinal = 0;
  ze_command_list_handle_t list = nullptr;
  ze_event_pool_handle_t event_pool = nullptr;
  ze_event_handle_t event = nullptr;
  std::mutex sync_mutex;  // one waiter at a time owns `event`

  // Appends a barrier signalling `event` to the list (caller serialises appends).
  void append_sync_barrier();
  // Waits for the event appended by append_sync_barrier, then resets it; may run without the GIL
  // while holding sync_mutex.
  void wait_sync_event(uint64_t timeout_ns = UINT64_MAX);
};

// A kernel loaded by load_native, shared by the Launchers created for it.  `alive` turns false
// when the kernel is unloaded or the runtime shuts down, so a Launcher never touches a
// destroyed handle.
struct KernelRecord {
  ze_module_handle_t module = nullptr;
  ze_kernel_handle_t kernel = nullptr;
  ze_context_handle_t context = nullptr;  // the device's own, or another owner's (a SYCL queue's)
  size_t device_index = 0;
  uint32_t num_args = 0;
  std::string name;
  bool alive = true;
  std::array<uint32_t, 3> group_size{0, 0, 0};  // last zeKernelSetGroupSize, 0s when never set
};

struct KernelProps {
  uint32_t num_args = 0;
  uint32_t spill_mem_size = 0;
  uint32_t private_mem_size = 0;
  uint32_t local_mem_size = 0;
  uint32_t max_subgroup_size = 0;
  uint32_t required_subgroup_size = 0;
  uint32_t max_num_subgroups = 0;
  std::array<uint32_t, 3> required_group_size{0, 0, 0};
};

KernelProps kernel_properties(ze_kernel_handle_t kernel);

struct LoadedKernel {
  std::shared_ptr<KernelRecord> record;
  KernelProps props;
  std::string build_log;
  double ms = 0;  // zeModuleCreate wall time
};

struct CompiledModule {
  std::string binary;  // zeModuleGetNativeBinary
  std::string build_log;
  double ms = 0;  // zeModuleCreate wall time
  struct Kernel {
    std::string name;
    KernelProps props;
    uint32_t create_result = 0;  // zeKernelCreate's result; props are zeros when it failed
  };
  std::vector<Kernel> kernels;
};

enum class MemKind { Device, Shared, Host };

struct DeviceInfo {
  ze_device_properties_t props;
  ze_device_compute_properties_t compute;
  ze_device_module_properties_t module;
  ze_driver_properties_t driver;
  ze_api_version_t api_version;
  uint64_t total_memory = 0;
  bool has_ip_version = false;
  uint32_t ip_version = 0;
};

// Whether a module build log says the driver did not use the native code it was given.
bool log_says_recompiled_from_ir(const std::string &log);

class Runtime {
 public:
  // The process-wide runtime; never destroyed by C++ static destruction (shutdown() releases it).
  static Runtime &get();

  void init();
  bool initialized() const { return initialized_; }
  bool is_shut_down() const { return shut_down_; }
  // Waits for each device (bounded), then destroys kernels, modules, allocations, events, command
  // lists and contexts, in that order.  Idempotent; later calls of free/unload are no-ops.
  void shutdown();

  size_t device_count() const { return devices_.size(); }
  Device &device(size_t index);  // std::out_of_range for a bad index
  DeviceInfo device_info(size_t index);

  // In the device's own context, or in `context` when given: another owner's context holding the same
  // device (a SYCL queue's), which must outlive the kernel.
  LoadedKernel load_native(size_t index, const uint8_t *data, size_t size, const std::string &kernel_name,
                           ze_context_handle_t context = nullptr);
  void unload(uintptr_t module, uintptr_t kernel);
  std::shared_ptr<KernelRecord> find_kernel(uintptr_t kernel) const;  // nullptr when unknown

  uintptr_t alloc(size_t index, size_t nbytes, MemKind kind);
  void free(uintptr_t ptr);
  // Whether `address` lies in a live allocation of this runtime in `dev`'s context (no driver call).  The
  // runtime's contexts are its own: nothing else allocates in them, so this is all their memory.  (NEO's
  // zeMemGetAllocProperties cannot say it: it answers for any context of the driver.)
  bool is_context_memory(const Device &dev, uintptr_t address) const;
  // Whether `address` lies in a live allocation of this runtime, in any of its contexts.
  bool owns(uintptr_t address) const;
  // zeMemGetAllocProperties' memory type of `address` in `dev`'s context (or `context`): "device", "host",
  // "shared" or "unknown" (not memory of that context).
  std::string memory_type(const Device &dev, uintptr_t address, ze_context_handle_t context = nullptr) const;

  CompiledModule compile_spirv(size_t index, const uint8_t *data, size_t size, const std::string &flags);

 private:
  Runtime() = default;
  void require_initialized() const;
  void release_all() noexcept;

  bool initialized_ = false;
  bool shut_down_ = false;
  std::vector<std::pair<ze_driver_handle_t, ze_context_handle_t>> contexts_;
  std::vector<std::unique_ptr<Device>> devices_;
  std::unordered_map<ze_kernel_handle_t, std::shared_ptr<KernelRecord>> kernels_;
  struct Allocation {
    size_t size = 0;
    ze_context_handle_t context = nullptr;
  };
  std::map<uintptr_t, Allocation> allocations_;  // by base address, for the range lookups of launches
  const Allocation *allocation_at(uintptr_t address) const;
};

// The baseline of the host-overhead benchmark: `iterations` times, zeKernelSetArgumentValue for
// each (size, value) and zeCommandListAppendLaunchKernel on the device's list.  Returns the mean
// nanoseconds per iteration.
struct RawArg {
  size_t size = 0;
  std::string value;  // at least `size` bytes
  bool null = false;  // pass a null pArgValue (a null pointer argument)
};
double raw_launch_loop(ze_kernel_handle_t kernel, Device &dev, const ze_group_count_t &groups,
                       const std::vector<RawArg> &args, uint64_t iterations);


}  // namespace triton_xpu
