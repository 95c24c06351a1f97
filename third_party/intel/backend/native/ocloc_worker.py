"""A resident process that runs libocloc's ``oclocInvoke`` for the compiler (``ocloc.py``).

libocloc compiles in memory, fast and warm after its first call, but a crash inside it takes its process
with it: ocloc 26.x aborts or segfaults on malformed SPIR-V (more than half of random mutants of a valid
module), and libocloc 22.43 calls exit() on a wrong magic number.  So the calls run here, in a child the
compiler starts once and keeps: a crash or a hang ends this process only, and the compiler reports it and
starts another.

Run as a script with only the standard library (no Triton import, so it starts in milliseconds):
``python ocloc_worker.py LIBOCLOC REQUEST_FD REPLY_FD``.  Each request is a pickled ``(args, sources)``;
each reply a pickled ``(code, outputs, printed)``: oclocInvoke's result, its output files and what the
library printed to stdout meanwhile.  The worker exits when the request pipe closes or its parent dies.
"""

import ctypes
import os
import pickle
import sys
from multiprocessing.connection import Connection

P = ctypes.POINTER
U8PP = P(P(ctypes.c_uint8))


def _die_with_parent() -> None:
    try:
        libc = ctypes.CDLL(None)
        libc.prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL: never outlive the compiler (also mid-compile)
    except (OSError, AttributeError):
        pass


def _bind(path: str):
    lib = ctypes.CDLL(path)
    invoke = lib.oclocInvoke
    invoke.restype = ctypes.c_int
    invoke.argtypes = [
        ctypes.c_uint32, P(ctypes.c_char_p),  # argc, argv
        ctypes.c_uint32, U8PP, P(ctypes.c_uint64), P(ctypes.c_char_p),  # sources
        ctypes.c_uint32, U8PP, P(ctypes.c_uint64), P(ctypes.c_char_p),  # input headers
        P(ctypes.c_uint32), P(U8PP), P(P(ctypes.c_uint64)), P(P(ctypes.c_char_p)),  # outputs
    ]
    free = lib.oclocFreeOutput
    free.restype = ctypes.c_int
    free.argtypes = [P(ctypes.c_uint32), P(U8PP), P(P(ctypes.c_uint64)), P(P(ctypes.c_char_p))]
    return invoke, free


def _invoke(invoke, free, args, sources):
    argv_list = [b"ocloc"] + [a.encode() for a in args]
    argv = (ctypes.c_char_p * len(argv_list))(*argv_list)
    n = len(sources)
    buffers = [ctypes.create_string_buffer(bytes(data), len(data)) for data in sources.values()]
    data = (P(ctypes.c_uint8) * n)(*(ctypes.cast(b, P(ctypes.c_uint8)) for b in buffers))
    lens = (ctypes.c_uint64 * n)(*(len(d) for d in sources.values()))
    names = (ctypes.c_char_p * n)(*(name.encode() for name in sources))
    num_out = ctypes.c_uint32(0)
    out_data, out_lens, out_names = U8PP(), P(ctypes.c_uint64)(), P(ctypes.c_char_p)()
    code = invoke(len(argv_list), argv, n, data, lens, names, 0, None, None, None, ctypes.byref(num_out),
                  ctypes.byref(out_data), ctypes.byref(out_lens), ctypes.byref(out_names))
    try:
        outputs = {out_names[i].decode(errors="replace"): ctypes.string_at(out_data[i], out_lens[i])
                   for i in range(num_out.value)}
    finally:
        free(ctypes.byref(num_out), ctypes.byref(out_data), ctypes.byref(out_lens), ctypes.byref(out_names))
    return code, outputs


def _printed_during(call):
    """(call's result, what native code wrote to stdout meanwhile): stdout is a memfd during the call."""
    libc = ctypes.CDLL(None)
    libc.fflush(None)
    sink = os.memfd_create("ocloc-stdout")
    saved = os.dup(1)
    os.dup2(sink, 1)
    try:
        result = call()
    finally:
        libc.fflush(None)
        os.dup2(saved, 1)
        os.close(saved)
    size = os.lseek(sink, 0, os.SEEK_END)
    os.lseek(sink, 0, os.SEEK_SET)
    printed = os.read(sink, size).decode(errors="replace") if size else ""
    os.close(sink)
    return result, printed


def main(argv) -> int:
    path, request_fd, reply_fd = argv[1], int(argv[2]), int(argv[3])
    _die_with_parent()
    requests, replies = Connection(request_fd, writable=False), Connection(reply_fd, readable=False)
    try:
        invoke, free = _bind(path)
    except (OSError, AttributeError) as e:  # AttributeError: a library without oclocInvoke
        replies.send_bytes(pickle.dumps(("load-error", f"{path}: {e}")))
        return 1
    replies.send_bytes(pickle.dumps(("ready", path)))
    while True:
        try:
            args, sources = pickle.loads(requests.recv_bytes())
        except EOFError:
            return 0
        (code, outputs), printed = _printed_during(lambda: _invoke(invoke, free, args, sources))
        replies.send_bytes(pickle.dumps((code, outputs, printed)))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
