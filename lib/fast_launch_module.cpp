// triton.backends.intel._fast_launch: `kernel[grid](...)` in native code for the kernels a JITFunction already
// compiled.
//
// Triton 3.3's JITFunction.run binds the arguments, specialises each one and builds its cache key in Python on
// every call (88-93 % of a small launch here).  A Dispatcher does the same per call in C++: it encodes what
// Triton's key depends on (each argument's type class, divisibility by 16, equality to 1, dtype, constexpr and
// option values, the device, the debug flag) into bytes, finds the entry it remembered for those bytes, checks
// that Triton's own kernel cache still holds that kernel under Triton's key and that the kernel's globals are
// unchanged, evaluates the grid and calls the backend's native launcher.  Anything else -- a first call, a
// value it does not encode, a hook, another driver, a launcher error -- goes to JITFunction.run unchanged, so
// the result and every error are run's.  The encoding is never coarser than Triton's key (the same bytes imply
// the same key; python/test/runtime/test_fast_launch_keys.py checks it on thousands of argument combinations).
//
// Plain CPython types (no pybind11 dispatcher on the per-call path): Dispatcher (one per JITFunction) and
// Bound (what `kernel[grid]` returns, called through vectorcall).
#include <Python.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

// How a parameter is specialised, as create_function_from_signature decides from its flags; kAnnotated is added
// to a runtime parameter with a type annotation (its type is the annotation's: only the key part counts).
enum ParamKind : long { kConstexpr = 0, kSpecialize = 1, kNoAlign = 2, kNoSpecialize = 3, kAnnotated = 4 };

// At most this many remembered specialisations per kernel: beyond, calls still work (through run).
constexpr size_t kMaxEntries = 4096;

struct Entry {
  PyObject *kernel = nullptr;        // the CompiledKernel run returned
  PyObject *triton_key = nullptr;    // its key in Triton's kernel cache (str)
  PyObject *launcher = nullptr;      // kernel.run: the backend's launcher object
  PyObject *function = nullptr;      // kernel.function
  std::vector<Py_ssize_t> keep;      // the parameters the kernel takes at run time (launcher.keep)
  PyObject *last_stream = nullptr;   // the stream of the last launch, and its native launcher
  PyObject *last_native = nullptr;

  void clear() {
    Py_CLEAR(kernel);
    Py_CLEAR(triton_key);
    Py_CLEAR(launcher);
    Py_CLEAR(function);
    Py_CLEAR(last_stream);
    Py_CLEAR(last_native);
  }
};

struct Dispatcher {
  PyObject_HEAD
  PyObject *fn;              // the JITFunction
  PyObject *names;           // tuple of parameter names
  PyObject *name_index;      // dict: name -> index
  PyObject *defaults;        // tuple: default value, or `missing` for none
  PyObject *missing;         // the no-default sentinel
  PyObject *driver_config;   // triton.runtime.driver.driver
  PyObject *active;          // driver_config.active when this dispatcher was made
  PyObject *driver;          // the driver object itself (the LazyProxy resolved)
  PyObject *kernel_class;    // CompiledKernel (its launch hooks)
  PyObject *miss;            // miss(fn, grid, args, kwargs) -> (kernel, entry tuple or None)
  PyObject *identity_types;  // tuple of types whose instances are keyed by identity (tl.dtype, JITFunction)
  PyObject *declined_types;  // tuple of types run handles as arguments (tl.dtype, JITFunction, tl.constexpr)
  PyObject *dtype_codes;     // dict: a tensor's dtype object -> small int
  std::vector<long> *kinds;
  std::unordered_map<std::string, Entry> *entries;
  unsigned long long hits, misses, declined;
};

struct Bound {
  PyObject_HEAD
  vectorcallfunc vectorcall;
  Dispatcher *dispatcher;
  PyObject *grid;
};

PyObject *g_str_dtype, *g_str_data_ptr, *g_str_pre_run_hooks, *g_str_debug, *g_str_device_caches,
    *g_str_used_global_vals, *g_str_enter_hook, *g_str_exit_hook, *g_str_active, *g_str_get_current_device,
    *g_str_get_current_stream, *g_str_run, *g_str_grid, *g_str_warmup, *g_str_native_launcher, *g_str_tma, *g_one;

// --- the key ------------------------------------------------------------------------------------------------

template <class T>
void put(std::string &key, T value) {
  key.append(reinterpret_cast<const char *>(&value), sizeof value);
}

// A constexpr's or an option's value, by type and value (what str() of it depends on); false: not encodable.
bool encode_value(Dispatcher *d, PyObject *v, std::string &key) {
  if (v == Py_None) {
    key.push_back('N');
  } else if (PyBool_Check(v)) {
    key.push_back(v == Py_True ? 'T' : 'F');
  } else if (PyLong_CheckExact(v)) {
    int overflow = 0;
    long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (overflow) return false;
    key.push_back('i');
    put(key, x);
  } else if (PyFloat_CheckExact(v)) {
    double x = PyFloat_AS_DOUBLE(v);
    if (x != x) return false;  // NaN: Triton's key is its str, ours would never repeat
    key.push_back('f');
    put(key, x);
  } else if (PyUnicode_CheckExact(v)) {
    Py_ssize_t n = 0;
    const char *s = PyUnicode_AsUTF8AndSize(v, &n);
    if (!s) {
      PyErr_Clear();
      return false;
    }
    key.push_back('s');
    put(key, n);
    key.append(s, static_cast<size_t>(n));
  } else if (PyObject_TypeCheck(v, &PyType_Type) == 0 &&
             PyObject_IsInstance(v, d->identity_types) == 1) {  // immutable objects: same object, same str
    key.push_back('o');
    put(key, reinterpret_cast<uintptr_t>(v));
  } else {
    if (PyErr_Occurred()) PyErr_Clear();
    return false;
  }
  return true;
}

// run: kwargs["debug"] = kwargs.get("debug", self.debug) or os.environ.get("TRITON_DEBUG", "0") == "1", an option.
bool encode_debug(Dispatcher *d, PyObject *debug, std::string &key) {
  int truthy = PyObject_IsTrue(debug);
  if (truthy < 0) {
    PyErr_Clear();
    return false;
  }
  const char *env = std::getenv("TRITON_DEBUG");
  PyObject *effective = truthy ? debug : ((env && std::strcmp(env, "1") == 0) ? Py_True : Py_False);
  key.push_back('K');
  return encode_value(d, g_str_debug, key) && encode_value(d, effective, key);
}

// A runtime argument as specialize_impl classifies it; false: leave it to run.  An annotated parameter's type is
// its annotation whatever the value, so only specialize_impl's key part is encoded: None (None, bools, floats,
// unspecialised values), "" ('-'), "D" or 1.
bool encode_argument(Dispatcher *d, PyObject *v, long kind, std::string &key) {
  const bool annotated = kind & kAnnotated;
  kind &= ~kAnnotated;
  const bool specialize = kind != kNoSpecialize, align = kind == kSpecialize;
  if (v == Py_None || PyBool_Check(v)) {
    key.push_back(annotated ? 'n' : (v == Py_None ? 'N' : 'B'));
    return true;
  }
  if (PyLong_Check(v)) {
    int overflow = 0;
    long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    char range;  // Triton's i32, u64 or i64
    bool divisible = false, one = false;
    if (overflow == 0) {
      range = (x >= -(1LL << 31) && x <= (1LL << 31) - 1) ? '4' : '8';
      divisible = x % 16 == 0;
      one = x == 1;
    } else if (overflow > 0) {
      unsigned long long u = PyLong_AsUnsignedLongLong(v);
      if (u == static_cast<unsigned long long>(-1) && PyErr_Occurred()) {
        PyErr_Clear();
        return false;  // beyond 64 bits: run says what is wrong
      }
      range = 'u';
      divisible = u % 16 == 0;
    } else {
      return false;
    }
    if (!annotated) {
      key.push_back('I');
      key.push_back(range);
    }
    key.push_back(specialize ? (one ? '1' : (align && divisible ? 'D' : '-')) : 'n');
    return true;
  }
  if (PyFloat_Check(v)) {
    key.push_back(annotated ? 'n' : 'R');
    return true;
  }
  if (PyTuple_Check(v) || PyObject_IsInstance(v, d->declined_types) != 0 || PyObject_HasAttr(v, g_str_tma)) {
    if (PyErr_Occurred()) PyErr_Clear();
    return false;  // tuples, JITFunctions, dtypes as arguments, constexpr objects: run
  }
  // A tensor: its dtype, and the divisibility of its address by 16.
  PyObject *dtype = PyObject_GetAttr(v, g_str_dtype);
  if (!dtype) {
    PyErr_Clear();
    return false;
  }
  PyObject *code = PyDict_GetItemWithError(d->dtype_codes, dtype);
  if (!code) {
    if (PyErr_Occurred() || PyDict_GET_SIZE(d->dtype_codes) > 256) {
      PyErr_Clear();
      Py_DECREF(dtype);
      return false;
    }
    PyObject *fresh = PyLong_FromSsize_t(PyDict_GET_SIZE(d->dtype_codes));
    int failed = !fresh || PyDict_SetItem(d->dtype_codes, dtype, fresh) < 0;
    Py_XDECREF(fresh);
    if (failed) {
      PyErr_Clear();
      Py_DECREF(dtype);
      return false;
    }
    code = PyDict_GetItem(d->dtype_codes, dtype);
  }
  Py_DECREF(dtype);
  if (!annotated) {
    key.push_back('P');
    put(key, static_cast<uint16_t>(PyLong_AsLong(code)));
  }
  if (!specialize) {
    key.push_back('n');
  } else if (!align) {
    key.push_back('-');
  } else {
    PyObject *address = PyObject_CallMethodNoArgs(v, g_str_data_ptr);
    if (!address || !PyLong_Check(address)) {
      PyErr_Clear();
      Py_XDECREF(address);
      return false;
    }
    unsigned long long a = PyLong_AsUnsignedLongLongMask(address);
    Py_DECREF(address);
    if (a == static_cast<unsigned long long>(-1) && PyErr_Occurred()) {
      PyErr_Clear();
      return false;
    }
    key.push_back(a % 16 == 0 ? 'D' : '-');
  }
  return true;
}

// --- a call -------------------------------------------------------------------------------------------------

// JITFunction.run(*args, grid=grid, warmup=False, **kwargs): the Python path, for whatever is not handled here.
PyObject *run_in_python(Dispatcher *d, PyObject *grid, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames) {
  PyObject *run = PyObject_GetAttr(d->fn, g_str_run);
  if (!run) return nullptr;
  Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
  std::vector<PyObject *> all(args, args + nargs + nkw);
  all.push_back(grid);
  all.push_back(Py_False);
  PyObject *names = PyTuple_New(nkw + 2);
  if (!names) {
    Py_DECREF(run);
    return nullptr;
  }
  for (Py_ssize_t i = 0; i < nkw; ++i) {
    PyObject *n = PyTuple_GET_ITEM(kwnames, i);
    Py_INCREF(n);
    PyTuple_SET_ITEM(names, i, n);
  }
  Py_INCREF(g_str_grid);
  PyTuple_SET_ITEM(names, nkw, g_str_grid);
  Py_INCREF(g_str_warmup);
  PyTuple_SET_ITEM(names, nkw + 1, g_str_warmup);
  PyObject *result = PyObject_Vectorcall(run, all.data(), static_cast<size_t>(nargs), names);
  Py_DECREF(names);
  Py_DECREF(run);
  return result;
}

// The first call of a specialisation: run compiles or finds the kernel; miss() says how to launch it again.
PyObject *remember(Dispatcher *d, std::string &key, PyObject *grid, PyObject *const *args, Py_ssize_t nargs,
                   PyObject *kwnames) {
  ++d->misses;
  PyObject *tuple = PyTuple_New(nargs);
  if (!tuple) return nullptr;
  for (Py_ssize_t i = 0; i < nargs; ++i) {
    Py_INCREF(args[i]);
    PyTuple_SET_ITEM(tuple, i, args[i]);
  }
  PyObject *kwargs = PyDict_New();
  Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
  for (Py_ssize_t i = 0; kwargs && i < nkw; ++i)
    if (PyDict_SetItem(kwargs, PyTuple_GET_ITEM(kwnames, i), args[nargs + i]) < 0) Py_CLEAR(kwargs);
  PyObject *out = kwargs ? PyObject_CallFunctionObjArgs(d->miss, d->fn, grid, tuple,
                                                        kwargs, nullptr)
                         : nullptr;
  Py_DECREF(tuple);
  Py_XDECREF(kwargs);
  if (!out) return nullptr;
  // (kernel, None) or (kernel, (triton_key, launcher, function, keep))
  PyObject *kernel = PyTuple_GET_ITEM(out, 0), *info = PyTuple_GET_ITEM(out, 1);
  Py_INCREF(kernel);
  if (info != Py_None && d->entries->size() < kMaxEntries) {
    Entry e;
    e.kernel = kernel;
    Py_INCREF(kernel);
    e.triton_key = PyTuple_GET_ITEM(info, 0);
    e.launcher = PyTuple_GET_ITEM(info, 1);
    e.function = PyTuple_GET_ITEM(info, 2);
    Py_INCREF(e.triton_key);
    Py_INCREF(e.launcher);
    Py_INCREF(e.function);
    PyObject *keep = PyTuple_GET_ITEM(info, 3);
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(keep); ++i)
      e.keep.push_back(PyLong_AsSsize_t(PyTuple_GET_ITEM(keep, i)));
    auto old = d->entries->find(key);
    if (old != d->entries->end()) {
      old->second.clear();
      d->entries->erase(old);
    }
    d->entries->emplace(std::move(key), e);
  }
  Py_DECREF(out);
  return kernel;
}

// Triton's run would take the Python path anyway, or would not pick the remembered kernel: true.
bool hooks_or_other_driver(Dispatcher *d) {
  PyObject *active = PyObject_GetAttr(d->driver_config, g_str_active);
  Py_XDECREF(active);
  if (active != d->active) return true;
  PyObject *hooks = PyObject_GetAttr(d->fn, g_str_pre_run_hooks);
  bool busy = !hooks || !PyList_Check(hooks) || PyList_GET_SIZE(hooks) != 0;
  Py_XDECREF(hooks);
  for (PyObject *name : {g_str_enter_hook, g_str_exit_hook}) {
    PyObject *hook = PyObject_GetAttr(d->kernel_class, name);
    busy = busy || hook != Py_None;
    Py_XDECREF(hook);
  }
  if (PyErr_Occurred()) PyErr_Clear();
  return busy;
}

// Every global a compiled kernel of this function read still has its value (run raises otherwise).
bool globals_unchanged(Dispatcher *d) {
  PyObject *used = PyObject_GetAttr(d->fn, g_str_used_global_vals);
  if (!used || !PyDict_Check(used)) {
    Py_XDECREF(used);
    PyErr_Clear();
    return false;
  }
  Py_ssize_t pos = 0;
  PyObject *name_key, *value;
  bool same = true;
  while (same && PyDict_Next(used, &pos, &name_key, &value)) {
    // {(name, ...): (value, globals dict)}
    if (!PyTuple_Check(name_key) || !PyTuple_Check(value) || PyTuple_GET_SIZE(value) != 2) {
      same = false;
      break;
    }
    PyObject *now = PyDict_GetItemWithError(PyTuple_GET_ITEM(value, 1), PyTuple_GET_ITEM(name_key, 0));
    // run's own test, `now != value` (no identity shortcut: a NaN global always differs for run too)
    PyObject *differs = now ? PyObject_RichCompare(now, PyTuple_GET_ITEM(value, 0), Py_NE) : nullptr;
    same = differs && PyObject_IsTrue(differs) == 0;
    Py_XDECREF(differs);
  }
  Py_DECREF(used);
  if (PyErr_Occurred()) PyErr_Clear();
  return same;
}

// Triton's kernel cache for this device still holds the remembered kernel under Triton's key.
bool still_cached(Dispatcher *d, PyObject *device, const Entry &e) {
  PyObject *caches = PyObject_GetAttr(d->fn, g_str_device_caches);
  if (!caches) {
    PyErr_Clear();
    return false;
  }
  PyObject *per_device = PyDict_Check(caches) ? PyDict_GetItemWithError(caches, device) : nullptr;
  bool same = false;
  if (per_device && PyTuple_Check(per_device) && PyTuple_GET_SIZE(per_device) > 0 &&
      PyDict_Check(PyTuple_GET_ITEM(per_device, 0)))
    same = PyDict_GetItemWithError(PyTuple_GET_ITEM(per_device, 0), e.triton_key) == e.kernel;
  Py_DECREF(caches);
  if (PyErr_Occurred()) PyErr_Clear();
  return same;
}

// The grid as three objects the launcher converts (borrowed from `holder`, which the caller releases).
bool grid_dims(Dispatcher *d, PyObject *grid, PyObject *const *values, PyObject *&holder, PyObject *dims[3]) {
  holder = nullptr;
  PyObject *seq = grid;
  if (PyCallable_Check(grid)) {
    // grid(bound_args): every parameter by name, in order, as run's binder gives them.
    PyObject *bound = PyDict_New();
    for (Py_ssize_t i = 0; bound && i < PyTuple_GET_SIZE(d->names); ++i)
      if (PyDict_SetItem(bound, PyTuple_GET_ITEM(d->names, i), values[i]) < 0) Py_CLEAR(bound);
    if (!bound) return false;
    seq = holder = PyObject_CallOneArg(grid, bound);
    Py_DECREF(bound);
    if (!seq) return false;
  }
  if (!PyTuple_Check(seq) && !PyList_Check(seq)) return false;
  Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
  if (n < 1) return false;
  for (Py_ssize_t i = 0; i < 3; ++i) dims[i] = i < n ? PySequence_Fast_GET_ITEM(seq, i) : g_one;
  return true;
}

PyObject *launch(Entry &e, PyObject *stream, PyObject *dims[3], PyObject *const *values) {
  if (e.last_native == nullptr || stream != e.last_stream) {
    int equal = e.last_stream ? PyObject_RichCompareBool(stream, e.last_stream, Py_EQ) : 0;
    if (equal != 1) {
      PyObject *native = PyObject_CallMethodObjArgs(e.launcher, g_str_native_launcher, e.function, stream, nullptr);
      if (!native) return nullptr;
      Py_XSETREF(e.last_native, native);
    }
    Py_INCREF(stream);
    Py_XSETREF(e.last_stream, stream);
  }
  PyObject *stack[64];
  std::vector<PyObject *> big;
  PyObject **argv = stack;
  size_t n = 3 + e.keep.size();
  if (n > 64) {
    big.resize(n);
    argv = big.data();
  }
  for (int i = 0; i < 3; ++i) argv[i] = dims[i];
  for (size_t i = 0; i < e.keep.size(); ++i) argv[3 + i] = values[e.keep[i]];
  return PyObject_Vectorcall(e.last_native, argv, n, nullptr);
}

// What a call's key depends on, encoded into `key`, and its parameters' values (defaults filled in) into
// `values`; `device` gets the current device (a new reference).  Decline: the call goes to run as it is.
enum class Keyed { Ok, Decline, Error };

Keyed compute_key(Dispatcher *d, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, PyObject **values,
                  std::string &key, PyObject *&device) {
  const Py_ssize_t nparams = PyTuple_GET_SIZE(d->names);
  const Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
  device = nullptr;
  if (nargs > nparams) return Keyed::Decline;  // run raises the binder's TypeError
  // Bind: positional, then keywords naming parameters; other keywords are options (in the key, in order).
  for (Py_ssize_t i = 0; i < nparams; ++i) values[i] = i < nargs ? args[i] : nullptr;
  key.reserve(16 + 4 * static_cast<size_t>(nparams + nkw));
  bool debug_given = false;
  for (Py_ssize_t i = 0; i < nkw; ++i) {
    PyObject *name = PyTuple_GET_ITEM(kwnames, i), *value = args[nargs + i];
    PyObject *index = PyDict_GetItemWithError(d->name_index, name);
    if (index) {
      Py_ssize_t at = PyLong_AsSsize_t(index);
      if (values[at]) return Keyed::Decline;  // given twice: run raises
      values[at] = value;
    } else if (PyErr_Occurred()) {
      PyErr_Clear();
      return Keyed::Decline;
    } else if (PyUnicode_Compare(name, g_str_debug) == 0) {
      debug_given = true;  // run's kwargs["debug"] keeps its place among the options
      if (!encode_debug(d, value, key)) return Keyed::Decline;
    } else {
      key.push_back('K');
      if (!encode_value(d, name, key) || !encode_value(d, value, key)) return Keyed::Decline;
    }
  }
  for (Py_ssize_t i = 0; i < nparams; ++i) {
    if (!values[i]) {
      PyObject *dflt = PyTuple_GET_ITEM(d->defaults, i);
      if (dflt == d->missing) return Keyed::Decline;  // run raises the binder's TypeError
      values[i] = dflt;
    }
    long kind = (*d->kinds)[static_cast<size_t>(i)];
    bool ok = kind == kConstexpr ? encode_value(d, values[i], key) : encode_argument(d, values[i], kind, key);
    if (!ok) return Keyed::Decline;
  }
  if (!debug_given) {  // appended to the options, from the kernel's own setting
    PyObject *own = PyObject_GetAttr(d->fn, g_str_debug);
    bool encodable = own && encode_debug(d, own, key);
    Py_XDECREF(own);
    if (!encodable) {
      PyErr_Clear();
      return Keyed::Decline;
    }
  }
  device = PyObject_CallMethodNoArgs(d->driver, g_str_get_current_device);
  if (!device) return Keyed::Error;
  int overflow = 0;
  long long device_index = PyLong_Check(device) ? PyLong_AsLongLongAndOverflow(device, &overflow) : -1;
  if (!PyLong_Check(device) || overflow) {
    Py_CLEAR(device);
    PyErr_Clear();
    return Keyed::Decline;
  }
  key.push_back('@');
  put(key, device_index);
  return Keyed::Ok;
}

// Room for the parameters' values: on the stack for up to 64 parameters.
struct Values {
  PyObject *stack[64];
  std::vector<PyObject *> heap;
  PyObject **data;
  explicit Values(Py_ssize_t n) : data(stack) {
    if (n > 64) {
      heap.resize(static_cast<size_t>(n));
      data = heap.data();
    }
  }
};

PyObject *dispatch(Dispatcher *d, PyObject *grid, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
  const Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  if (hooks_or_other_driver(d)) return ++d->declined, run_in_python(d, grid, args, nargs, kwnames);
  Values values(PyTuple_GET_SIZE(d->names));
  std::string key;
  PyObject *device;
  switch (compute_key(d, args, nargs, kwnames, values.data, key, device)) {
    case Keyed::Error:
      return nullptr;
    case Keyed::Decline:
      return ++d->declined, run_in_python(d, grid, args, nargs, kwnames);
    case Keyed::Ok:
      break;
  }
  auto found = d->entries->find(key);
  if (found == d->entries->end() || !still_cached(d, device, found->second) || !globals_unchanged(d)) {
    Py_DECREF(device);
    return remember(d, key, grid, args, nargs, kwnames);
  }
  Entry &e = found->second;
  PyObject *holder = nullptr, *dims[3];
  if (!grid_dims(d, grid, values.data, holder, dims)) {
    Py_XDECREF(holder);
    Py_DECREF(device);
    PyErr_Clear();
    return ++d->declined, run_in_python(d, grid, args, nargs, kwnames);
  }
  PyObject *stream = PyObject_CallMethodOneArg(d->driver, g_str_get_current_stream, device);
  Py_DECREF(device);
  PyObject *done = stream ? launch(e, stream, dims, values.data) : nullptr;
  Py_XDECREF(stream);
  Py_XDECREF(holder);
  if (!done) {
    // The launcher refused before appending anything: run launches or raises its own, complete error (and
    // makes a new launcher where the queue changed, which the next call asks for again).
    PyErr_Clear();
    Py_CLEAR(e.last_native);
    Py_CLEAR(e.last_stream);
    ++d->declined;
    return run_in_python(d, grid, args, nargs, kwnames);
  }
  Py_DECREF(done);
  ++d->hits;
  Py_INCREF(e.kernel);
  return e.kernel;
}

// --- Bound: what kernel[grid] returns -----------------------------------------------------------------------

PyObject *bound_vectorcall(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
  Bound *b = reinterpret_cast<Bound *>(self);
  return dispatch(b->dispatcher, b->grid, args, nargsf, kwnames);
}

void bound_dealloc(PyObject *self) {
  Bound *b = reinterpret_cast<Bound *>(self);
  Py_XDECREF(reinterpret_cast<PyObject *>(b->dispatcher));
  Py_XDECREF(b->grid);
  Py_TYPE(self)->tp_free(self);
}

PyTypeObject BoundType = [] {
  PyTypeObject t{};
  PyVarObject head = {PyObject_HEAD_INIT(nullptr) 0};
  t.ob_base = head;
  t.tp_name = "triton.backends.intel._fast_launch.Bound";
  t.tp_basicsize = sizeof(Bound);
  t.tp_dealloc = bound_dealloc;
  t.tp_vectorcall_offset = offsetof(Bound, vectorcall);
  t.tp_call = PyVectorcall_Call;
  t.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL;
  t.tp_doc = "kernel[grid]: call it with the kernel's arguments.";
  return t;
}();

// --- Dispatcher ---------------------------------------------------------------------------------------------

PyObject *dispatcher_getitem(PyObject *self, PyObject *grid) {
  Bound *b = PyObject_New(Bound, &BoundType);
  if (!b) return nullptr;
  b->vectorcall = bound_vectorcall;
  Py_INCREF(self);
  b->dispatcher = reinterpret_cast<Dispatcher *>(self);
  Py_INCREF(grid);
  b->grid = grid;
  return reinterpret_cast<PyObject *>(b);
}

#define DISPATCHER_FIELDS(X) \
  X(fn) X(names) X(name_index) X(defaults) X(missing) X(driver_config) X(active) X(driver) X(kernel_class) \
  X(miss) X(identity_types) X(declined_types) X(dtype_codes)

int dispatcher_init(PyObject *self, PyObject *args, PyObject *) {
  Dispatcher *d = reinterpret_cast<Dispatcher *>(self);
  PyObject *kinds;
#define FIELD_PTR(f) &d->f,
  PyObject **fields[] = {DISPATCHER_FIELDS(FIELD_PTR)};
#undef FIELD_PTR
  PyObject *fn, *names, *name_index, *defaults, *missing, *driver_config, *active, *driver, *kernel_class, *miss,
      *identity_types, *declined_types;
  if (!PyArg_ParseTuple(args, "OO!O!O!O!OOOOOOO!O!:Dispatcher", &fn, &PyTuple_Type, &names, &PyDict_Type,
                        &name_index, &PyTuple_Type, &kinds, &PyTuple_Type, &defaults, &missing, &driver_config,
                        &active, &driver, &kernel_class, &miss, &PyTuple_Type, &identity_types, &PyTuple_Type,
                        &declined_types))
    return -1;
  if (PyTuple_GET_SIZE(kinds) != PyTuple_GET_SIZE(names) || PyTuple_GET_SIZE(defaults) != PyTuple_GET_SIZE(names)) {
    PyErr_SetString(PyExc_ValueError, "Dispatcher: names, kinds and defaults must have one entry per parameter");
    return -1;
  }
  PyObject *values[] = {fn, names, name_index, defaults, missing, driver_config, active, driver, kernel_class, miss,
                        identity_types, declined_types, nullptr};
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; ++i) {
    PyObject *v = values[i] ? values[i] : PyDict_New();
    if (!v) return -1;
    if (values[i]) Py_INCREF(v);
    Py_XSETREF(*fields[i], v);
  }
  d->kinds->clear();
  for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(kinds); ++i) {
    long k = PyLong_AsLong(PyTuple_GET_ITEM(kinds, i));
    if (k < kConstexpr || (k & ~kAnnotated) > kNoSpecialize || k == (kConstexpr | kAnnotated)) {
      if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "Dispatcher: a kind is 0, or 1, 2 or 3 plus 4 or not");
      return -1;
    }
    d->kinds->push_back(k);
  }
  return 0;
}

PyObject *dispatcher_new(PyTypeObject *type, PyObject *, PyObject *) {
  Dispatcher *d = reinterpret_cast<Dispatcher *>(type->tp_alloc(type, 0));
  if (!d) return nullptr;
  d->kinds = new std::vector<long>();
  d->entries = new std::unordered_map<std::string, Entry>();
  return reinterpret_cast<PyObject *>(d);
}

void clear_entries(Dispatcher *d) {
  if (!d->entries) return;
  for (auto &kv : *d->entries) kv.second.clear();
  d->entries->clear();
}

int dispatcher_traverse(PyObject *self, visitproc visit, void *arg) {
  Dispatcher *d = reinterpret_cast<Dispatcher *>(self);
#define VISIT(f) Py_VISIT(d->f);
  DISPATCHER_FIELDS(VISIT)
#undef VISIT
  if (d->entries)
    for (auto &kv : *d->entries) {
      Py_VISIT(kv.second.kernel);
      Py_VISIT(kv.second.launcher);
      Py_VISIT(kv.second.function);
      Py_VISIT(kv.second.last_native);
    }
  return 0;
}

int dispatcher_clear(PyObject *self) {
  Dispatcher *d = reinterpret_cast<Dispatcher *>(self);
#define CLEAR(f) Py_CLEAR(d->f);
  DISPATCHER_FIELDS(CLEAR)
#undef CLEAR
  clear_entries(d);
  return 0;
}

void dispatcher_dealloc(PyObject *self) {
  Dispatcher *d = reinterpret_cast<Dispatcher *>(self);
  PyObject_GC_UnTrack(self);
  dispatcher_clear(self);
  delete d->kinds;
  delete d->entries;
  Py_TYPE(self)->tp_free(self);
}

PyObject *dispatcher_forget(PyObject *self, PyObject *) {
  clear_entries(reinterpret_cast<Dispatcher *>(self));
  Py_RETURN_NONE;
}

PyObject *dispatcher_stats(PyObject *self, PyObject *) {
  Dispatcher *d = reinterpret_cast<Dispatcher *>(self);
  return Py_BuildValue("{sKsKsKsn}", "hits", d->hits, "misses", d->misses, "declined", d->declined, "entries",
                       static_cast<Py_ssize_t>(d->entries->size()));
}

// The bytes a call's arguments encode to, or None where the call goes to run: for the key-equivalence test.
PyObject *dispatcher_key(PyObject *self, PyObject *const *args, Py_ssize_t nargsf, PyObject *kwnames) {
  Dispatcher *d = reinterpret_cast<Dispatcher *>(self);
  Values values(PyTuple_GET_SIZE(d->names));
  std::string key;
  PyObject *device;
  switch (compute_key(d, args, PyVectorcall_NARGS(nargsf), kwnames, values.data, key, device)) {
    case Keyed::Error:
      return nullptr;
    case Keyed::Decline:
      Py_RETURN_NONE;
    case Keyed::Ok:
      break;
  }
  Py_DECREF(device);
  return PyBytes_FromStringAndSize(key.data(), static_cast<Py_ssize_t>(key.size()));
}

PyMethodDef dispatcher_methods[] = {
    {"forget", dispatcher_forget, METH_NOARGS, "Drop every remembered specialisation (the next calls go to run)."},
    {"stats", dispatcher_stats, METH_NOARGS, "{'hits', 'misses', 'declined', 'entries'}: calls so far."},
    {"key", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(dispatcher_key)), METH_FASTCALL | METH_KEYWORDS,
     "key(*args, **kwargs): the bytes this call is remembered under, or None when it goes to run."},
    {nullptr, nullptr, 0, nullptr}};

PyMappingMethods dispatcher_mapping = {nullptr, dispatcher_getitem, nullptr};

PyTypeObject DispatcherType = [] {
  PyTypeObject t{};
  PyVarObject head = {PyObject_HEAD_INIT(nullptr) 0};
  t.ob_base = head;
  t.tp_name = "triton.backends.intel._fast_launch.Dispatcher";
  t.tp_basicsize = sizeof(Dispatcher);
  t.tp_dealloc = dispatcher_dealloc;
  t.tp_as_mapping = &dispatcher_mapping;
  t.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC;
  t.tp_doc =
      "Dispatcher(fn, names, name_index, kinds, defaults, missing, driver_config, active, driver, kernel_class, "
      "miss, identity_types, declined_types): dispatcher[grid](*args, **kwargs) launches fn as fn[grid](...) would.";
  t.tp_traverse = dispatcher_traverse;
  t.tp_clear = dispatcher_clear;
  t.tp_methods = dispatcher_methods;
  t.tp_init = dispatcher_init;
  t.tp_new = dispatcher_new;
  return t;
}();

PyModuleDef module_def = {PyModuleDef_HEAD_INIT, "_fast_launch",
                          "kernel[grid](...) in native code for kernels already compiled (see fast_launch.py).", -1,
                          nullptr, nullptr, nullptr, nullptr, nullptr};

}  // namespace

PyMODINIT_FUNC PyInit__fast_launch() {
  struct {
    PyObject **slot;
    const char *text;
  } names[] = {{&g_str_dtype, "dtype"},
               {&g_str_data_ptr, "data_ptr"},
               {&g_str_pre_run_hooks, "pre_run_hooks"},
               {&g_str_debug, "debug"},
               {&g_str_device_caches, "device_caches"},
               {&g_str_used_global_vals, "used_global_vals"},
               {&g_str_enter_hook, "launch_enter_hook"},
               {&g_str_exit_hook, "launch_exit_hook"},
               {&g_str_active, "active"},
               {&g_str_get_current_device, "get_current_device"},
               {&g_str_get_current_stream, "get_current_stream"},
               {&g_str_run, "run"},
               {&g_str_grid, "grid"},
               {&g_str_warmup, "warmup"},
               {&g_str_native_launcher, "native_launcher"},
               {&g_str_tma, "tma_desc_cpu_ptr"}};
  for (auto &n : names)
    if (!(*n.slot = PyUnicode_InternFromString(n.text))) return nullptr;
  if (!(g_one = PyLong_FromLong(1))) return nullptr;
  if (PyType_Ready(&BoundType) < 0 || PyType_Ready(&DispatcherType) < 0) return nullptr;
  PyObject *m = PyModule_Create(&module_def);
  if (!m) return nullptr;
  Py_INCREF(&DispatcherType);
  if (PyModule_AddObject(m, "Dispatcher", reinterpret_cast<PyObject *>(&DispatcherType)) < 0) {
    Py_DECREF(&DispatcherType);
    Py_DECREF(m);
    return nullptr;
  }
  return m;
}
