// Launch arguments: the kinds a Triton kernel's runtime arguments have, and their conversion from Python
// objects to the bytes a kernel argument takes.  Header-only, shared by the Level Zero launcher
// (_level_zero) and the SYCL one (_sycl), which are separate extension modules.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <cstring>
#include <string>

namespace triton_xpu {

namespace py = pybind11;

// IEEE binary format rounding (round to nearest even, overflow to infinity, NaN kept quiet):
// the bit pattern of `x` as a float with `exp_bits` exponent and `mant_bits` mantissa bits.
// (5, 10) is fp16, (8, 7) bf16, (8, 23) fp32.
inline uint32_t round_to_float_bits(double x, int exp_bits, int mant_bits) {
  uint64_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  const uint32_t sign = static_cast<uint32_t>(bits >> 63) << (exp_bits + mant_bits);
  const int exp_field = static_cast<int>((bits >> 52) & 0x7ff);
  const uint64_t frac = bits & ((uint64_t{1} << 52) - 1);
  const uint32_t max_exp = (uint32_t{1} << exp_bits) - 1;  // all ones: inf / NaN
  if (exp_field == 0x7ff) {
    if (frac == 0) return sign | (max_exp << mant_bits);
    // NaN: keep the top payload bits, force quiet.
    uint32_t payload = static_cast<uint32_t>(frac >> (52 - mant_bits)) | (uint32_t{1} << (mant_bits - 1));
    return sign | (max_exp << mant_bits) | payload;
  }
  if (exp_field == 0 && frac == 0) return sign;
  // x = sig * 2^(exp - 52), sig with its implicit bit (double subnormals: none, exp = -1022).
  const int exp = exp_field == 0 ? -1022 : exp_field - 1023;
  const uint64_t sig = exp_field == 0 ? frac : frac | (uint64_t{1} << 52);
  const int bias = static_cast<int>(max_exp >> 1);
  int biased = exp + bias;  // the target's biased exponent, if the result is normal
  // Bits of sig to drop: the surplus mantissa bits, plus the subnormal shift.
  const int shift = (52 - mant_bits) + (biased >= 1 ? 0 : 1 - biased);
  if (shift > 60) return sign;  // far below half the smallest subnormal
  uint64_t kept = sig >> shift;
  const uint64_t rest = sig & ((uint64_t{1} << shift) - 1);
  const uint64_t half = uint64_t{1} << (shift - 1);
  if (rest > half || (rest == half && (kept & 1))) ++kept;
  if (biased >= 1) {
    if (kept >> (mant_bits + 1)) {  // rounding carried into a new leading bit
      kept >>= 1;
      ++biased;
    }
    if (biased >= static_cast<int>(max_exp)) return sign | (max_exp << mant_bits);  // overflow: infinity
    return sign | (static_cast<uint32_t>(biased) << mant_bits) |
           static_cast<uint32_t>(kept & ((uint64_t{1} << mant_bits) - 1));
  }
  // Subnormal; a carry into bit mant_bits is exactly the smallest normal's encoding.
  return sign | static_cast<uint32_t>(kept);
}


enum class Kind : uint8_t { Ptr, I1, I8, I16, I32, I64, U1, U8, U16, U32, U64, FP16, BF16, FP32, FP64 };

struct KindName {
  const char *name;
  Kind kind;
};
inline constexpr KindName kKinds[] = {
    {"ptr", Kind::Ptr}, {"i1", Kind::I1},     {"i8", Kind::I8},     {"i16", Kind::I16},   {"i32", Kind::I32},
    {"i64", Kind::I64}, {"u1", Kind::U1},     {"u8", Kind::U8},     {"u16", Kind::U16},   {"u32", Kind::U32},
    {"u64", Kind::U64}, {"fp16", Kind::FP16}, {"bf16", Kind::BF16}, {"fp32", Kind::FP32}, {"fp64", Kind::FP64},
};

inline const char *kind_name(Kind kind) {
  for (const auto &k : kKinds)
    if (k.kind == kind) return k.name;
  return "?";
}

inline Kind parse_kind(const std::string &name, size_t index) {
  if (!name.empty() && name[0] == '*') return Kind::Ptr;  // Triton's pointer signatures ("*fp32")
  for (const auto &k : kKinds)
    if (name == k.name) return k.kind;
  std::string known;
  for (const auto &k : kKinds) known += std::string(known.empty() ? "" : ", ") + k.name;
  throw py::value_error("arg_kinds[" + std::to_string(index) + "]: unknown kind '" + name + "' (known: " + known +
                        ", or '*<type>' for a pointer)");
}

inline const char *kind_expects(Kind kind) {
  switch (kind) {
    case Kind::Ptr:
      return "an int address, an object with data_ptr() or __sycl_usm_array_interface__, or None";
    case Kind::I1:
    case Kind::U1:
      return "a bool or int";
    case Kind::FP16:
    case Kind::BF16:
    case Kind::FP32:
    case Kind::FP64:
      return "a float";
    default:
      return "an int";
  }
}

[[noreturn]] inline void arg_type_error(size_t index, Kind kind, PyObject *obj) {
  PyErr_Clear();
  throw py::type_error("kernel argument " + std::to_string(index) + ": expected " + kind_name(kind) + " (" +
                       kind_expects(kind) + "), got " + Py_TYPE(obj)->tp_name);
}

[[noreturn]] inline void arg_range_error(size_t index, Kind kind, PyObject *obj) {
  PyErr_Clear();
  std::string repr = py::repr(py::handle(obj)).cast<std::string>();
  throw std::overflow_error("kernel argument " + std::to_string(index) + ": " + repr + " is out of range for " +
                            kind_name(kind));
}

// The address of an object with dpctl's __sycl_usm_array_interface__ (a dict: "data" is (address, readonly),
// "offset" counts elements of "typestr"'s size, e.g. "|f4"); false when it has none.
inline bool usm_array_address(PyObject *obj, uint64_t &address) {
  py::handle h(obj);
  if (!py::hasattr(h, "__sycl_usm_array_interface__")) return false;
  py::dict iface = h.attr("__sycl_usm_array_interface__");
  address = py::cast<uint64_t>(py::tuple(iface["data"])[0]);
  if (iface.contains("offset") && iface.contains("typestr")) {
    std::string typestr = py::str(iface["typestr"]);
    uint64_t itemsize = typestr.size() > 2 ? std::stoull(typestr.substr(2)) : 1;
    address += py::cast<uint64_t>(iface["offset"]) * itemsize;
  }
  return true;
}

inline PyObject *data_ptr_name() {
  static PyObject *name = PyUnicode_InternFromString("data_ptr");
  return name;
}

// One converted argument: what zeKernelSetArgumentValue gets.
struct ArgValue {
  uint64_t storage = 0;
  size_t size = 0;
  const void *pointer = nullptr;  // &storage, or nullptr for a null pointer argument
  bool is_address = false;        // a pointer argument: SYCL sets it as a USM pointer (OpenCL needs that)
};

inline void to_signed(PyObject *obj, size_t index, Kind kind, int64_t lo, int64_t hi, size_t size, ArgValue &out) {
  if (!PyLong_Check(obj) && !PyIndex_Check(obj)) arg_type_error(index, kind, obj);
  int overflow = 0;
  long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
  if (v == -1 && PyErr_Occurred()) arg_type_error(index, kind, obj);
  if (overflow || v < lo || v > hi) arg_range_error(index, kind, obj);
  out.storage = static_cast<uint64_t>(v);  // little-endian: the low `size` bytes are the value
  out.size = size;
  out.pointer = &out.storage;
}

inline void to_unsigned(PyObject *obj, size_t index, Kind kind, uint64_t hi, size_t size, ArgValue &out) {
  if (!PyLong_Check(obj) && !PyIndex_Check(obj)) arg_type_error(index, kind, obj);
  int overflow = 0;
  long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
  uint64_t u;
  if (v == -1 && PyErr_Occurred()) arg_type_error(index, kind, obj);
  if (overflow > 0) {  // above INT64_MAX: only u64 may hold it
    PyObject *number = PyNumber_Index(obj);
    if (!number) arg_type_error(index, kind, obj);
    u = PyLong_AsUnsignedLongLong(number);
    Py_DECREF(number);
    if (u == static_cast<uint64_t>(-1) && PyErr_Occurred()) arg_range_error(index, kind, obj);
  } else {
    if (overflow < 0 || v < 0) arg_range_error(index, kind, obj);
    u = static_cast<uint64_t>(v);
  }
  if (u > hi) arg_range_error(index, kind, obj);
  out.storage = u;
  out.size = size;
  out.pointer = &out.storage;
}

inline double to_double(PyObject *obj, size_t index, Kind kind) {
  if (PyFloat_CheckExact(obj)) return PyFloat_AS_DOUBLE(obj);
  if (PyUnicode_Check(obj) || PyBytes_Check(obj)) arg_type_error(index, kind, obj);
  double v = PyFloat_AsDouble(obj);  // floats, ints, and objects with __float__ / __index__
  if (v == -1.0 && PyErr_Occurred()) {
    if (PyErr_ExceptionMatches(PyExc_OverflowError)) arg_range_error(index, kind, obj);
    arg_type_error(index, kind, obj);
  }
  return v;
}

inline void convert(Kind kind, PyObject *obj, size_t index, ArgValue &out) {
  out.is_address = kind == Kind::Ptr;
  switch (kind) {
    case Kind::Ptr: {
      out.size = sizeof(uint64_t);
      if (obj == Py_None) {
        out.pointer = nullptr;
        return;
      }
      uint64_t address;
      if (PyLong_CheckExact(obj)) {
        address = PyLong_AsUnsignedLongLong(obj);
        if (address == static_cast<uint64_t>(-1) && PyErr_Occurred()) arg_range_error(index, kind, obj);
      } else if (PyBool_Check(obj)) {
        arg_type_error(index, kind, obj);
      } else if (PyLong_Check(obj)) {
        address = PyLong_AsUnsignedLongLong(obj);
        if (address == static_cast<uint64_t>(-1) && PyErr_Occurred()) arg_range_error(index, kind, obj);
      } else {
        PyObject *result = PyObject_CallMethodNoArgs(obj, data_ptr_name());
        if (!result) {
          if (!PyErr_ExceptionMatches(PyExc_AttributeError))
            throw py::error_already_set();  // data_ptr() itself raised: keep its exception
          PyErr_Clear();
          if (!usm_array_address(obj, address)) arg_type_error(index, kind, obj);
          out.storage = address;
          out.pointer = address ? &out.storage : nullptr;
          return;
        }
        if (!PyLong_Check(result)) {
          Py_DECREF(result);
          PyErr_Clear();
          throw py::type_error("kernel argument " + std::to_string(index) + ": data_ptr() of " +
                               Py_TYPE(obj)->tp_name + " did not return an int");
        }
        address = PyLong_AsUnsignedLongLong(result);
        Py_DECREF(result);
        if (address == static_cast<uint64_t>(-1) && PyErr_Occurred()) arg_range_error(index, kind, obj);
      }
      out.storage = address;
      out.pointer = address ? &out.storage : nullptr;
      return;
    }
    case Kind::I1:
    case Kind::U1: {
      int truth;
      if (obj == Py_True || obj == Py_False) {
        truth = obj == Py_True;
      } else if (PyLong_Check(obj) || PyIndex_Check(obj)) {
        truth = PyObject_IsTrue(obj);
        if (truth < 0) arg_type_error(index, kind, obj);
      } else {
        arg_type_error(index, kind, obj);
      }
      out.storage = static_cast<uint64_t>(truth);
      out.size = 1;
      out.pointer = &out.storage;
      return;
    }
    case Kind::I8: return to_signed(obj, index, kind, INT8_MIN, INT8_MAX, 1, out);
    case Kind::I16: return to_signed(obj, index, kind, INT16_MIN, INT16_MAX, 2, out);
    case Kind::I32: return to_signed(obj, index, kind, INT32_MIN, INT32_MAX, 4, out);
    case Kind::I64: return to_signed(obj, index, kind, INT64_MIN, INT64_MAX, 8, out);
    case Kind::U8: return to_unsigned(obj, index, kind, UINT8_MAX, 1, out);
    case Kind::U16: return to_unsigned(obj, index, kind, UINT16_MAX, 2, out);
    case Kind::U32: return to_unsigned(obj, index, kind, UINT32_MAX, 4, out);
    case Kind::U64: return to_unsigned(obj, index, kind, UINT64_MAX, 8, out);
    case Kind::FP16:
      out.storage = round_to_float_bits(to_double(obj, index, kind), 5, 10);
      out.size = 2;
      out.pointer = &out.storage;
      return;
    case Kind::BF16:
      out.storage = round_to_float_bits(to_double(obj, index, kind), 8, 7);
      out.size = 2;
      out.pointer = &out.storage;
      return;
    case Kind::FP32:
      out.storage = round_to_float_bits(to_double(obj, index, kind), 8, 23);
      out.size = 4;
      out.pointer = &out.storage;
      return;
    case Kind::FP64: {
      double v = to_double(obj, index, kind);
      std::memcpy(&out.storage, &v, sizeof v);
      out.size = 8;
      out.pointer = &out.storage;
      return;
    }
  }
}

inline uint32_t to_group_count(PyObject *obj, const char *what) {
  if (PyBool_Check(obj) || (!PyLong_Check(obj) && !PyIndex_Check(obj)))
    throw py::type_error(std::string("launch grid ") + what + ": expected an int, got " + Py_TYPE(obj)->tp_name);
  int overflow = 0;
  long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);  // uses __index__ for int-like objects
  if (v == -1 && PyErr_Occurred()) {
    PyErr_Clear();
    throw py::type_error(std::string("launch grid ") + what + ": expected an int, got " + Py_TYPE(obj)->tp_name);
  }
  if (overflow || v < 0 || v > static_cast<long long>(UINT32_MAX))
    throw std::overflow_error(std::string("launch grid ") + what + " out of range: " +
                              py::repr(py::handle(obj)).cast<std::string>());
  return static_cast<uint32_t>(v);
}

}  // namespace triton_xpu
