// A launcher as a plain CPython type called through vectorcall: a launch skips pybind11's dispatcher and its
// argument tuple (~200 ns per call, measured on the Level Zero launcher).  Header-only, shared by the Level
// Zero launcher (_level_zero) and the SYCL one (_sycl), which are separate extension modules.
//
// `Impl` has `void call(PyObject *const *args, size_t n)` (launcher(gx, gy, gz, *args)); `set_error` turns the
// C++ exception being handled into the Python error (each module knows its own exception types).
#pragma once

#include <Python.h>
#include <pybind11/pybind11.h>

#include <cstddef>
#include <new>
#include <stdexcept>

namespace triton_xpu {

// From a catch handler: sets the Python error for the exception being handled, for the types every module
// shares -- pybind11's and the standard library's, mapped as pybind11 maps them.  A module catches its own
// exception types first and calls this for the rest.
inline void set_common_python_error() {
  try {
    throw;
  } catch (pybind11::error_already_set &e) {
    e.restore();
  } catch (const pybind11::builtin_exception &e) {
    e.set_error();
  } catch (const std::out_of_range &e) {
    PyErr_SetString(PyExc_IndexError, e.what());
  } catch (const std::invalid_argument &e) {
    PyErr_SetString(PyExc_ValueError, e.what());
  } catch (const std::overflow_error &e) {
    PyErr_SetString(PyExc_OverflowError, e.what());
  } catch (const std::bad_alloc &) {
    PyErr_NoMemory();
  } catch (const std::exception &e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
  } catch (...) {
    PyErr_SetString(PyExc_RuntimeError, "unknown C++ exception");
  }
}

template <class Impl>
struct LauncherObject {
  PyObject_HEAD
  vectorcallfunc vectorcall;
  Impl *impl;
};

template <class Impl>
Impl *launcher_impl(PyObject *self) {
  Impl *impl = reinterpret_cast<LauncherObject<Impl> *>(self)->impl;
  if (!impl) PyErr_SetString(PyExc_RuntimeError, "the launcher was not initialised");
  return impl;
}

template <class Impl, void (*set_error)()>
PyObject *launcher_vectorcall(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
  if (kwnames && PyTuple_GET_SIZE(kwnames)) {
    PyErr_SetString(PyExc_TypeError, "launcher(gx, gy, gz, *args) takes no keyword arguments");
    return nullptr;
  }
  Impl *impl = launcher_impl<Impl>(self);
  if (!impl) return nullptr;
  try {
    impl->call(args, PyVectorcall_NARGS(nargsf));
  } catch (...) {
    set_error();
    return nullptr;
  }
  Py_RETURN_NONE;
}

template <class Impl, void (*set_error)()>
PyObject *launcher_new(PyTypeObject *type, PyObject *, PyObject *) {
  PyObject *self = type->tp_alloc(type, 0);
  if (self) {
    auto *obj = reinterpret_cast<LauncherObject<Impl> *>(self);
    obj->vectorcall = launcher_vectorcall<Impl, set_error>;
    obj->impl = nullptr;
  }
  return self;
}

// Installs a new implementation (tp_init): the old one, if any, is dropped.
template <class Impl>
void launcher_set_impl(PyObject *self, Impl *impl) {
  auto *obj = reinterpret_cast<LauncherObject<Impl> *>(self);
  delete obj->impl;
  obj->impl = impl;
}

template <class Impl>
void launcher_dealloc(PyObject *self) {
  launcher_set_impl<Impl>(self, nullptr);
  Py_TYPE(self)->tp_free(self);
}

// The type object: name, doc, init and attributes are the module's; the rest is the same for every launcher.
template <class Impl, void (*set_error)()>
PyTypeObject launcher_type(const char *name, const char *doc, initproc init, PyGetSetDef *getset,
                           reprfunc repr = nullptr) {
  PyTypeObject t{};
  PyVarObject head = {PyObject_HEAD_INIT(nullptr) 0};
  t.ob_base = head;
  t.tp_name = name;
  t.tp_basicsize = sizeof(LauncherObject<Impl>);
  t.tp_dealloc = launcher_dealloc<Impl>;
  t.tp_vectorcall_offset = offsetof(LauncherObject<Impl>, vectorcall);
  t.tp_repr = repr;
  t.tp_call = PyVectorcall_Call;
  t.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL;
  t.tp_doc = doc;
  t.tp_getset = getset;
  t.tp_init = init;
  t.tp_new = launcher_new<Impl, set_error>;
  return t;
}

}  // namespace triton_xpu
