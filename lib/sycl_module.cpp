// triton.backends.intel._syclN: launching native kernels on a caller's SYCL queue (PyTorch's, dpctl's).
//
// Built once per SYCL runtime ABI (libsycl.so.N, headers from PyPI's intel-sycl-rt) and loaded only when a
// queue of that runtime is used, so that importing Triton, compiling and the plain Level Zero driver never
// load libsycl.
// The native module is created by _level_zero in the queue's Level Zero context; here it is wrapped as a
// SYCL kernel (make_kernel_bundle / make_kernel, the driver keeping ownership) and submitted on the queue,
// in order with the queue's other work.  No SPIR-V on that path: the module is native code (the one SPIR-V entry,
// executor_kernel_from_spirv, serves the numeric tests' CPU device and refuses Level Zero queues).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <level_zero/ze_api.h>
#include <sycl/sycl.hpp>
#include <sycl/ext/oneapi/backend/level_zero.hpp>
#include <sycl/kernel_bundle.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "triton_xpu/launch_args.h"
#include "triton_xpu/vectorcall_launcher.h"

namespace py = pybind11;
using namespace triton_xpu;
namespace ze_interop = sycl::ext::oneapi::level_zero;
constexpr auto kLevelZero = sycl::backend::ext_oneapi_level_zero;

namespace {

sycl::queue &queue_at(uintptr_t address) {
  if (!address) throw py::value_error("a null sycl::queue*");
  return *reinterpret_cast<sycl::queue *>(address);
}

// A pointer argument that is not memory of the queue's context; _level_zero's ForeignPointerError.
struct ForeignPointer {
  size_t index;
  uint64_t address;
};

// The queue at a launcher's address is no longer the one it was made for.
struct StaleQueue {};

py::object g_foreign_pointer_error;
bool (*g_owned_by_level_zero_runtime)(uint64_t) = nullptr;  // _level_zero's own memory (see _owns_memory)
py::object g_stale_queue_error;

py::dict queue_info(uintptr_t address) {
  sycl::queue &q = queue_at(address);
  const sycl::backend backend = q.get_backend();
  if (backend != kLevelZero)
    throw py::value_error("the SYCL queue is not on the Level Zero backend (its backend is " +
                          std::string(backend == sycl::backend::opencl ? "OpenCL" : "another one") +
                          "); select a Level Zero device, e.g. ONEAPI_DEVICE_SELECTOR=level_zero:gpu");
  py::dict d;
  d["context"] = reinterpret_cast<uintptr_t>(sycl::get_native<kLevelZero>(q.get_context()));
  d["device"] = reinterpret_cast<uintptr_t>(sycl::get_native<kLevelZero>(q.get_device()));
  d["in_order"] = q.is_in_order();
  d["device_name"] = q.get_device().get_info<sycl::info::device::name>();
  return d;
}

// A native Level Zero kernel seen as a SYCL kernel of the queue's context (the caller keeps ownership of
// the Level Zero module and kernel, which must outlive it).
struct SyclKernel {
  sycl::context context;
  sycl::kernel_bundle<sycl::bundle_state::executable> bundle;
  sycl::kernel kernel;
};

std::shared_ptr<SyclKernel> make_kernel(uintptr_t queue, uintptr_t module, uintptr_t kernel) {
  sycl::context ctx = queue_at(queue).get_context();
  auto bundle = sycl::make_kernel_bundle<kLevelZero, sycl::bundle_state::executable>(
      {reinterpret_cast<ze_module_handle_t>(module), ze_interop::ownership::keep}, ctx);
  auto k = sycl::make_kernel<kLevelZero>({bundle, reinterpret_cast<ze_kernel_handle_t>(kernel),
                                          ze_interop::ownership::keep},
                                         ctx);
  return std::make_shared<SyclKernel>(SyclKernel{ctx, bundle, k});
}

// A SYCL kernel built from SPIR-V, for the numeric tests' CPU executor only (python/test/numeric/): Intel's CPU
// OpenCL device cannot run native GPU code, so there the executor hands the SyclLauncher a kernel built from the
// same compile's SPIR-V.  The driver never calls this and it refuses Level Zero queues: GPUs get native binaries.
std::shared_ptr<SyclKernel> executor_kernel_from_spirv(uintptr_t queue, const py::bytes &spirv,
                                                       const std::string &name) {
  namespace syclex = sycl::ext::oneapi::experimental;
  sycl::queue &q = queue_at(queue);
  if (q.get_backend() == kLevelZero)
    throw py::value_error("executor_kernel_from_spirv: a Level Zero queue runs native binaries only (the driver "
                          "loads the zebin); SPIR-V kernels are for the test executor's CPU device");
  const std::string text = spirv;
  std::vector<std::byte> bytes(text.size());
  std::memcpy(bytes.data(), text.data(), text.size());
  sycl::context ctx = q.get_context();
  auto source = syclex::create_kernel_bundle_from_source(ctx, syclex::source_language::spirv, bytes);
  std::string log;
  try {
    auto bundle = syclex::build(source, {q.get_device()}, syclex::properties{syclex::save_log{&log}});
    return std::make_shared<SyclKernel>(SyclKernel{ctx, bundle, bundle.ext_oneapi_get_kernel(name)});
  } catch (const sycl::exception &e) {
    throw std::runtime_error("building " + name + " from SPIR-V for " +
                             q.get_device().get_info<sycl::info::device::name>() + " failed: " + e.what() +
                             (log.empty() ? "" : "\n" + log));
  }
}

// SYCL's dimension 0 varies slowest; Level Zero's (and Triton's) x fastest.
sycl::nd_range<3> nd_range_of(const std::array<uint32_t, 3> &grid, const std::array<uint32_t, 3> &group) {
  return sycl::nd_range<3>({size_t{grid[2]} * group[2], size_t{grid[1]} * group[1], size_t{grid[0]} * group[0]},
                           {group[2], group[1], group[0]});
}

void set_arg(sycl::handler &h, int index, const ArgValue &v) {
  if (!v.pointer || v.is_address) {  // as a pointer: the same 8 bytes on Level Zero, a USM pointer on OpenCL
    h.set_arg(index, v.pointer ? reinterpret_cast<void *>(v.storage) : nullptr);
    return;
  }
  switch (v.size) {  // the bytes matter, not the C++ type: floats arrive as their bit patterns
    case 1: h.set_arg(index, static_cast<uint8_t>(v.storage)); break;
    case 2: h.set_arg(index, static_cast<uint16_t>(v.storage)); break;
    case 4: h.set_arg(index, static_cast<uint32_t>(v.storage)); break;
    default: h.set_arg(index, v.storage); break;
  }
}

// One launch on `q`: the arguments, Triton's shared local memory (one more, last argument) when it uses any,
// and the nd_range.
void submit(sycl::queue &q, const sycl::kernel &kernel, const sycl::nd_range<3> &range, const ArgValue *values,
            size_t count, uint32_t shared) {
  q.submit([&](sycl::handler &h) {
    for (size_t i = 0; i < count; ++i) set_arg(h, static_cast<int>(i), values[i]);
    if (shared) h.set_arg(static_cast<int>(count), sycl::local_accessor<int8_t, 1>(sycl::range<1>(shared), h));
    h.parallel_for(range, kernel);
  });
}

// launcher(gx, gy, gz, *args) on one queue: converts the arguments as the Level Zero launcher does, checks
// each pointer against the queue's context, and submits an nd_range of (gx, gy, gz) groups.
class SyclLauncher {
 public:
  static constexpr size_t kInlineArgs = 32;  // arguments converted on the stack; more go to the heap

  SyclLauncher(uintptr_t queue, std::shared_ptr<SyclKernel> kernel, const std::vector<std::string> &arg_kinds,
               const std::array<uint32_t, 3> &group_size, uint32_t shared_mem)
      : queue_(&queue_at(queue)), same_queue_(*queue_), kernel_(std::move(kernel)), group_(group_size),
        shared_mem_(shared_mem) {
    for (size_t i = 0; i < arg_kinds.size(); ++i) kinds_.push_back(parse_kind(arg_kinds[i], i));
    for (uint32_t g : group_)
      if (g == 0) throw py::value_error("SyclLauncher: group_size entries must be positive");
    if (queue_->get_context() != kernel_->context)
      throw py::value_error("SyclLauncher: the kernel was made for another context than the queue's");
    if (queue_->get_backend() == kLevelZero) ze_context_ = sycl::get_native<kLevelZero>(kernel_->context);
  }

  void call(PyObject *const *args, size_t n) {
    // A queue freed and another made at the same address is another queue: SYCL compares queues by their
    // shared state, which the copy kept here holds alive, so a new queue cannot have it.  (Cheaper than
    // comparing contexts, which makes a context object per call.)
    if (!(*queue_ == same_queue_)) throw StaleQueue{};
    if (n != kinds_.size() + 3)
      throw py::type_error("launcher takes " + std::to_string(kinds_.size()) + " kernel arguments, got " +
                           std::to_string(n < 3 ? 0 : n - 3));
    const uint32_t gx = to_group_count(args[0], "gx"), gy = to_group_count(args[1], "gy"),
                   gz = to_group_count(args[2], "gz");
    ArgValue inline_values[kInlineArgs];
    std::vector<ArgValue> heap_values;
    ArgValue *values = inline_values;
    if (kinds_.size() > kInlineArgs) {
      heap_values.resize(kinds_.size());
      values = heap_values.data();
    }
    for (size_t i = 0; i < kinds_.size(); ++i) {
      convert(kinds_[i], args[i + 3], i, values[i]);
      if (kinds_[i] == Kind::Ptr && values[i].pointer && !is_queue_memory(values[i].storage))
        throw ForeignPointer{i, values[i].storage};
    }
    if (!gx || !gy || !gz) return;  // an empty grid launches nothing
    submit(*queue_, kernel_->kernel, nd_range_of({gx, gy, gz}, group_), values, kinds_.size(), shared_mem_);
  }

  uintptr_t queue() const { return reinterpret_cast<uintptr_t>(queue_); }

 private:
  // Memory of the queue's context.  NEO answers zeMemGetAllocProperties for any context of the driver, so
  // the Triton driver's own allocations (another context) are ruled out too.
  bool is_queue_memory(uint64_t address) const {
    if (!ze_context_)  // another backend (the test executor's CPU queue): SYCL's own, slower, query
      return sycl::get_pointer_type(reinterpret_cast<const void *>(address), kernel_->context) !=
             sycl::usm::alloc::unknown;
    ze_memory_allocation_properties_t props{ZE_STRUCTURE_TYPE_MEMORY_ALLOCATION_PROPERTIES, nullptr,
                                            ZE_MEMORY_TYPE_UNKNOWN, 0, 0};
    ze_device_handle_t owner = nullptr;
    return zeMemGetAllocProperties(ze_context_, reinterpret_cast<const void *>(address), &props, &owner) ==
               ZE_RESULT_SUCCESS &&
           props.type != ZE_MEMORY_TYPE_UNKNOWN && !g_owned_by_level_zero_runtime(address);
  }

  sycl::queue *queue_;
  sycl::queue same_queue_;  // a copy of the queue at queue_, to recognise it
  std::shared_ptr<SyclKernel> kernel_;
  ze_context_handle_t ze_context_ = nullptr;
  std::vector<Kind> kinds_;
  std::array<uint32_t, 3> group_;
  uint32_t shared_mem_ = 0;
};

// Sets the Python error for this module's own C++ exceptions; false for any other exception.
bool set_own_error(std::exception_ptr p) {
  try {
    std::rethrow_exception(p);
  } catch (const ForeignPointer &e) {
    py::object exc = g_foreign_pointer_error(e.index, e.address);
    PyErr_SetObject(g_foreign_pointer_error.ptr(), exc.ptr());
  } catch (const StaleQueue &) {
    PyErr_SetString(g_stale_queue_error.ptr(), "the sycl::queue at this address is not the one the launcher was "
                                               "made for");
  } catch (const sycl::exception &e) {
    PyErr_SetString(PyExc_RuntimeError, (std::string("SYCL: ") + e.what()).c_str());
  } catch (...) {
    return false;
  }
  return true;
}

// Sets the Python error for the C++ exception being handled (outside pybind11's own dispatch).
void set_python_error() {
  if (!set_own_error(std::current_exception())) set_common_python_error();
}

int sycl_launcher_init(PyObject *self, PyObject *args, PyObject *kwargs) {
  static const char *keywords[] = {"queue", "kernel", "arg_kinds", "group_size", "shared_mem", nullptr};
  PyObject *queue = nullptr, *kernel = nullptr, *kinds = nullptr, *group = nullptr;
  unsigned int shared_mem = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOOO|I:SyclLauncher", const_cast<char **>(keywords), &queue,
                                   &kernel, &kinds, &group, &shared_mem))
    return -1;
  try {
    auto impl = std::make_unique<SyclLauncher>(
        py::cast<uintptr_t>(py::handle(queue)), py::cast<std::shared_ptr<SyclKernel>>(py::handle(kernel)),
        py::cast<std::vector<std::string>>(py::handle(kinds)), py::cast<std::array<uint32_t, 3>>(py::handle(group)),
        shared_mem);
    launcher_set_impl(self, impl.release());
  } catch (const py::cast_error &) {
    PyErr_SetString(PyExc_TypeError, "SyclLauncher(queue: int, kernel: SyclKernel, arg_kinds: list[str], "
                                     "group_size: (int, int, int), shared_mem: int = 0)");
    return -1;
  } catch (...) {
    set_python_error();
    return -1;
  }
  return 0;
}

PyObject *sycl_launcher_get_queue(PyObject *self, void *) {
  SyclLauncher *l = launcher_impl<SyclLauncher>(self);
  return l ? PyLong_FromUnsignedLongLong(l->queue()) : nullptr;
}

PyGetSetDef sycl_launcher_getset[] = {
    {"queue", sycl_launcher_get_queue, nullptr, "The sycl::queue* (an int) the launcher submits to.", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyTypeObject SyclLauncherType = launcher_type<SyclLauncher, set_python_error>(
    "triton.backends.intel._sycl.SyclLauncher",
    "SyclLauncher(queue, kernel, arg_kinds, group_size, shared_mem=0): launcher(gx, gy, gz, *args) submits the "
    "kernel on the queue (see triton.backends.intel.runtime.sycl).",
    sycl_launcher_init, sycl_launcher_getset);

// The floor of a launch on a queue, for the launch benchmark: `iterations` submits of the kernel with
// the same argument bytes (pointers as 8 bytes) and the shared-memory argument, from C++.  Returns the mean
// nanoseconds per submit.
double raw_submit_loop(uintptr_t queue, const std::shared_ptr<SyclKernel> &kernel, const std::vector<py::bytes> &args,
                       const std::array<uint32_t, 3> &grid, const std::array<uint32_t, 3> &group, uint32_t shared,
                       uint64_t iterations) {
  sycl::queue &q = queue_at(queue);
  std::vector<ArgValue> values(args.size());
  for (size_t i = 0; i < args.size(); ++i) {
    std::string bytes = args[i];
    values[i].size = bytes.size();
    std::memcpy(&values[i].storage, bytes.data(), std::min(bytes.size(), sizeof(uint64_t)));
    values[i].pointer = &values[i].storage;
  }
  const sycl::nd_range<3> range = nd_range_of(grid, group);
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t it = 0; it < iterations; ++it) submit(q, kernel->kernel, range, values.data(), values.size(), shared);
  const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
  return iterations ? ns / static_cast<double>(iterations) : 0.0;
}

}  // namespace

// TRITON_XPU_SYCL_MODULE: _syclN for the libsycl.so.N this is built against.
PYBIND11_MODULE(TRITON_XPU_SYCL_MODULE, m) {
  m.doc() = "Launching native kernels on a caller's SYCL queue (see triton.backends.intel.sycl).";
  py::module_ level_zero = py::module_::import("triton.backends.intel._level_zero");
  g_foreign_pointer_error = level_zero.attr("ForeignPointerError");
  g_owned_by_level_zero_runtime = reinterpret_cast<bool (*)(uint64_t)>(
      level_zero.attr("_owns_memory").cast<py::capsule>().get_pointer());
  py::register_exception_translator([](std::exception_ptr p) {
    if (p && !set_own_error(p)) std::rethrow_exception(p);  // the rest is pybind11's
  });
  g_stale_queue_error = py::reinterpret_steal<py::object>(
      PyErr_NewException("triton.backends.intel._sycl.StaleQueueError", PyExc_RuntimeError, nullptr));
  m.attr("StaleQueueError") = g_stale_queue_error;
  m.attr("SYCL_ABI") = py::int_(__LIBSYCL_MAJOR_VERSION);

  m.def("queue_info", &queue_info, py::arg("queue"),
        "The Level Zero context and device (ze handles as ints), in_order and device_name of the "
        "sycl::queue at address ``queue``; ValueError for a queue on another backend.");
  py::class_<SyclKernel, std::shared_ptr<SyclKernel>>(m, "SyclKernel");
  m.def("executor_kernel_from_spirv", &executor_kernel_from_spirv, py::arg("queue"), py::arg("spirv"),
        py::arg("name"),
        "For the numeric tests' CPU executor only: kernel ``name`` of a SPIR-V module built for the queue's device "
        "(not Level Zero: the driver launches native binaries only).");
  m.def("make_kernel", &make_kernel, py::arg("queue"), py::arg("module"), py::arg("kernel"),
        "Wrap a Level Zero module and kernel created in the queue's context as a SYCL kernel "
        "(make_kernel_bundle / make_kernel with ownership::keep: the caller destroys them, after this).");
  m.def(
      "wait", [](uintptr_t queue) {
        sycl::queue &q = queue_at(queue);
        py::gil_scoped_release release;
        q.wait();
      },
      py::arg("queue"), "Wait for everything submitted to the queue.");
  m.def("raw_submit_loop", &raw_submit_loop, py::arg("queue"), py::arg("kernel"), py::arg("args"), py::arg("grid"),
        py::arg("group"), py::arg("shared"), py::arg("iterations"),
        "The launch benchmark's baseline: mean ns per q.submit(set_arg..., parallel_for) from C++.");
  if (PyType_Ready(&SyclLauncherType) < 0) throw py::error_already_set();
  Py_INCREF(&SyclLauncherType);
  m.add_object("SyclLauncher", py::reinterpret_borrow<py::object>(reinterpret_cast<PyObject *>(&SyclLauncherType)));
}
