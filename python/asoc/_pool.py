"""Registered buffers reused for the copies (see Node.send's docs).

A send from ordinary memory copies the data once into one of these; a
receive of a small message of unknown size lands in one.  Buffers go back
to the pool when their request completes; the pool keeps at most `limit`
bytes of them, the larger ones go back to asocd.
"""

_MIN = 64 << 10


def _size_class(n):
    if n <= _MIN:
        return _MIN
    if n <= 64 << 20:
        return 1 << (n - 1).bit_length()
    step = 64 << 20
    return (n + step - 1) // step * step


class Pool:
    def __init__(self, session, limit=512 << 20):
        self._s = session
        self._free = {}
        self._bytes = 0
        self.limit = limit
        self.copied = 0     # bytes copied into pooled buffers, ever

    def get(self, n):
        cls = _size_class(n)
        lst = self._free.get(cls)
        if lst:
            self._bytes -= cls
            return lst.pop()
        return self._s.alloc(cls)

    def put(self, buf):
        if buf.size + self._bytes > self.limit or self._s.closed:
            try:
                buf.free()
            except BufferError:
                pass
            return
        self._free.setdefault(buf.size, []).append(buf)
        self._bytes += buf.size

    def clear(self):
        for lst in self._free.values():
            for b in lst:
                try:
                    b.free()
                except BufferError:
                    pass
        self._free.clear()
        self._bytes = 0
