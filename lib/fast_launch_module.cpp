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

// Each step either succeeds, leaves the call to run (an ordinary Exception it raised is dropped: run meets it
// again and raises it itself), or fails (an error that is not an Exception, such as KeyboardInterrupt, or one
// run would raise at the same point: it propagates).
enum class Step { Ok, Decline, Error };

// After a failed C API call: an ordinary Exception is dropped and the call left to run; anything else propagates.
Step decline_or_error() {
  if (!PyErr_Occurred() || PyErr_ExceptionMatches(PyExc_Exception)) {
    PyErr_Clear();
    return Step::Decline;
  }
  return Step::Error;
}

struct Entry {
  PyObject *kernel_ref = nullptr;   // weak reference to the CompiledKernel: Triton's cache owns it
  PyObject *triton_key = nullptr;   // its key in Triton's kernel cache (str)
  PyObject *launcher = nullptr;     // kernel.run: the backend's launcher object
  PyObject *function = nullptr;     // kernel.function
  std::vector<Py_ssize_t> keep;     // the parameters the kernel takes at run time (launcher.keep)
  std::vector<PyObject *> pinned;   // objects keyed by identity: kept alive, so that no other takes the address
  PyObject *last_stream = nullptr;  // the stream of the last launch, and its native launcher
  PyObject *last_native = nullptr;

  void clear() {
    Py_CLEAR(kernel_ref);
    Py_CLEAR(triton_key);
    Py_CLEAR(launcher);
    Py_CLEAR(function);
    Py_CLEAR(last_stream);
    Py_CLEAR(last_native);
    for (PyObject *&o : pinned) Py_CLEAR(o);
    pinned.clear();
  }
};

using Entries = std::unordered_map<std::string, Entry>;

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
  PyObject *run;             // JITFunction.run as the class had it: a replaced run takes every call
  PyObject *dtype_codes;     // dict: a tensor's dtype object -> small int
  std::vector<long> *kinds;
  Entries *entries;
  bool ready;
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
    *g_str_get_current_stream, *g_str_run, *g_str_grid, *g_str_warmup, *g_str_native_launcher, *g_str_tma, *g_one,
    *g_index[3];

// --- the key ------------------------------------------------------------------------------------------------

template <class T>
void put(std::string &key, T value) {
  key.append(reinterpret_cast<const char *>(&value), sizeof value);
}

// What one call is keyed by: the bytes, and the objects keyed by their identity (borrowed: the call's arguments).
struct Key {
  std::string bytes;
  std::vector<PyObject *> identities;
};

// A constexpr's or an option's value, by type and value (what str() of it depends on).
Step encode_value(Dispatcher *d, PyObject *v, Key &key) {
  std::string &k = key.bytes;
  if (v == Py_None) {
    k.push_back('N');
  } else if (PyBool_Check(v)) {
    k.push_back(v == Py_True ? 'T' : 'F');
  } else if (PyLong_CheckExact(v)) {
    int overflow = 0;
    long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (overflow) return Step::Decline;
    k.push_back('i');
    put(k, x);
  } else if (PyFloat_CheckExact(v)) {
    double x = PyFloat_AS_DOUBLE(v);
    if (x != x) return Step::Decline;  // NaN: Triton's key is its str, ours would never repeat
    k.push_back('f');
    put(k, x);
  } else if (PyUnicode_CheckExact(v)) {
    Py_ssize_t n = 0;
    const char *s = PyUnicode_AsUTF8AndSize(v, &n);
    if (!s) return decline_or_error();
    k.push_back('s');
    put(k, n);
    k.append(s, static_cast<size_t>(n));
  } else if (!PyType_Check(v)) {
    int identity = PyObject_IsInstance(v, d->identity_types);  // immutable objects: same object, same str
    if (identity < 0) return decline_or_error();
    if (!identity) return Step::Decline;
    k.push_back('o');
    put(k, reinterpret_cast<uintptr_t>(v));
    key.identities.push_back(v);
  } else {
    return Step::Decline;
  }
  return Step::Ok;
}

// run: kwargs["debug"] = kwargs.get("debug", self.debug) or os.environ.get("TRITON_DEBUG", "0") == "1", an option.
Step encode_debug(Dispatcher *d, PyObject *debug, Key &key) {
  int truthy = PyObject_IsTrue(debug);
  if (truthy < 0) return decline_or_error();
  const char *env = std::getenv("TRITON_DEBUG");
  PyObject *effective = truthy ? debug : ((env && std::strcmp(env, "1") == 0) ? Py_True : Py_False);
  key.bytes.push_back('K');
  Step named = encode_value(d, g_str_debug, key);
  return named == Step::Ok ? encode_value(d, effective, key) : named;
}

// A tensor's dtype as a small code: equal dtypes get one code (Triton maps them to one type name).
Step dtype_code(Dispatcher *d, PyObject *v, uint16_t &out) {
  PyObject *dtype = PyObject_GetAttr(v, g_str_dtype);
  if (!dtype) return decline_or_error();
  PyObject *code = PyDict_GetItemWithError(d->dtype_codes, dtype);  // borrowed from a dict that never shrinks
  if (!code && !PyErr_Occurred() && PyDict_GET_SIZE(d->dtype_codes) < 256) {
    PyObject *fresh = PyLong_FromSsize_t(PyDict_GET_SIZE(d->dtype_codes));
    if (fresh && PyDict_SetItem(d->dtype_codes, dtype, fresh) == 0) code = fresh;
    Py_XDECREF(fresh);
  }
  Py_DECREF(dtype);
  if (!code) return PyErr_Occurred() ? decline_or_error() : Step::Decline;
  out = static_cast<uint16_t>(PyLong_AsLong(code));
  return Step::Ok;
}

// hasattr(v, name) without making an AttributeError where the lookup is the generic one (it costs more than the
// rest of a call's key): 1, 0, or -1 with an error set.
int has_attribute(PyObject *v, PyObject *name) {
  PyObject *found = nullptr;
#if PY_VERSION_HEX >= 0x030D0000
  int result = PyObject_GetOptionalAttr(v, name, &found);
#else
  int result = _PyObject_LookupAttr(v, name, &found);
#endif
  Py_XDECREF(found);
  return result;
}

// A runtime argument as specialize_impl classifies it.  An annotated parameter's type is its annotation whatever
// the value, so only specialize_impl's key part is encoded: None (None, bools, floats, unspecialised values), ""
// ('-'), "D" or 1.
Step encode_argument(Dispatcher *d, PyObject *v, long kind, Key &key) {
  std::string &k = key.bytes;
  const bool annotated = kind & kAnnotated;
  kind &= ~kAnnotated;
  const bool specialize = kind != kNoSpecialize, align = kind == kSpecialize;
  if (v == Py_None || PyBool_Check(v)) {
    k.push_back(annotated ? 'n' : (v == Py_None ? 'N' : 'B'));
    return Step::Ok;
  }
  if (PyLong_Check(v)) {
    int overflow = 0;
    long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (x == -1 && PyErr_Occurred()) return decline_or_error();
    char range;  // Triton's i32, u64 or i64
    bool divisible = false, one = false;
    if (overflow == 0) {
      range = (x >= -(1LL << 31) && x <= (1LL << 31) - 1) ? '4' : '8';
      divisible = x % 16 == 0;
      one = x == 1;
    } else if (overflow > 0) {
      unsigned long long u = PyLong_AsUnsignedLongLong(v);
      if (u == static_cast<unsigned long long>(-1) && PyErr_Occurred()) return decline_or_error();  // > 64 bits
      range = 'u';
      divisible = u % 16 == 0;
    } else {
      return Step::Decline;  // below -2**63: run's path
    }
    if (!annotated) {
      k.push_back('I');
      k.push_back(range);
    }
    k.push_back(specialize ? (one ? '1' : (align && divisible ? 'D' : '-')) : 'n');
    return Step::Ok;
  }
  if (PyFloat_Check(v)) {
    k.push_back(annotated ? 'n' : 'R');
    return Step::Ok;
  }
  if (PyTuple_Check(v)) return Step::Decline;
  int declined = PyObject_IsInstance(v, d->declined_types);  // JITFunctions, dtypes, constexpr objects
  if (declined != 0) return declined < 0 ? decline_or_error() : Step::Decline;
  int tma = has_attribute(v, g_str_tma);  // NVIDIA's TMA descriptors: run's path
  if (tma != 0) return tma < 0 ? decline_or_error() : Step::Decline;
  // A tensor: its dtype, and the divisibility of its address by 16.
  uint16_t code = 0;
  Step got = dtype_code(d, v, code);
  if (got != Step::Ok) return got;
  if (!annotated) {
    k.push_back('P');
    put(k, code);
  }
  if (!specialize) {
    k.push_back('n');
  } else if (!align) {
    k.push_back('-');
  } else {
    PyObject *address = PyObject_CallMethodNoArgs(v, g_str_data_ptr);
    if (!address) return decline_or_error();
    if (!PyLong_Check(address)) {
      Py_DECREF(address);
      return Step::Decline;
    }
    unsigned long long a = PyLong_AsUnsignedLongLongMask(address);
    Py_DECREF(address);
    if (a == static_cast<unsigned long long>(-1) && PyErr_Occurred()) return decline_or_error();
    k.push_back(a % 16 == 0 ? 'D' : '-');
  }
  return Step::Ok;
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

// What a call's key depends on, encoded into `key`, and its parameters' values (borrowed: the call's arguments
// and the defaults) into `values`; `device` gets the current device (a new reference).
Step compute_key(Dispatcher *d, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, PyObject **values,
                 Key &key, PyObject *&device) {
  const Py_ssize_t nparams = PyTuple_GET_SIZE(d->names);
  const Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
  device = nullptr;
  if (nargs > nparams) return Step::Decline;  // run raises the binder's TypeError
  // Bind: positional, then keywords naming parameters; other keywords are options (in the key, in order).
  for (Py_ssize_t i = 0; i < nparams; ++i) values[i] = i < nargs ? args[i] : nullptr;
  key.bytes.reserve(16 + 4 * static_cast<size_t>(nparams + nkw));
  bool debug_given = false;
  for (Py_ssize_t i = 0; i < nkw; ++i) {
    PyObject *name = PyTuple_GET_ITEM(kwnames, i), *value = args[nargs + i];
    if (!PyUnicode_CheckExact(name)) return Step::Decline;
    PyObject *index = PyDict_GetItemWithError(d->name_index, name);
    Step step = Step::Ok;
    if (index) {
      Py_ssize_t at = PyLong_AsSsize_t(index);
      if (values[at]) return Step::Decline;  // given twice: run raises
      values[at] = value;
    } else if (PyErr_Occurred()) {
      return decline_or_error();
    } else if (PyUnicode_Compare(name, g_str_debug) == 0) {
      debug_given = true;  // run's kwargs["debug"] keeps its place among the options
      step = encode_debug(d, value, key);
    } else {
      key.bytes.push_back('K');
      step = encode_value(d, name, key);
      if (step == Step::Ok) step = encode_value(d, value, key);
    }
    if (step != Step::Ok) return step;
  }
  for (Py_ssize_t i = 0; i < nparams; ++i) {
    if (!values[i]) {
      PyObject *dflt = PyTuple_GET_ITEM(d->defaults, i);
      if (dflt == d->missing) return Step::Decline;  // run raises the binder's TypeError
      values[i] = dflt;
    }
    long kind = (*d->kinds)[static_cast<size_t>(i)];
    Step step = kind == kConstexpr ? encode_value(d, values[i], key) : encode_argument(d, values[i], kind, key);
    if (step != Step::Ok) return step;
  }
  if (!debug_given) {  // appended to the options, from the kernel's own setting
    PyObject *own = PyObject_GetAttr(d->fn, g_str_debug);
    if (!own) return decline_or_error();
    Step step = encode_debug(d, own, key);
    Py_DECREF(own);
    if (step != Step::Ok) return step;
  }
  device = PyObject_CallMethodNoArgs(d->driver, g_str_get_current_device);
  if (!device) return Step::Error;  // run asks the same driver first: its error
  int overflow = 0;
  long long index = PyLong_Check(device) ? PyLong_AsLongLongAndOverflow(device, &overflow) : -1;
  if (!PyLong_Check(device) || overflow || (index == -1 && PyErr_Occurred())) {
    Py_CLEAR(device);
    return decline_or_error();
  }
  key.bytes.push_back('@');
  put(key.bytes, index);
  return Step::Ok;
}

// --- a call -------------------------------------------------------------------------------------------------

// JITFunction.run(*args, grid=grid, warmup=False, **kwargs): the Python path, for whatever is not handled here.
PyObject *run_in_python(Dispatcher *d, PyObject *grid, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames) {
  ++d->declined;
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

// The Entry to remember from miss()'s answer (kernel, (triton_key, launcher, function, keep)); false: none.
bool make_entry(PyObject *kernel, PyObject *info, const Key &key, Entry &e) {
  if (!PyTuple_Check(info) || PyTuple_GET_SIZE(info) != 4 || !PyUnicode_Check(PyTuple_GET_ITEM(info, 0)) ||
      !PyTuple_Check(PyTuple_GET_ITEM(info, 3)))
    return false;
  PyObject *keep = PyTuple_GET_ITEM(info, 3);
  for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(keep); ++i) {
    Py_ssize_t at = PyLong_AsSsize_t(PyTuple_GET_ITEM(keep, i));
    if (at < 0) {
      PyErr_Clear();
      return false;
    }
    e.keep.push_back(at);
  }
  e.kernel_ref = PyWeakref_NewRef(kernel, nullptr);
  if (!e.kernel_ref) {
    PyErr_Clear();
    return false;
  }
  e.triton_key = PyTuple_GET_ITEM(info, 0);
  e.launcher = PyTuple_GET_ITEM(info, 1);
  e.function = PyTuple_GET_ITEM(info, 2);
  Py_INCREF(e.triton_key);
  Py_INCREF(e.launcher);
  Py_INCREF(e.function);
  for (PyObject *o : key.identities) {
    Py_INCREF(o);
    e.pinned.push_back(o);
  }
  return true;
}

// The first call of a specialisation: run compiles or finds the kernel; miss() says how to launch it again.
PyObject *remember(Dispatcher *d, const Key &key, PyObject *grid, PyObject *const *args, Py_ssize_t nargs,
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
  PyObject *out = kwargs ? PyObject_CallFunctionObjArgs(d->miss, d->fn, grid, tuple, kwargs, nullptr) : nullptr;
  Py_DECREF(tuple);
  Py_XDECREF(kwargs);
  if (!out) return nullptr;
  if (!PyTuple_Check(out) || PyTuple_GET_SIZE(out) != 2) {
    Py_DECREF(out);
    PyErr_SetString(PyExc_SystemError, "fast_launch: miss() must return (kernel, entry or None)");
    return nullptr;
  }
  PyObject *kernel = PyTuple_GET_ITEM(out, 0), *info = PyTuple_GET_ITEM(out, 1);
  Py_INCREF(kernel);
  Entry e;
  if (info != Py_None && d->entries->size() < kMaxEntries && make_entry(kernel, info, key, e)) {
    auto old = d->entries->find(key.bytes);
    if (old != d->entries->end()) {
      Entry gone = old->second;  // released after the map no longer holds it
      d->entries->erase(old);
      gone.clear();
    }
    d->entries->emplace(key.bytes, e);
  } else {
    e.clear();
  }
  Py_DECREF(out);
  return kernel;
}

// Triton's run would take the Python path anyway (hooks, another driver, a replaced run): Ok to go on.
Step fast_path_applies(Dispatcher *d) {
  PyObject *active = PyObject_GetAttr(d->driver_config, g_str_active);
  if (!active) return decline_or_error();
  Py_DECREF(active);  // compared by identity only
  if (active != d->active) return Step::Decline;
  PyObject *run = PyObject_GetAttr(reinterpret_cast<PyObject *>(Py_TYPE(d->fn)), g_str_run);
  if (!run) return decline_or_error();
  Py_DECREF(run);
  if (run != d->run) return Step::Decline;
  PyObject *dict = PyObject_GenericGetDict(d->fn, nullptr);  // fn.run = ...: that run takes every call
  if (!dict) return decline_or_error();
  bool replaced = PyDict_GetItemWithError(dict, g_str_run) != nullptr;
  Py_DECREF(dict);
  if (replaced) return Step::Decline;
  if (PyErr_Occurred()) return decline_or_error();
  PyObject *hooks = PyObject_GetAttr(d->fn, g_str_pre_run_hooks);
  if (!hooks) return decline_or_error();
  bool busy = !PyList_Check(hooks) || PyList_GET_SIZE(hooks) != 0;
  Py_DECREF(hooks);
  for (PyObject *name : {g_str_enter_hook, g_str_exit_hook}) {
    PyObject *hook = PyObject_GetAttr(d->kernel_class, name);
    if (!hook) return decline_or_error();
    busy = busy || hook != Py_None;
    Py_DECREF(hook);
  }
  return busy ? Step::Decline : Step::Ok;
}

// Every global a compiled kernel of this function read still has its value (run raises otherwise): run's own
// test, `now != value` (no identity shortcut: a NaN global always differs for run too).
Step globals_unchanged(Dispatcher *d) {
  PyObject *used = PyObject_GetAttr(d->fn, g_str_used_global_vals);
  if (!used) return decline_or_error();
  if (!PyDict_Check(used) || PyDict_GET_SIZE(used) == 0) {
    Step step = PyDict_Check(used) ? Step::Ok : Step::Decline;
    Py_DECREF(used);
    return step;
  }
  PyObject *items = PyDict_Items(used);  // a snapshot: __ne__ may run any code
  Py_DECREF(used);
  if (!items) return decline_or_error();
  Step step = Step::Ok;
  for (Py_ssize_t i = 0; step == Step::Ok && i < PyList_GET_SIZE(items); ++i) {
    PyObject *item = PyList_GET_ITEM(items, i);  // (name key, (value, globals dict)), held by the list
    PyObject *name_key = PyTuple_GET_ITEM(item, 0), *pair = PyTuple_GET_ITEM(item, 1);
    if (!PyTuple_Check(name_key) || PyTuple_GET_SIZE(name_key) < 1 || !PyTuple_Check(pair) ||
        PyTuple_GET_SIZE(pair) != 2 || !PyDict_Check(PyTuple_GET_ITEM(pair, 1))) {
      step = Step::Decline;
      break;
    }
    PyObject *now = PyDict_GetItemWithError(PyTuple_GET_ITEM(pair, 1), PyTuple_GET_ITEM(name_key, 0));
    if (!now) {
      step = PyErr_Occurred() ? decline_or_error() : Step::Decline;
      break;
    }
    Py_INCREF(now);
    PyObject *differs = PyObject_RichCompare(now, PyTuple_GET_ITEM(pair, 0), Py_NE);
    Py_DECREF(now);
    int truth = differs ? PyObject_IsTrue(differs) : -1;
    Py_XDECREF(differs);
    if (truth != 0) step = truth < 0 ? decline_or_error() : Step::Decline;
  }
  Py_DECREF(items);
  return step;
}

// Triton's kernel cache for this device still holds the remembered kernel under Triton's key: a new reference
// to it, else None (and no error set) -- or nullptr with an error that must propagate.
PyObject *cached_kernel(Dispatcher *d, PyObject *device, const Entry &e) {
  PyObject *kernel = PyWeakref_GetObject(e.kernel_ref);  // borrowed; None once the kernel is gone
  if (kernel == Py_None) Py_RETURN_NONE;
  PyObject *caches = PyObject_GetAttr(d->fn, g_str_device_caches);
  if (!caches) return decline_or_error() == Step::Error ? nullptr : (Py_INCREF(Py_None), Py_None);
  PyObject *found = nullptr;
  if (PyDict_Check(caches)) {
    PyObject *per_device = PyDict_GetItemWithError(caches, device);
    if (per_device && PyTuple_Check(per_device) && PyTuple_GET_SIZE(per_device) > 0 &&
        PyDict_Check(PyTuple_GET_ITEM(per_device, 0)))
      found = PyDict_GetItemWithError(PyTuple_GET_ITEM(per_device, 0), e.triton_key);
  }
  Py_DECREF(caches);
  if (PyErr_Occurred() && decline_or_error() == Step::Error) return nullptr;
  if (found != kernel) Py_RETURN_NONE;
  Py_INCREF(kernel);
  return kernel;
}

// The grid, as run reads it: grid(bound_args) if callable, then len(grid), grid[0], grid[1] if there, grid[2] if
// there, else 1.  Errors propagate, as from run (which would evaluate the grid at the same point).
bool grid_dims(Dispatcher *d, PyObject *grid, PyObject *const *values, PyObject *dims[3]) {
  PyObject *seq = grid;
  Py_INCREF(seq);
  if (PyCallable_Check(grid)) {
    // grid(bound_args): every parameter by name, in order, as run's binder gives them.
    PyObject *bound = PyDict_New();
    for (Py_ssize_t i = 0; bound && i < PyTuple_GET_SIZE(d->names); ++i)
      if (PyDict_SetItem(bound, PyTuple_GET_ITEM(d->names, i), values[i]) < 0) Py_CLEAR(bound);
    Py_DECREF(seq);
    seq = bound ? PyObject_CallOneArg(grid, bound) : nullptr;
    Py_XDECREF(bound);
    if (!seq) return false;
  }
  Py_ssize_t n = PyObject_Length(seq);
  bool ok = n >= 0;
  for (Py_ssize_t i = 0; i < 3; ++i) dims[i] = nullptr;
  for (Py_ssize_t i = 0; ok && i < 3; ++i) {
    if (i == 0 || i < n) {
      dims[i] = PyObject_GetItem(seq, g_index[i]);
      ok = dims[i] != nullptr;
    } else {
      Py_INCREF(g_one);
      dims[i] = g_one;
    }
  }
  Py_DECREF(seq);
  if (!ok)
    for (int i = 0; i < 3; ++i) Py_CLEAR(dims[i]);
  return ok;
}

// What a remembered call launches with, held while the call runs any Python code (the entry may go meanwhile).
struct Hit {
  PyObject *kernel = nullptr, *launcher = nullptr, *function = nullptr, *native = nullptr, *stream = nullptr;
  PyObject *last_native = nullptr, *last_stream = nullptr;  // the entry's launcher of its last stream, when found
  std::vector<Py_ssize_t> keep;
  ~Hit() {
    Py_XDECREF(kernel);
    Py_XDECREF(launcher);
    Py_XDECREF(function);
    Py_XDECREF(native);
    Py_XDECREF(stream);
    Py_XDECREF(last_native);
    Py_XDECREF(last_stream);
  }
};

// The native launcher for the hit's stream: the entry's last one (taken when the entry was found) when the
// stream is the same, else the launcher object's (remembered in the entry if it is still there).
bool native_launcher(Dispatcher *d, const std::string &key, Hit &hit) {
  if (hit.last_native && hit.last_stream) {
    int same = PyObject_RichCompareBool(hit.stream, hit.last_stream, Py_EQ);
    if (same < 0) return false;
    if (same) {
      hit.native = hit.last_native;
      Py_INCREF(hit.native);
      return true;
    }
  }
  hit.native = PyObject_CallMethodObjArgs(hit.launcher, g_str_native_launcher, hit.function, hit.stream, nullptr);
  if (!hit.native) return false;
  auto found = d->entries->find(key);  // the call above ran Python code
  if (found != d->entries->end() && PyWeakref_GetObject(found->second.kernel_ref) == hit.kernel) {
    Py_INCREF(hit.native);
    Py_XSETREF(found->second.last_native, hit.native);
    Py_INCREF(hit.stream);
    Py_XSETREF(found->second.last_stream, hit.stream);
  }
  return true;
}

// The launch, as run's last step: the native launcher with the grid and the runtime arguments.  If it refuses
// (it does so before appending anything), the launcher object itself is called as run calls it, so the error is
// the complete one run raises (or the launch happens, where the launcher object recovers, e.g. from a stale
// queue).
PyObject *launch(Dispatcher *d, const std::string &key, Hit &hit, PyObject *dims[3], PyObject *const *values) {
  const size_t nparams = static_cast<size_t>(PyTuple_GET_SIZE(d->names));
  Values argv_room(static_cast<Py_ssize_t>(9 + nparams));
  PyObject **argv = argv_room.data;
  for (int i = 0; i < 3; ++i) argv[i] = dims[i];
  if (native_launcher(d, key, hit)) {
    for (size_t i = 0; i < hit.keep.size(); ++i) argv[3 + i] = values[hit.keep[i]];
    PyObject *done = PyObject_Vectorcall(hit.native, argv, 3 + hit.keep.size(), nullptr);
    if (done || !PyErr_ExceptionMatches(PyExc_Exception)) return done;
    PyErr_Clear();
    auto found = d->entries->find(key);  // a launcher that refused is not asked again
    if (found != d->entries->end()) {
      Py_CLEAR(found->second.last_native);
      Py_CLEAR(found->second.last_stream);
    }
  } else if (!PyErr_ExceptionMatches(PyExc_Exception)) {
    return nullptr;
  } else {
    PyErr_Clear();
  }
  // launcher(gx, gy, gz, stream, function, packed_metadata, launch_metadata, enter_hook, exit_hook, *every value)
  argv[3] = hit.stream;
  argv[4] = hit.function;
  for (int i = 5; i < 9; ++i) argv[i] = Py_None;
  for (size_t i = 0; i < nparams; ++i) argv[9 + i] = values[i];
  return PyObject_Vectorcall(hit.launcher, argv, 9 + nparams, nullptr);
}

PyObject *dispatch(Dispatcher *d, PyObject *grid, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
  const Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  Step applies = fast_path_applies(d);
  if (applies != Step::Ok) return applies == Step::Error ? nullptr : run_in_python(d, grid, args, nargs, kwnames);
  Values values(PyTuple_GET_SIZE(d->names));
  Key key;
  PyObject *device;
  Step keyed = compute_key(d, args, nargs, kwnames, values.data, key, device);
  if (keyed != Step::Ok) return keyed == Step::Error ? nullptr : run_in_python(d, grid, args, nargs, kwnames);
  Hit hit;
  auto found = d->entries->find(key.bytes);
  if (found != d->entries->end()) {
    hit.kernel = cached_kernel(d, device, found->second);
    if (!hit.kernel) {
      Py_DECREF(device);
      return nullptr;
    }
    if (hit.kernel == Py_None) Py_CLEAR(hit.kernel);
  }
  if (hit.kernel) {
    Entry &e = found->second;  // not used after any Python code runs
    hit.launcher = e.launcher;
    hit.function = e.function;
    hit.last_native = e.last_native;
    hit.last_stream = e.last_stream;
    Py_INCREF(hit.launcher);
    Py_INCREF(hit.function);
    Py_XINCREF(hit.last_native);
    Py_XINCREF(hit.last_stream);
    hit.keep = e.keep;
  }
  Step globals = hit.kernel ? globals_unchanged(d) : Step::Decline;
  if (globals == Step::Error) {
    Py_DECREF(device);
    return nullptr;
  }
  if (globals != Step::Ok) {
    Py_DECREF(device);
    return remember(d, key, grid, args, nargs, kwnames);  // run compiles, raises or finds it
  }
  PyObject *dims[3];
  if (!grid_dims(d, grid, values.data, dims)) {
    Py_DECREF(device);
    return nullptr;
  }
  hit.stream = PyObject_CallMethodOneArg(d->driver, g_str_get_current_stream, device);
  Py_DECREF(device);
  PyObject *done = hit.stream ? launch(d, key.bytes, hit, dims, values.data) : nullptr;
  for (auto &dim : dims) Py_DECREF(dim);
  if (!done) return nullptr;
  Py_DECREF(done);
  ++d->hits;
  Py_INCREF(hit.kernel);
  return hit.kernel;
}

// --- Bound: what kernel[grid] returns -----------------------------------------------------------------------

PyObject *bound_vectorcall(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
  Bound *b = reinterpret_cast<Bound *>(self);
  if (!b->dispatcher || !b->dispatcher->ready) {
    PyErr_SetString(PyExc_RuntimeError, "kernel[grid]: its dispatcher was cleared");
    return nullptr;
  }
  // Held for the call: the grid callable may drop the last reference to this object.
  Py_INCREF(self);
  PyObject *result = dispatch(b->dispatcher, b->grid, args, nargsf, kwnames);
  Py_DECREF(self);
  return result;
}

int bound_traverse(PyObject *self, visitproc visit, void *arg) {
  Bound *b = reinterpret_cast<Bound *>(self);
  Py_VISIT(reinterpret_cast<PyObject *>(b->dispatcher));
  Py_VISIT(b->grid);
  return 0;
}

int bound_clear(PyObject *self) {
  Bound *b = reinterpret_cast<Bound *>(self);
  PyObject *dispatcher = reinterpret_cast<PyObject *>(b->dispatcher);
  b->dispatcher = nullptr;
  Py_XDECREF(dispatcher);
  Py_CLEAR(b->grid);
  return 0;
}

void bound_dealloc(PyObject *self) {
  PyObject_GC_UnTrack(self);
  bound_clear(self);
  PyObject_GC_Del(self);
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
  t.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL | Py_TPFLAGS_HAVE_GC;
  t.tp_traverse = bound_traverse;
  t.tp_clear = bound_clear;
  t.tp_doc = "kernel[grid]: call it with the kernel's arguments.";
  return t;
}();

// --- Dispatcher ---------------------------------------------------------------------------------------------

PyObject *dispatcher_getitem(PyObject *self, PyObject *grid) {
  Bound *b = PyObject_GC_New(Bound, &BoundType);
  if (!b) return nullptr;
  b->vectorcall = bound_vectorcall;
  Py_INCREF(self);
  b->dispatcher = reinterpret_cast<Dispatcher *>(self);
  Py_INCREF(grid);
  b->grid = grid;
  PyObject_GC_Track(reinterpret_cast<PyObject *>(b));
  return reinterpret_cast<PyObject *>(b);
}

#define DISPATCHER_FIELDS(X) \
  X(fn) X(names) X(name_index) X(defaults) X(missing) X(driver_config) X(active) X(driver) X(kernel_class) \
  X(miss) X(identity_types) X(declined_types) X(run) X(dtype_codes)

int dispatcher_init(PyObject *self, PyObject *args, PyObject *) {
  Dispatcher *d = reinterpret_cast<Dispatcher *>(self);
  if (d->ready) {
    PyErr_SetString(PyExc_TypeError, "Dispatcher: already initialised");
    return -1;
  }
  PyObject *kinds;
#define FIELD_PTR(f) &d->f,
  PyObject **fields[] = {DISPATCHER_FIELDS(FIELD_PTR)};
#undef FIELD_PTR
  PyObject *fn, *names, *name_index, *defaults, *missing, *driver_config, *active, *driver, *kernel_class, *miss,
      *identity_types, *declined_types, *run;
  if (!PyArg_ParseTuple(args, "OO!O!O!O!OOOOOOO!O!O:Dispatcher", &fn, &PyTuple_Type, &names, &PyDict_Type,
                        &name_index, &PyTuple_Type, &kinds, &PyTuple_Type, &defaults, &missing, &driver_config,
                        &active, &driver, &kernel_class, &miss, &PyTuple_Type, &identity_types, &PyTuple_Type,
                        &declined_types, &run))
    return -1;
  if (PyTuple_GET_SIZE(kinds) != PyTuple_GET_SIZE(names) || PyTuple_GET_SIZE(defaults) != PyTuple_GET_SIZE(names)) {
    PyErr_SetString(PyExc_ValueError, "Dispatcher: names, kinds and defaults must have one entry per parameter");
    return -1;
  }
  std::vector<long> parsed;
  for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(kinds); ++i) {
    long k = PyLong_AsLong(PyTuple_GET_ITEM(kinds, i));
    if (k < kConstexpr || (k & ~kAnnotated) > kNoSpecialize || k == (kConstexpr | kAnnotated)) {
      if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "Dispatcher: a kind is 0, or 1, 2 or 3 plus 4 or not");
      return -1;
    }
    parsed.push_back(k);
  }
  PyObject *values[] = {fn,   names,          name_index,     defaults, missing, driver_config, active, driver,
                        kernel_class, miss, identity_types, declined_types, run,      nullptr};
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; ++i) {
    PyObject *v = values[i] ? values[i] : PyDict_New();
    if (!v) return -1;
    if (values[i]) Py_INCREF(v);
    Py_XSETREF(*fields[i], v);
  }
  *d->kinds = parsed;
  d->ready = true;
  return 0;
}

PyObject *dispatcher_new(PyTypeObject *type, PyObject *, PyObject *) {
  Dispatcher *d = reinterpret_cast<Dispatcher *>(type->tp_alloc(type, 0));
  if (!d) return nullptr;
  d->kinds = new std::vector<long>();
  d->entries = new Entries();
  d->ready = false;
  return reinterpret_cast<PyObject *>(d);
}

// Drops every entry: the map is emptied first, so that code run by a released object finds it empty.
void clear_entries(Dispatcher *d) {
  if (!d->entries) return;
  Entries gone;
  gone.swap(*d->entries);
  for (auto &kv : gone) kv.second.clear();
}

int dispatcher_traverse(PyObject *self, visitproc visit, void *arg) {
  Dispatcher *d = reinterpret_cast<Dispatcher *>(self);
#define VISIT(f) Py_VISIT(d->f);
  DISPATCHER_FIELDS(VISIT)
#undef VISIT
  if (d->entries)
    for (auto &kv : *d->entries) {
      Py_VISIT(kv.second.kernel_ref);
      Py_VISIT(kv.second.launcher);
      Py_VISIT(kv.second.function);
      Py_VISIT(kv.second.last_native);
      for (PyObject *o : kv.second.pinned) Py_VISIT(o);
    }
  return 0;
}

int dispatcher_clear(PyObject *self) {
  Dispatcher *d = reinterpret_cast<Dispatcher *>(self);
  d->ready = false;
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
  if (!d->ready) {
    PyErr_SetString(PyExc_RuntimeError, "Dispatcher: not initialised");
    return nullptr;
  }
  Values values(PyTuple_GET_SIZE(d->names));
  Key key;
  PyObject *device;
  switch (compute_key(d, args, PyVectorcall_NARGS(nargsf), kwnames, values.data, key, device)) {
    case Step::Error:
      return nullptr;
    case Step::Decline:
      Py_RETURN_NONE;
    case Step::Ok:
      break;
  }
  Py_DECREF(device);
  return PyBytes_FromStringAndSize(key.bytes.data(), static_cast<Py_ssize_t>(key.bytes.size()));
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
      "miss, identity_types, declined_types, run): dispatcher[grid](*args, **kwargs) launches fn as fn[grid](...) would.";
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
  for (long i = 0; i < 3; ++i)
    if (!(g_index[i] = PyLong_FromLong(i))) return nullptr;
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
