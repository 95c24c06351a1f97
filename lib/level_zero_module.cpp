// triton.backends.intel._level_zero: the Python face of the native-only Level Zero runtime.
//
// The driver only loads native binaries (zebin) the compiler produced; it never hands SPIR-V to
// the device's compiler at load time, and refuses a native binary the driver would silently
// recompile from its embedded SPIR-V.  compile_spirv exists for compile-time generation and as
// the SPIR-V-JIT-at-load baseline of a benchmark; the load path never uses it.
#include <pybind11/pybind11.h>
#include <pybind11/eval.h>
#include <pybind11/stl.h>

#include <cstring>
#include <string>
#include <vector>

#include "triton_xpu/launch_args.h"
#include "triton_xpu/vectorcall_launcher.h"
#include "triton_xpu/level_zero_runtime.h"

namespace py = pybind11;
using namespace triton_xpu;

namespace {

// The ZeError class (defined in Python source below, so it is an ordinary, picklable exception).
PyObject *g_ze_error = nullptr;

const char *const kZeErrorSource = R"PY(
class ZeError(RuntimeError):
    """A Level Zero call failed.

    Attributes: ``call`` (the ze function that failed), ``result`` (its ze_result_t as an int),
    ``result_name`` (e.g. ``"ZE_RESULT_ERROR_INVALID_NATIVE_BINARY"``) and ``log`` (the driver's
    module build log, or ``""``).  ``result_name == "RECOMPILED_FROM_IR"`` (``result`` ==
    ``RESULT_RECOMPILED_FROM_IR``, not a ze_result_t) means the driver would have recompiled a
    native binary from its embedded SPIR-V because the binary does not match the device.
    """

    def __init__(self, call, result, result_name, log=""):
        self.call = call
        self.result = result
        self.result_name = result_name
        self.log = log
        message = f"{call} failed: {result_name} (0x{result:08x})"
        if log:
            message += "\n--- build log ---\n" + log.rstrip() + "\n-----------------"
        super().__init__(message)

    def __reduce__(self):
        return (type(self), (self.call, self.result, self.result_name, self.log))


class ForeignPointerError(ValueError):
    """A launch's pointer argument ``index`` (among the runtime arguments) holds ``address``, which is not
    memory of the device's Level Zero context; nothing was launched."""

    def __init__(self, index, address):
        self.index = index
        self.address = address
        super().__init__(f"kernel argument {index}: 0x{address:x} is not memory of the device's context")

    def __reduce__(self):
        return (type(self), (self.index, self.address))
)PY";

PyObject *g_foreign_pointer_error = nullptr;

// A pointer argument that is not memory of the launching device's context (see Launcher::call).
struct ForeignPointer : std::runtime_error {
  ForeignPointer(size_t index, uint64_t address)
      : std::runtime_error("foreign pointer argument"), index(index), address(address) {}
  size_t index;
  uint64_t address;
};

void raise_ze_error(const ZeFailure &e) {
  py::object cls = py::reinterpret_borrow<py::object>(g_ze_error);
  py::object exc = cls(e.call, e.result, result_name(e.result), e.log);
  PyErr_SetObject(g_ze_error, exc.ptr());
}

Runtime &rt() { return Runtime::get(); }

std::shared_ptr<KernelRecord> known_kernel_any_device(uintptr_t kernel, const char *who) {
  auto rec = rt().find_kernel(kernel);
  if (!rec) throw py::value_error(std::string(who) + ": unknown kernel handle (load it with load_native)");
  return rec;
}

std::shared_ptr<KernelRecord> known_kernel(uintptr_t kernel, size_t index, const char *who) {
  auto rec = rt().find_kernel(kernel);
  if (!rec) throw py::value_error(std::string(who) + ": unknown kernel handle (load it with load_native)");
  if (rec->device_index != index)
    throw py::value_error(std::string(who) + ": kernel was loaded on device " + std::to_string(rec->device_index) +
                          ", not device " + std::to_string(index));
  return rec;
}

void set_group_size(KernelRecord &rec, const std::array<uint32_t, 3> &group) {
  if (rec.group_size == group) return;
  check(zeKernelSetGroupSize(rec.kernel, group[0], group[1], group[2]), "zeKernelSetGroupSize");
  rec.group_size = group;
}

// Appends a barrier and waits for it without holding the GIL; waiters are serialised per device.
void wait_device(Device &dev) {
  py::gil_scoped_release release;
  std::lock_guard<std::mutex> lock(dev.sync_mutex);
  {
    py::gil_scoped_acquire acquire;  // appends are serialised by the GIL
    dev.append_sync_barrier();
  }
  dev.wait_sync_event();
}

// ---------------------------------------------------------------------------------------------
// Launcher: a plain CPython type with vectorcall, so a launch skips pybind11's dispatcher and the
// argument tuple (measured: ~200 ns of pybind11 dispatch per call otherwise).

// Sets the Python error for the C++ exception being handled (outside pybind11's own dispatch).
void set_python_error() {
  try {
    throw;
  } catch (const ZeFailure &e) {
    raise_ze_error(e);
  } catch (const ForeignPointer &e) {
    py::object exc = py::reinterpret_borrow<py::object>(g_foreign_pointer_error)(e.index, e.address);
    PyErr_SetObject(g_foreign_pointer_error, exc.ptr());
  } catch (...) {
    set_common_python_error();
  }
}

class Launcher {
 public:
  Launcher(uintptr_t kernel, size_t index, const std::vector<std::string> &arg_kinds,
           const std::array<uint32_t, 3> &group_size, uint32_t shared_mem)
      : record_(known_kernel(kernel, index, "Launcher")), group_(group_size), shared_mem_(shared_mem) {
    if (!record_->alive) throw std::logic_error("Launcher: the kernel has been unloaded");
    for (size_t i = 0; i < arg_kinds.size(); ++i) kinds_.push_back(parse_kind(arg_kinds[i], i));
    // A Triton kernel that uses shared local memory takes it as one extra, last argument.
    const size_t expected = kinds_.size() + (shared_mem_ ? 1 : 0);
    if (expected != record_->num_args)
      throw py::value_error("Launcher: kernel " + record_->name + " takes " + std::to_string(record_->num_args) +
                            " arguments, arg_kinds lists " + std::to_string(kinds_.size()) +
                            (shared_mem_ ? " plus its shared memory" : ""));
    for (uint32_t g : group_)
      if (g == 0) throw py::value_error("Launcher: group_size entries must be positive");
    device_ = &rt().device(index);
    set_group_size(*record_, group_);
  }

  // launcher(gx, gy, gz, *args): converts each argument by its kind, sets it, appends the launch.
  void call(PyObject *const *args, size_t n) {
    if (n != kinds_.size() + 3) {
      if (n < 3) throw py::type_error("launcher(gx, gy, gz, *args): missing launch grid dimensions");
      throw py::type_error("launcher for " + record_->name + " takes " + std::to_string(kinds_.size()) +
                           " kernel arguments (" + kinds_text() + "), got " + std::to_string(n - 3));
    }
    KernelRecord &rec = *record_;
    if (!rec.alive) throw std::logic_error("launcher: kernel " + rec.name + " has been unloaded");
    ze_group_count_t groups{to_group_count(args[0], "gx"), to_group_count(args[1], "gy"),
                            to_group_count(args[2], "gz")};
    ze_kernel_handle_t kernel = rec.kernel;
    Runtime &runtime = rt();
    for (size_t i = 0; i < kinds_.size(); ++i) {
      ArgValue value;
      convert(kinds_[i], args[i + 3], i, value);
      // NEO 26.x accepts any address here and the kernel faults on the GPU; 22.43 refuses it without
      // saying which argument.  So each pointer must be memory of the device's context: the runtime's own.
      if (kinds_[i] == Kind::Ptr && value.pointer && !runtime.is_context_memory(*device_, value.storage))
        throw ForeignPointer(i, value.storage);
      ze_result_t r = zeKernelSetArgumentValue(kernel, static_cast<uint32_t>(i), value.size, value.pointer);
      if (r != ZE_RESULT_SUCCESS) throw_failure("zeKernelSetArgumentValue", r);
    }
    if (shared_mem_) {  // the local-memory argument: a size and no value
      ze_result_t r = zeKernelSetArgumentValue(kernel, static_cast<uint32_t>(kinds_.size()), shared_mem_, nullptr);
      if (r != ZE_RESULT_SUCCESS) throw_failure("zeKernelSetArgumentValue", r);
    }
    if (groups.groupCountX == 0 || groups.groupCountY == 0 || groups.groupCountZ == 0) return;  // empty grid
    if (rec.group_size != group_) set_group_size(rec, group_);  // another Launcher of this kernel changed it
    ze_result_t r = zeCommandListAppendLaunchKernel(device_->list, kernel, &groups, nullptr, 0, nullptr);
    if (r != ZE_RESULT_SUCCESS) throw_failure("zeCommandListAppendLaunchKernel", r);
  }

  std::string kinds_text() const {
    std::string text;
    for (Kind k : kinds_) text += std::string(text.empty() ? "" : ", ") + kind_name(k);
    return text;
  }

  const std::shared_ptr<KernelRecord> &record() const { return record_; }
  const std::array<uint32_t, 3> &group_size() const { return group_; }
  const std::vector<Kind> &kinds() const { return kinds_; }

 private:
  std::shared_ptr<KernelRecord> record_;
  Device *device_ = nullptr;
  std::vector<Kind> kinds_;
  std::array<uint32_t, 3> group_;
  uint32_t shared_mem_ = 0;  // bytes of shared local memory, passed as the last kernel argument
};

int launcher_init(PyObject *self, PyObject *args, PyObject *kwargs) {
  static const char *keywords[] = {"kernel", "index", "arg_kinds", "group_size", "shared_mem", nullptr};
  PyObject *kernel = nullptr, *index = nullptr, *kinds = nullptr, *group = nullptr;
  unsigned int shared_mem = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOOO|I:Launcher", const_cast<char **>(keywords), &kernel, &index,
                                   &kinds, &group, &shared_mem))
    return -1;
  try {
    auto impl = std::make_unique<Launcher>(
        py::cast<uintptr_t>(py::handle(kernel)), py::cast<size_t>(py::handle(index)),
        py::cast<std::vector<std::string>>(py::handle(kinds)),
        py::cast<std::array<uint32_t, 3>>(py::handle(group)), shared_mem);
    launcher_set_impl(self, impl.release());
  } catch (const py::cast_error &) {
    PyErr_SetString(PyExc_TypeError,
                    "Launcher(kernel: int, index: int, arg_kinds: list[str], group_size: (int, int, int))");
    return -1;
  } catch (...) {
    set_python_error();
    return -1;
  }
  return 0;
}

PyObject *launcher_repr(PyObject *self) {
  Launcher *l = reinterpret_cast<LauncherObject<Launcher> *>(self)->impl;
  if (!l) return PyUnicode_FromString("<Launcher (uninitialised)>");
  const auto &g = l->group_size();
  std::string text = "<Launcher " + l->record()->name + "(" + l->kinds_text() + ") group_size=(" +
                     std::to_string(g[0]) + ", " + std::to_string(g[1]) + ", " + std::to_string(g[2]) + ")>";
  return PyUnicode_FromStringAndSize(text.data(), static_cast<Py_ssize_t>(text.size()));
}

PyObject *launcher_get_kernel(PyObject *self, void *) {
  Launcher *l = launcher_impl<Launcher>(self);
  return l ? PyLong_FromUnsignedLongLong(reinterpret_cast<uintptr_t>(l->record()->kernel)) : nullptr;
}

PyObject *launcher_get_device(PyObject *self, void *) {
  Launcher *l = launcher_impl<Launcher>(self);
  return l ? PyLong_FromSize_t(l->record()->device_index) : nullptr;
}

PyObject *launcher_get_arg_kinds(PyObject *self, void *) {
  Launcher *l = launcher_impl<Launcher>(self);
  if (!l) return nullptr;
  PyObject *list = PyList_New(static_cast<Py_ssize_t>(l->kinds().size()));
  if (!list) return nullptr;
  for (size_t i = 0; i < l->kinds().size(); ++i)
    PyList_SET_ITEM(list, static_cast<Py_ssize_t>(i), PyUnicode_FromString(kind_name(l->kinds()[i])));
  return list;
}

PyObject *launcher_get_group_size(PyObject *self, void *) {
  Launcher *l = launcher_impl<Launcher>(self);
  if (!l) return nullptr;
  const auto &g = l->group_size();
  return Py_BuildValue("(III)", g[0], g[1], g[2]);
}

PyGetSetDef launcher_getset[] = {
    {"kernel", launcher_get_kernel, nullptr, "The kernel handle (from load_native).", nullptr},
    {"device", launcher_get_device, nullptr, "The device index.", nullptr},
    {"arg_kinds", launcher_get_arg_kinds, nullptr, "The argument kinds, normalised ('*fp32' -> 'ptr').", nullptr},
    {"group_size", launcher_get_group_size, nullptr, "The work-group size (x, y, z).", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

const char *const kLauncherDoc = R"doc(Launcher(kernel, index, arg_kinds, group_size, shared_mem=0)

Launches one loaded kernel with Python arguments.  ``kernel`` comes from load_native on device
``index``; ``arg_kinds`` has one kind per kernel argument, from ARG_KINDS: "ptr" (an int address,
an object with a ``data_ptr()`` method, or None for a null pointer; Triton's "*fp32"-style
pointer signatures are accepted as "ptr"), "i1"/"u1" (bool or int, passed as one byte 0/1),
"i8".."i64", "u8".."u64" (ints, range-checked), "fp16", "bf16", "fp32", "fp64" (floats,
rounded to nearest even; fp16/bf16 passed as their 16-bit patterns).  ``group_size`` (x, y, z)
is set once (zeKernelSetGroupSize).  ``shared_mem`` (bytes): a Triton kernel using shared local
memory takes it as one more, last argument, set with that size and no value at every launch.

``launcher(gx, gy, gz, *args)`` converts the arguments in C++, sets each one
(zeKernelSetArgumentValue) and appends the launch of a gx x gy x gz grid to the device's
immediate command list; it does not wait (see synchronize).  A grid with a 0 dimension launches
nothing.  A wrong number or type of arguments raises TypeError naming the argument index and the
expected kind; an int out of the kind's range raises OverflowError (a float beyond the range of
fp16/bf16/fp32 becomes infinity, as a C cast would).  A non-null pointer that is not memory of the
device's context (host memory from malloc, freed memory, another context's) raises
ForeignPointerError and launches nothing.)doc";

PyTypeObject LauncherType = launcher_type<Launcher, set_python_error>(
    "triton.backends.intel._level_zero.Launcher", kLauncherDoc, launcher_init, launcher_getset, launcher_repr);

py::dict kernel_props_dict(const KernelProps &p) {
  py::dict d;
  d["num_args"] = p.num_args;
  d["spill_mem_size"] = p.spill_mem_size;
  d["private_mem_size"] = p.private_mem_size;
  d["local_mem_size"] = p.local_mem_size;
  d["max_subgroup_size"] = p.max_subgroup_size;
  d["required_subgroup_size"] = p.required_subgroup_size;
  d["max_num_subgroups"] = p.max_num_subgroups;
  d["required_group_size"] = py::make_tuple(p.required_group_size[0], p.required_group_size[1],
                                            p.required_group_size[2]);
  return d;
}

void bytes_view(const py::bytes &b, const uint8_t *&data, size_t &size) {
  char *buffer = nullptr;
  Py_ssize_t length = 0;
  if (PyBytes_AsStringAndSize(b.ptr(), &buffer, &length) != 0) throw py::error_already_set();
  data = reinterpret_cast<const uint8_t *>(buffer);
  size = static_cast<size_t>(length);
}

MemKind parse_mem_kind(const std::string &kind) {
  if (kind == "device") return MemKind::Device;
  if (kind == "shared") return MemKind::Shared;
  if (kind == "host") return MemKind::Host;
  throw py::value_error("alloc: kind must be 'device', 'shared' or 'host', got '" + kind + "'");
}

}  // namespace

PYBIND11_MODULE(_level_zero, m) {
  m.doc() = R"doc(The native-only Level Zero runtime of Triton's Intel backend.

The compiler produces native Intel GPU binaries (zebin); this module only loads them
(``load_native``), refusing binaries the driver would recompile from their embedded SPIR-V.
Call ``init()`` before anything else; on a machine without an Intel GPU the caller must first
make zeInit safe (NEO's AUB-capture emulation environment).  Everything holding driver handles
is released at interpreter exit (``atexit``), before the driver library is unloaded.)doc";

  // ZeError, defined in Python so it is a normal exception class with attributes and pickling.
  {
    py::dict ns = m.attr("__dict__");
    py::exec(kZeErrorSource, ns, ns);
    g_ze_error = ns["ZeError"].ptr();
    g_foreign_pointer_error = ns["ForeignPointerError"].ptr();
  }
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ZeFailure &e) {
      raise_ze_error(e);
    } catch (const std::logic_error &e) {
      // Not initialised / shut down / unloaded kernel (invalid_argument, out_of_range and
      // domain_error keep pybind11's ValueError / IndexError mapping).
      if (dynamic_cast<const std::invalid_argument *>(&e) || dynamic_cast<const std::out_of_range *>(&e) ||
          dynamic_cast<const std::domain_error *>(&e) || dynamic_cast<const std::length_error *>(&e))
        throw;
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });

  m.attr("RESULT_RECOMPILED_FROM_IR") = RESULT_RECOMPILED_FROM_IR;
  {
    py::list kinds;
    for (const auto &k : kKinds) kinds.append(k.name);
    m.attr("ARG_KINDS") = py::tuple(kinds);
  }

  m.def(
      "init", []() { rt().init(); },
      R"doc(Initialise Level Zero once (idempotent): zeInit(ZE_INIT_FLAG_GPU_ONLY), then every driver's
devices, one context per driver and, per device, an immediate command list on its compute engine
plus a host-visible event used by synchronize().

The caller guarantees zeInit is safe here (NEO 22.43 crashes in zeInit on a machine without an
Intel GPU unless its AUB-capture emulation is configured in the environment).)doc");

  m.def(
      "device_count", []() { return rt().device_count(); },
      "Number of devices found by init() (over all drivers); device indices are 0..count-1.");

  m.def(
      "device_properties",
      [](size_t index) {
        DeviceInfo info = rt().device_info(index);
        const auto &p = info.props;
        const auto &c = info.compute;
        py::dict d;
        d["name"] = std::string(p.name, strnlen(p.name, sizeof p.name));
        d["device_id"] = p.deviceId;
        d["vendor_id"] = p.vendorId;
        d["type"] = p.type == ZE_DEVICE_TYPE_GPU ? "gpu" : "other";
        d["integrated"] = bool(p.flags & ZE_DEVICE_PROPERTY_FLAG_INTEGRATED);
        d["max_total_group_size"] = c.maxTotalGroupSize;
        d["max_group_size_x"] = c.maxGroupSizeX;
        d["max_group_size_y"] = c.maxGroupSizeY;
        d["max_group_size_z"] = c.maxGroupSizeZ;
        d["max_group_count_x"] = c.maxGroupCountX;
        d["max_group_count_y"] = c.maxGroupCountY;
        d["max_group_count_z"] = c.maxGroupCountZ;
        py::list sizes;
        for (uint32_t i = 0; i < c.numSubGroupSizes && i < ZE_SUBGROUPSIZE_COUNT; ++i) sizes.append(c.subGroupSizes[i]);
        d["sub_group_sizes"] = sizes;
        d["num_threads_per_eu"] = p.numThreadsPerEU;
        d["physical_eu_simd_width"] = p.physicalEUSimdWidth;
        d["num_eus_per_subslice"] = p.numEUsPerSubslice;
        d["num_subslices_per_slice"] = p.numSubslicesPerSlice;
        d["num_slices"] = p.numSlices;
        d["max_shared_local_memory"] = c.maxSharedLocalMemory;
        d["max_mem_alloc_size"] = p.maxMemAllocSize;
        d["total_memory"] = info.total_memory;
        d["core_clock_rate"] = p.coreClockRate;
        d["driver_version"] = info.driver.driverVersion;
        {
          // NEO encodes major.minor.build as 8.8.16 bits (1.3.24595 for compute-runtime 22.43.24595).
          uint32_t v = info.driver.driverVersion;
          d["driver_version_text"] = std::to_string(v >> 24) + "." + std::to_string((v >> 16) & 0xff) + "." +
                                     std::to_string(v & 0xffff);
        }
        {
          static const char digits[] = "0123456789abcdef";
          std::string uuid;
          for (uint8_t byte : p.uuid.id) {
            uuid += digits[byte >> 4];
            uuid += digits[byte & 15];
          }
          d["uuid"] = uuid;
        }
        d["api_version"] = std::to_string(ZE_MAJOR_VERSION(info.api_version)) + "." +
                           std::to_string(ZE_MINOR_VERSION(info.api_version));
        d["has_fp16"] = bool(info.module.flags & ZE_DEVICE_MODULE_FLAG_FP16);
        d["has_fp64"] = bool(info.module.flags & ZE_DEVICE_MODULE_FLAG_FP64);
        d["has_int64_atomics"] = bool(info.module.flags & ZE_DEVICE_MODULE_FLAG_INT64_ATOMICS);
        d["max_argument_size"] = info.module.maxArgumentsSize;
        if (info.has_ip_version) d["ip_version"] = info.ip_version;
        return d;
      },
      py::arg("index"),
      R"doc(The device's properties as a dict: name, device_id, vendor_id, type, integrated,
max_total_group_size, max_group_size_x/y/z, max_group_count_x/y/z, sub_group_sizes (list),
num_threads_per_eu, physical_eu_simd_width, num_eus_per_subslice, num_subslices_per_slice,
num_slices, max_shared_local_memory, max_mem_alloc_size, total_memory, core_clock_rate (MHz),
driver_version (zeDriverGetProperties' encoded int) and driver_version_text (decoded the way
NEO encodes it, "1.3.24595"), uuid (hex), api_version ("1.3"), has_fp16, has_fp64,
has_int64_atomics, max_argument_size, and ip_version (ze_device_ip_version_ext_t) when the
Level Zero headers this was built with offer it (1.8 headers do not: the key is then absent).)doc");

  m.def(
      "load_native",
      [](size_t index, const py::bytes &binary, const std::string &kernel_name, uintptr_t context) {
        const uint8_t *data = nullptr;
        size_t size = 0;
        bytes_view(binary, data, size);
        LoadedKernel k = rt().load_native(index, data, size, kernel_name,
                                          reinterpret_cast<ze_context_handle_t>(context));
        py::dict d = kernel_props_dict(k.props);
        d["module"] = reinterpret_cast<uintptr_t>(k.record->module);
        d["kernel"] = reinterpret_cast<uintptr_t>(k.record->kernel);
        d["build_log"] = k.build_log;
        d["ms"] = k.ms;
        return d;
      },
      py::arg("index"), py::arg("binary"), py::arg("kernel_name"), py::arg("context") = 0,
      R"doc(Load a native binary (zebin) and create its kernel ``kernel_name`` on device ``index``, in the
device's own context or, with ``context`` (a ze_context_handle_t as an int), in another owner's
context holding that device, such as a SYCL queue's; that context must outlive the kernel.

zeModuleCreate with ZE_MODULE_FORMAT_NATIVE and no build flags, zeKernelCreate,
zeKernelGetProperties.  Returns a dict: module, kernel (int handles, for unload and Launcher),
spill_mem_size, private_mem_size, local_mem_size, num_args, max_subgroup_size,
required_subgroup_size, max_num_subgroups, required_group_size, build_log, ms (zeModuleCreate
wall time).

Raises ZeError (with the build log) when the driver rejects the binary or has no such kernel,
and ZeError with result_name "RECOMPILED_FROM_IR" (result RESULT_RECOMPILED_FROM_IR) when the
driver's log says it recompiled the module from the binary's embedded SPIR-V because the native
code does not fit the device: the driver never silently JIT-compiles.  Nothing is leaked on
failure.)doc");

  m.def(
      "unload", [](uintptr_t module, uintptr_t kernel) { rt().unload(module, kernel); }, py::arg("module"),
      py::arg("kernel"),
      "Destroy a kernel and its module from load_native.  Launchers of it then raise instead of "
      "launching.  A no-op after interpreter shutdown has released everything.");

  m.def(
      "alloc",
      [](size_t index, size_t nbytes, const std::string &kind) {
        return rt().alloc(index, nbytes, parse_mem_kind(kind));
      },
      py::arg("index"), py::arg("nbytes"), py::arg("kind") = "device",
      "Allocate ``nbytes`` (64-byte aligned) of 'device', 'shared' or 'host' memory "
      "(zeMemAllocDevice/Shared/Host) in the device's context; returns the address as an int.");

  m.def(
      "free", [](uintptr_t ptr) { rt().free(ptr); }, py::arg("ptr"),
      "Free memory from alloc (zeMemFree).  ValueError for an address alloc did not return; a no-op "
      "after interpreter shutdown has released everything.");

  // For the SYCL part (a separate module): whether an address is memory of this runtime's own contexts,
  // which a SYCL queue's kernel must not be given.
  m.attr("_owns_memory") = py::capsule(reinterpret_cast<void *>(+[](uint64_t address) -> bool {
                                         return rt().initialized() && rt().owns(address);
                                       }),
                                       "triton_xpu.owns_memory");

  m.def(
      "kernel_context",
      [](uintptr_t kernel) {
        return reinterpret_cast<uintptr_t>(known_kernel_any_device(kernel, "kernel_context")->context);
      },
      py::arg("kernel"), "The Level Zero context (an int handle) a kernel from load_native was created in.");

  m.def(
      "owns", [](uintptr_t address) { return rt().owns(address); }, py::arg("address"),
      "Whether ``address`` lies in a live allocation from alloc (memory of this runtime's own contexts).");

  m.def(
      "device_handle", [](size_t index) { return reinterpret_cast<uintptr_t>(rt().device(index).handle); },
      py::arg("index"), "The ze_device_handle_t of device ``index`` as an int (the same in every context).");

  m.def(
      "memory_type",
      [](size_t index, uintptr_t address, uintptr_t context) {
        return rt().memory_type(rt().device(index), address, reinterpret_cast<ze_context_handle_t>(context));
      },
      py::arg("index"), py::arg("address"), py::arg("context") = 0,
      "What the device's context (or ``context``, a ze_context_handle_t as an int) knows ``address`` as "
      "(zeMemGetAllocProperties): 'device', 'host', 'shared', or 'unknown' when it is not memory of that "
      "context.");

  m.def(
      "copy",
      [](uintptr_t dst, uintptr_t src, size_t nbytes, size_t index) {
        Device &dev = rt().device(index);
        check(zeCommandListAppendMemoryCopy(dev.list, reinterpret_cast<void *>(dst),
                                            reinterpret_cast<const void *>(src), nbytes, nullptr, 0, nullptr),
              "zeCommandListAppendMemoryCopy");
        wait_device(dev);
      },
      py::arg("dst"), py::arg("src"), py::arg("nbytes"), py::arg("index"),
      "Copy ``nbytes`` from ``src`` to ``dst`` (any memory the device can reach, host memory included) "
      "on the device's command list, after the work already appended, and wait for it.");

  m.def(
      "synchronize", [](size_t index) { wait_device(rt().device(index)); }, py::arg("index"),
      "Wait until everything appended to the device's command list has completed (a barrier signalling "
      "a host-visible event, then zeEventHostSynchronize without holding the GIL).");

  if (PyType_Ready(&LauncherType) < 0) throw py::error_already_set();
  Py_INCREF(&LauncherType);
  m.add_object("Launcher", py::reinterpret_borrow<py::object>(reinterpret_cast<PyObject *>(&LauncherType)));

  m.def(
      "raw_launch_loop",
      [](uintptr_t kernel, size_t index, uint32_t gx, uint32_t gy, uint32_t gz, const py::list &args,
         uint64_t iterations, const py::object &group_size) {
        auto rec = known_kernel(kernel, index, "raw_launch_loop");
        if (!rec->alive) throw std::logic_error("raw_launch_loop: the kernel has been unloaded");
        Device &dev = rt().device(index);
        if (!group_size.is_none()) set_group_size(*rec, group_size.cast<std::array<uint32_t, 3>>());
        std::vector<RawArg> raw;
        for (size_t i = 0; i < args.size(); ++i) {
          py::tuple t = args[i].cast<py::tuple>();
          if (t.size() != 2) throw py::type_error("raw_launch_loop: args[" + std::to_string(i) +
                                                  "] must be a (size, bytes) tuple");
          RawArg a;
          a.size = t[0].cast<size_t>();
          if (t[1].is_none()) {
            a.null = true;
          } else {
            a.value = t[1].cast<std::string>();
            if (a.value.size() < a.size)
              throw py::value_error("raw_launch_loop: args[" + std::to_string(i) + "] has fewer than " +
                                    std::to_string(a.size) + " bytes");
          }
          raw.push_back(std::move(a));
        }
        ze_group_count_t groups{gx, gy, gz};
        return raw_launch_loop(rec->kernel, dev, groups, raw, iterations);
      },
      py::arg("kernel"), py::arg("index"), py::arg("gx"), py::arg("gy"), py::arg("gz"), py::arg("args"),
      py::arg("iterations"), py::kw_only(), py::arg("group_size") = py::none(),
      R"doc(The host-overhead baseline: a C++ loop that, ``iterations`` times, calls
zeKernelSetArgumentValue for each ``(size, value_bytes)`` of ``args`` (value None: a null
pointer) and zeCommandListAppendLaunchKernel with (gx, gy, gz).  Returns nanoseconds per
iteration.  ``kernel`` must come from load_native; its group size is the last one set (by a
Launcher, or by the optional keyword ``group_size``).  Does not wait for the launches.)doc");

  m.def(
      "compile_spirv",
      [](size_t index, const py::bytes &spirv, const std::string &build_flags) {
        const uint8_t *data = nullptr;
        size_t size = 0;
        bytes_view(spirv, data, size);
        rt().device(index);  // validate while holding the GIL
        CompiledModule cm;
        {
          py::gil_scoped_release release;
          cm = rt().compile_spirv(index, data, size, build_flags);
        }
        py::dict kernels;
        for (const auto &k : cm.kernels) {
          if (k.create_result == 0) {
            kernels[py::str(k.name)] = kernel_props_dict(k.props);
          } else {
            py::dict failed;
            failed["error"] = result_name(k.create_result);
            kernels[py::str(k.name)] = failed;
          }
        }
        py::dict d;
        d["binary"] = py::bytes(cm.binary);
        d["build_log"] = cm.build_log;
        d["ms"] = cm.ms;
        d["kernels"] = kernels;
        return d;
      },
      py::arg("index"), py::arg("spirv"), py::arg("build_flags") = "",
      R"doc(Compile SPIR-V with the device's own compiler (zeModuleCreate, ZE_MODULE_FORMAT_IL_SPIRV,
``build_flags``): a compile-time generator and the SPIR-V-JIT-at-load baseline; the driver's load
path never uses it.  Returns a dict: binary (bytes, zeModuleGetNativeBinary), build_log, ms
(zeModuleCreate wall time), kernels ({name: properties as in load_native, or {"error":
result_name} when zeKernelCreate fails for it}).  Raises ZeError with the build log on failure,
ValueError for bytes without a SPIR-V header.  Runs without holding the GIL.

Beware: the device compiler (IGC 1.0.12504 on Debian 12) terminates the process with exit code 1
on malformed SPIR-V that has a valid header (e.g. truncated); run untrusted input in a subprocess.)doc");

  m.def(
      "_pack_arg",
      [](const std::string &kind, const py::object &value) {
        ArgValue v;
        convert(parse_kind(kind, 0), value.ptr(), 0, v);
        if (!v.pointer) return py::bytes(std::string(v.size, '\0'));
        return py::bytes(reinterpret_cast<const char *>(v.pointer), v.size);
      },
      py::arg("kind"), py::arg("value"),
      "The bytes a Launcher passes to zeKernelSetArgumentValue for ``value`` of ``kind`` (for tests; "
      "a null pointer gives 8 zero bytes).");

  m.def(
      "_shutdown", []() { rt().shutdown(); },
      "Release every handle (what the atexit hook does); afterwards free/unload are no-ops and the "
      "rest raise RuntimeError.");

  m.def(
      "result_name", [](uint32_t result) { return result_name(result); }, py::arg("result"),
      "The name of a ze_result_t value (or RECOMPILED_FROM_IR).");

  // Release driver handles while the interpreter and the driver library are alive.
  py::module_::import("atexit").attr("register")(py::cpp_function([]() { Runtime::get().shutdown(); }));
}
