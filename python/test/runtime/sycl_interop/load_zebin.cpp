// A host-only SYCL application of the project's own that loads a triton-xpu zebin the way SYCL applications
// (PyTorch AOT Inductor's sycl_runtime_wrappers.h loadKernel / launchKernel) do, and launches it once:
//
//   Level Zero module (zeModuleCreate, ZE_MODULE_FORMAT_NATIVE, in the queue's context and device)
//   -> zeKernelCreate -> sycl::make_kernel_bundle / sycl::make_kernel (ext_oneapi_level_zero, ownership
//   transferred to SYCL) -> queue.submit(set_arg for every argument, a local_accessor<int8_t> of `shared`
//   bytes last when the kernel uses shared memory, parallel_for over an nd_range).
//
// With TRITON_XPU_TRACE_ARGS=1 (and ZE_ENABLE_TRACING_LAYER=1 for the loader), every zeKernelSetArgumentValue
// the SYCL runtime makes is printed to stderr as `setarg KERNEL INDEX SIZE null|value` (KERNEL the handle, so
// the caller can keep this kernel's calls), through the Level Zero loader's tracing layer: SYCL's Level Zero
// adapter goes through the loader, so the tracer sees its calls.
//
// Usage: load_zebin ZEBIN KERNEL GX GY GZ LOCAL SHARED ARG...
//   LOCAL is the work-group size (num_warps x threads_per_warp), SHARED the kernel's metadata.shared bytes.
//   ARG is ptr:BYTES (a USM device allocation of BYTES), i32:V, i64:V, f32:V, or i1:V.
// The nd_range is global (GZ, GY, GX * LOCAL), local (1, 1, LOCAL): SYCL's dimension 0 varies slowest.
// Prints one JSON line ({"ok": true, ...} or {"ok": false, "error": ...}); exit status 0 only on success.
// Built by python/test/runtime/test_sycl_interop.py with g++ against PyPI's intel-sycl-rt headers (host-only
// SYCL: this program has no SYCL device code).
#include <level_zero/ze_api.h>
#include <level_zero/layers/zel_tracing_api.h>
#include <level_zero/layers/zel_tracing_register_cb.h>
#include <sycl/sycl.hpp>
#include <sycl/ext/oneapi/backend/level_zero.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace ze_interop = sycl::ext::oneapi::level_zero;
constexpr auto kLevelZero = sycl::backend::ext_oneapi_level_zero;

static void fail(const std::string &what) {
  std::string escaped;
  for (char c : what) {
    if (c == '"' || c == '\\') escaped += '\\';
    escaped += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  }
  std::printf("{\"ok\": false, \"error\": \"%s\"}\n", escaped.c_str());
  std::fflush(stdout);
  std::exit(1);
}

static std::string hex(ze_result_t r) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%x", static_cast<unsigned>(r));
  return buf;
}

static void on_set_arg(ze_kernel_set_argument_value_params_t *params, ze_result_t, void *, void **) {
  std::fprintf(stderr, "setarg %p %u %zu %s\n", static_cast<void *>(*params->phKernel), *params->pargIndex,
               *params->pargSize, *params->ppArgValue ? "value" : "null");
}

// After zeInit (the SYCL runtime's, at the first queue).
static void install_tracer() {
  zel_tracer_desc_t desc{ZEL_STRUCTURE_TYPE_TRACER_DESC, nullptr, nullptr};
  zel_tracer_handle_t tracer = nullptr;
  ze_result_t r = zelTracerCreate(&desc, &tracer);
  if (r != ZE_RESULT_SUCCESS) fail("zelTracerCreate: " + hex(r) + " (is ZE_ENABLE_TRACING_LAYER=1 set?)");
  r = zelTracerKernelSetArgumentValueRegisterCallback(tracer, ZEL_REGISTER_PROLOGUE, on_set_arg);
  if (r != ZE_RESULT_SUCCESS) fail("zelTracerKernelSetArgumentValueRegisterCallback: " + hex(r));
  r = zelTracerSetEnabled(tracer, true);
  if (r != ZE_RESULT_SUCCESS) fail("zelTracerSetEnabled: " + hex(r));
}

struct Arg {
  char kind;  // 'p' pointer, 'i' int32, 'l' int64, 'f' float, 'b' bool
  uint64_t bytes = 0;
  int32_t i32 = 0;
  int64_t i64 = 0;
  float f32 = 0;
  void *usm = nullptr;
};

int main(int argc, char **argv) {
  if (argc < 8) fail("usage: load_zebin ZEBIN KERNEL GX GY GZ LOCAL SHARED ARG...");
  const std::string path = argv[1], name = argv[2];
  const size_t gx = std::stoul(argv[3]), gy = std::stoul(argv[4]), gz = std::stoul(argv[5]);
  const size_t local = std::stoul(argv[6]), shared = std::stoul(argv[7]);
  std::vector<Arg> args;
  for (int i = 8; i < argc; ++i) {
    std::string a = argv[i];
    auto colon = a.find(':');
    if (colon == std::string::npos) fail("bad argument " + a);
    std::string kind = a.substr(0, colon), value = a.substr(colon + 1);
    Arg arg{};
    if (kind == "ptr") arg.kind = 'p', arg.bytes = std::stoull(value);
    else if (kind == "i32") arg.kind = 'i', arg.i32 = static_cast<int32_t>(std::stol(value));
    else if (kind == "i64") arg.kind = 'l', arg.i64 = std::stoll(value);
    else if (kind == "f32") arg.kind = 'f', arg.f32 = std::stof(value);
    else if (kind == "i1") arg.kind = 'b', arg.i32 = std::stoi(value);
    else fail("bad argument kind " + kind);
    args.push_back(arg);
  }

  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read " + path);
  std::vector<uint8_t> binary((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

  try {
    sycl::queue q{sycl::gpu_selector_v, sycl::property::queue::in_order()};
    if (q.get_backend() != kLevelZero) fail("the SYCL queue is not on the Level Zero backend");
    sycl::context ctx = q.get_context();
    auto ze_context = sycl::get_native<kLevelZero>(ctx);
    auto ze_device = sycl::get_native<kLevelZero>(q.get_device());
    const char *trace = std::getenv("TRITON_XPU_TRACE_ARGS");
    if (trace && std::string(trace) == "1") install_tracer();

    ze_module_desc_t desc{ZE_STRUCTURE_TYPE_MODULE_DESC};
    desc.format = ZE_MODULE_FORMAT_NATIVE;
    desc.inputSize = binary.size();
    desc.pInputModule = binary.data();
    desc.pBuildFlags = "";
    ze_module_handle_t module = nullptr;
    ze_module_build_log_handle_t log = nullptr;
    ze_result_t r = zeModuleCreate(ze_context, ze_device, &desc, &module, &log);
    if (r != ZE_RESULT_SUCCESS) {
      size_t size = 0;
      zeModuleBuildLogGetString(log, &size, nullptr);
      std::string text(size, '\0');
      zeModuleBuildLogGetString(log, &size, text.data());
      fail("zeModuleCreate: " + hex(r) + ": " + text.c_str());
    }
    zeModuleBuildLogDestroy(log);
    ze_kernel_desc_t kdesc{ZE_STRUCTURE_TYPE_KERNEL_DESC};
    kdesc.pKernelName = name.c_str();
    ze_kernel_handle_t ze_kernel = nullptr;
    r = zeKernelCreate(module, &kdesc, &ze_kernel);
    if (r != ZE_RESULT_SUCCESS) fail("zeKernelCreate " + name + ": " + hex(r));
    ze_kernel_properties_t props{ZE_STRUCTURE_TYPE_KERNEL_PROPERTIES};
    r = zeKernelGetProperties(ze_kernel, &props);
    if (r != ZE_RESULT_SUCCESS) fail("zeKernelGetProperties: " + hex(r));

    auto bundle = sycl::make_kernel_bundle<kLevelZero, sycl::bundle_state::executable>(
        {module, ze_interop::ownership::transfer}, ctx);
    sycl::kernel kernel =
        sycl::make_kernel<kLevelZero>({bundle, ze_kernel, ze_interop::ownership::transfer}, ctx);

    for (Arg &a : args)
      if (a.kind == 'p') {
        a.usm = sycl::malloc_device(a.bytes, q);
        if (!a.usm) fail("sycl::malloc_device failed");
      }

    sycl::nd_range<3> range({gz, gy, gx * local}, {1, 1, local});
    q.submit([&](sycl::handler &h) {
      int index = 0;
      for (const Arg &a : args) {
        switch (a.kind) {
          case 'p': h.set_arg(index, a.usm); break;
          case 'i': h.set_arg(index, a.i32); break;
          case 'l': h.set_arg(index, a.i64); break;
          case 'f': h.set_arg(index, a.f32); break;
          case 'b': h.set_arg(index, static_cast<int8_t>(a.i32)); break;
        }
        ++index;
      }
      if (shared) h.set_arg(index, sycl::local_accessor<int8_t, 1>(sycl::range<1>(shared), h));
      h.parallel_for(range, kernel);
    });
    q.wait_and_throw();
    for (Arg &a : args)
      if (a.usm) sycl::free(a.usm, q);
    std::printf("{\"ok\": true, \"device\": \"%s\", \"kernel\": \"%p\", \"num_args\": %u, "
                "\"required_subgroup_size\": %u}\n",
                q.get_device().get_info<sycl::info::device::name>().c_str(), static_cast<void *>(ze_kernel),
                props.numKernelArgs, props.requiredSubgroupSize);
  } catch (const sycl::exception &e) {
    fail(std::string("SYCL: ") + e.what());
  }
  std::fflush(stdout);
  return 0;
}
