"""What the package can send, and how a received message becomes a tensor.

numpy arrays, torch CPU tensors, anything with __dlpack__, and anything
with the buffer protocol (bytes, bytearray, memoryview, array.array).
"""
import sys

import numpy as np

from . import _wire

# torch dtypes by the names used in the header; torch is imported only
# when a torch tensor is seen (it is slow to import and optional).
_TORCH_NAMES = {
    "|b1": "bool", "|u1": "uint8", "|i1": "int8", "<i2": "int16",
    "<i4": "int32", "<i8": "int64", "<f2": "float16", "<f4": "float32",
    "<f8": "float64", "<c8": "complex64", "<c16": "complex128",
    _wire.BF16: "bfloat16",
}


def _torch():
    return sys.modules.get("torch")


def is_torch(obj):
    t = _torch()
    return t is not None and isinstance(obj, t.Tensor)


def torch_dtype(name):
    import torch
    try:
        return getattr(torch, _TORCH_NAMES[name])
    except KeyError:
        raise ValueError("torch has no dtype for %r" % name) from None


def torch_name(dtype):
    import torch
    if dtype == torch.bfloat16:
        return _wire.BF16
    for k, v in _TORCH_NAMES.items():
        if getattr(torch, v) == dtype:
            return k
    raise ValueError("torch dtype %s cannot be sent" % dtype)


def check_numpy_dtype(dt):
    if dt.hasobject:
        raise TypeError("arrays of Python objects cannot be sent: their "
                        "elements are pointers into this process")
    if dt.fields is not None or dt.subdtype is not None:
        raise TypeError("structured dtypes cannot be sent as such: send "
                        "arr.view(np.uint8) and view it back")
    return dt.str


class Source:
    """One thing to send: kind, dtype name, shape, a flat uint8 view of its
    bytes, and its address (for the zero-copy check)."""

    __slots__ = ("kind", "dtype", "shape", "bytes", "addr", "keep")

    def __init__(self, obj, copy=False):
        self.keep = obj
        if isinstance(obj, np.ndarray):
            self.kind = _wire.KIND_NUMPY
            arr = obj
        elif is_torch(obj):
            self.kind = _wire.KIND_TORCH
            t = obj.detach()
            if t.device.type != "cpu":
                raise ValueError("only CPU tensors can be sent: call "
                                 ".cpu() first (a copy)")
            if not t.is_contiguous():
                if not copy:
                    raise ValueError("the tensor is not contiguous: pass "
                                     "copy=True, or .contiguous() it")
                t = t.contiguous()
            self.dtype = torch_name(t.dtype)
            self.shape = tuple(t.shape)
            if t.dtype.is_floating_point and t.element_size() == 2 and \
                    self.dtype == _wire.BF16:
                import torch
                t = t.view(torch.int16)
            arr = t.numpy()
            self.keep = (obj, t)
            self.addr = arr.__array_interface__["data"][0]
            self.bytes = arr.reshape(-1).view(np.uint8)
            return
        elif hasattr(obj, "__dlpack__") and not isinstance(
                obj, (bytes, bytearray, memoryview)):
            self.kind = _wire.KIND_NUMPY
            arr = np.from_dlpack(obj)
        else:
            try:
                mv = memoryview(obj)
            except TypeError:
                raise TypeError("cannot send a %s: send a numpy array, a "
                                "torch tensor, or something with the "
                                "buffer protocol" % type(obj).__name__) \
                    from None
            self.kind = _wire.KIND_BYTES
            if not mv.c_contiguous:
                if not copy:
                    raise ValueError("the buffer is not contiguous: pass "
                                     "copy=True")
                mv = memoryview(mv.tobytes())
            arr = np.frombuffer(mv.cast("B") if mv.nbytes else b"",
                                dtype=np.uint8)
        if not arr.flags.c_contiguous:
            if not copy:
                raise ValueError("the array is not C-contiguous (a slice "
                                 "or a transpose?): pass copy=True, or "
                                 "np.ascontiguousarray it")
            arr = np.ascontiguousarray(arr)
        self.dtype = check_numpy_dtype(arr.dtype) \
            if self.kind != _wire.KIND_BYTES else "|u1"
        self.shape = arr.shape if self.kind != _wire.KIND_BYTES else \
            (arr.nbytes,)
        self.addr = arr.__array_interface__["data"][0]
        self.bytes = arr.reshape(-1).view(np.uint8) if arr.nbytes else \
            np.zeros(0, np.uint8)
        self.keep = (self.keep, arr)

    def header(self):
        return _wire.pack(self.kind, self.dtype, self.shape)


def numpy_dtype(name):
    if name == _wire.BF16:
        return np.dtype("<i2")     # torch.from_numpy takes int16, not uint16
    return np.dtype(name)


def build(kind, name, shape, mem):
    """The received object over mem (a uint8 array holding exactly the
    data): numpy, torch or bytes, as it was sent."""
    dt = numpy_dtype(name)
    count = 1
    for n in shape:
        count *= n
    if count * dt.itemsize != mem.nbytes:
        raise ValueError("the header says %s of %s (%d bytes) but %d bytes "
                         "came" % (shape, name, count * dt.itemsize,
                                   mem.nbytes))
    if kind == _wire.KIND_BYTES:
        return mem.tobytes()
    arr = mem.view(dt).reshape(shape) if mem.nbytes else \
        np.zeros(shape, dt)
    if kind == _wire.KIND_TORCH:
        import torch
        t = torch.from_numpy(arr)
        if name == _wire.BF16:
            t = t.view(torch.bfloat16)
        return t
    return arr


class Target:
    """Where a recv(out=...) lands: its flat bytes, dtype name, count."""

    __slots__ = ("obj", "bytes", "dtype", "count", "addr")

    def __init__(self, out):
        self.obj = out
        if isinstance(out, np.ndarray):
            arr = out
            self.dtype = check_numpy_dtype(arr.dtype)
        elif is_torch(out):
            if out.device.type != "cpu":
                raise ValueError("out= must be a CPU tensor")
            self.dtype = torch_name(out.dtype)
            t = out
            if self.dtype == _wire.BF16:
                import torch
                t = out.view(torch.int16)
            arr = t.numpy()
        else:
            raise TypeError("out= must be a numpy array or a torch tensor")
        if not arr.flags.c_contiguous or not arr.flags.writeable:
            raise ValueError("out= must be C-contiguous and writable")
        self.count = arr.size
        self.addr = arr.__array_interface__["data"][0]
        self.bytes = arr.reshape(-1).view(np.uint8) if arr.nbytes else \
            np.zeros(0, np.uint8)


def is_torch_dtype(dt):
    t = _torch()
    return t is not None and isinstance(dt, t.dtype)
