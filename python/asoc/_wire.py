"""The tensor header: dtype and shape travel in the message itself.

Every message the package sends is ``[header | data]``: one message, one
RTS, no second exchange.  The header is HDR_LEN bytes, little-endian:

    0   8s   magic  b"ASOCTNS1"
    8   H    version (1)
    10  B    kind: 0 bytes, 1 numpy, 2 torch
    11  B    ndim (<= MAX_NDIM)
    12  I    reserved, zero
    16  32s  dtype: numpy's dtype.str ("<f4", "|b1", "<M8[ns]"...) or
             "bfloat16", NUL-padded
    48  32Q  shape (ndim used, the rest zero)
    304 16x  padding to 320

Buffers made by Node.empty keep the HDR_LEN bytes just before the data
(the data starts at DATA_OFF, a page boundary), so a send from them writes
the header there and moves header and data as one message, copying
nothing.  Why not a header field in the RTS: the message's length must
still be known before a receive is posted, so libasoc's ASOC_RECV_PEEK
(the size, without consuming the message) is needed either way, and the
prefix needs no other change to asocd (see python/README.md).
"""
import struct

MAGIC = b"ASOCTNS1"
VERSION = 1
HDR_LEN = 320
DATA_OFF = 4096
MAX_NDIM = 32
KIND_BYTES, KIND_NUMPY, KIND_TORCH = 0, 1, 2
_FIXED = struct.Struct("<8sHBBI32s")
BF16 = "bfloat16"


def pack(kind, dtype, shape):
    """The header for an array of dtype (a string) and shape."""
    if len(shape) > MAX_NDIM:
        raise ValueError("arrays of more than %d dimensions cannot be sent"
                         % MAX_NDIM)
    d = dtype.encode("ascii")
    if len(d) >= 32:
        raise ValueError("dtype %r has too long a name to send" % dtype)
    out = bytearray(HDR_LEN)
    _FIXED.pack_into(out, 0, MAGIC, VERSION, kind, len(shape), 0, d)
    struct.pack_into("<%dQ" % len(shape), out, _FIXED.size, *shape)
    return out


def unpack(mv):
    """(kind, dtype, shape) from a received header; ValueError if it is
    not one of ours."""
    if len(mv) < HDR_LEN:
        raise ValueError("a %d-byte message has no tensor header: was it "
                         "sent by asoc-send or C code? receive it with "
                         "asoc-recv or libasoc" % len(mv))
    magic, ver, kind, ndim, res, d = _FIXED.unpack_from(mv, 0)
    if magic != MAGIC or ver != VERSION or res != 0 or ndim > MAX_NDIM or \
            kind > KIND_TORCH:
        raise ValueError("the message does not start with an asoc tensor "
                         "header (version %d): was it sent by this package?"
                         % VERSION)
    shape = struct.unpack_from("<%dQ" % ndim, mv, _FIXED.size)
    return kind, d.rstrip(b"\0").decode("ascii"), tuple(shape)
