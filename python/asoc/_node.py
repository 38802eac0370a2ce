"""Node: one process's connection to its asocd, with tensors on top."""
import asyncio
import bisect
import time
import weakref

import numpy as np

from . import _asoc, _tensor, _wire
from ._pool import Pool

Error = _asoc.Error
Timeout = _asoc.Timeout
PeerLost = _asoc.PeerLost
Truncated = _asoc.Truncated
RankLeft = _asoc.RankLeft

# A receive of unknown size first offers this much room; a larger message
# is not consumed (ASOC_RECV_PEEK) and is then received in place.
_PEEK_CAP = 64 << 10
_COLL_TAG_LIMIT = 1 << 40


def _raise(st, msg):
    _asoc.raise_status(st, msg)


class Request:
    """A send or receive in flight (from Node.isend or Node.irecv).

    wait(timeout=None) returns the result (None for a send, the received
    object for a receive) or raises the request's asoc.Error;
    test() says whether it is done without blocking.  A request completes
    exactly once; results are kept, so wait() may be called again.
    """

    def __init__(self, node, kind, creq, buf, **state):
        self._node = node
        self._kind = kind
        self._creq = creq
        self._buf = buf
        self._state = state
        self._done = False
        self._result = None
        self._exc = None

    # --- the steps of a request: each completion moves it on ---

    def _advance(self, res):
        st, n, src, tag, msg = res
        node = self._node
        s = self._state
        self._creq = None
        try:
            if self._kind == "send":
                if st != _asoc.OK:
                    _raise(st, msg)
                return self._finish(None)
            if st == _asoc.ETRUNC and s.get("peek"):
                # Too large for the first offer: receive it in place.
                node._pool.put(self._buf)
                self._buf = None
                if n < _wire.HDR_LEN:
                    raise Error("a %d-byte message from rank %d has no "
                                "tensor header" % (n, src))
                buf = node._alloc_region(n - _wire.HDR_LEN)
                off = _wire.DATA_OFF - _wire.HDR_LEN
                self._buf = buf
                s["peek"] = False
                s["own"] = True
                self._creq = node._s.irecv(buf, off, n, src, tag)
                s["off"] = off
                return False
            if st != _asoc.OK:
                _raise(st, msg)
            mem = np.frombuffer(self._buf, dtype=np.uint8, count=n,
                                offset=s["off"])
            kind, name, shape = _wire.unpack(mem[:_wire.HDR_LEN])
            data = mem[_wire.HDR_LEN:]
            self.source, self.tag = src, tag
            out = s.get("out")
            if out is not None:
                return self._finish(self._land(out, name, shape, data))
            if s.get("own"):
                return self._finish(_tensor.build(kind, name, shape, data))
            obj = _tensor.build(kind, name, shape, data.copy())
            return self._finish(obj)
        except BaseException as e:
            self._exc = e
            self._release()
            self._done = True
            return True

    def _land(self, out, name, shape, data):
        if name != out.dtype:
            raise Error("received %s of %s into out= of %s: nothing was "
                        "written beyond out; receive without out= to take "
                        "any dtype" % (shape, name, out.dtype))
        count = 1
        for k in shape:
            count *= k
        if count != out.count:
            raise Error("received %d elements (%s) into out= of %d" %
                        (count, shape, out.count))
        if not self._state.get("inplace"):
            _asoc.copy_into(out.bytes, 0, data)
        return out.obj

    def _finish(self, result):
        self._result = result
        self._release()
        self._done = True
        return True

    def _release(self):
        if self._buf is not None and not self._state.get("own") and \
                not self._state.get("inplace"):
            self._node._pool.put(self._buf)
        self._buf = None
        self._state.pop("keep", None)

    def _outcome(self):
        if self._exc is not None:
            raise self._exc
        return self._result

    def test(self):
        """True when the request is done (then wait() returns at once)."""
        while not self._done:
            res = self._creq.test()
            if res is None:
                return False
            self._advance(res)
        return True

    def wait(self, timeout=None):
        """Block until done (the GIL is released) and return the result:
        None for a send, the tensor for a receive.  timeout in seconds:
        raises asoc.Timeout if not done by then, and the request stays
        pending (wait again, or cancel).  Ctrl-C cancels the request and
        raises KeyboardInterrupt."""
        end = None if timeout is None else time.monotonic() + timeout
        while not self._done:
            left = None if end is None else max(0.0, end - time.monotonic())
            try:
                res = self._creq.wait(left)
            except BaseException:
                self._creq = None
                self._release()
                self._done = True
                raise
            if res is None:
                raise Timeout("the request is not done after %g s; it is "
                              "still pending: wait again or cancel it"
                              % timeout)
            self._advance(res)
        node = self._node
        if node._waiters and node._loop is not None:
            # This wait may have read completions that asyncio awaits:
            # the socket will not wake the loop for those again.
            node._loop.call_soon_threadsafe(node._on_readable)
        return self._outcome()

    def cancel(self):
        """Ask asocd to give the request up; wait() then raises
        asoc.Cancelled, unless it finished first."""
        if not self._done and self._creq is not None:
            self._creq.cancel()

    @property
    def done(self):
        return self._done


def wait_all(requests, timeout=None):
    """Wait for every request; returns their results in order.  The first
    failure is raised after all have completed or the timeout passed."""
    end = None if timeout is None else time.monotonic() + timeout
    results, first = [], None
    for r in requests:
        left = None if end is None else max(0.0, end - time.monotonic())
        try:
            results.append(r.wait(left))
        except Error as e:
            results.append(e)
            if first is None:
                first = e
    if first is not None:
        raise first
    return results


class Node:
    """This process's node in the job: ``asoc.connect()`` makes one.

    rank and world_size are this process's rank and the number of
    processes (process ranks), or this node's and the number of nodes
    (node ranks); node and nodes are always the asocd's.  Use it as a
    context manager, or call close().  Like libasoc's sessions, a Node is
    for one thread at a time (calls from several threads are serialised).
    """

    def __init__(self, path=None, rank=_asoc.RANK_AUTO, world_size=0):
        self._s = _asoc.Session(path, rank, world_size)
        self._pool = Pool(self._s)
        self._regions = {}      # address -> weakref to Buffer (node.empty)
        self._addrs = []        # sorted addresses of _regions
        self._waiters = {}      # asyncio: Request -> Future
        self._loop = None

    rank = property(lambda self: self._s.rank,
                    doc="this process's rank (node ranks: this node's)")
    world_size = property(lambda self: self._s.world_size,
                          doc="the number of ranks in the job")
    node = property(lambda self: self._s.node,
                    doc="the node (index of the asocd in --peers) serving "
                    "this process")
    nodes = property(lambda self: self._s.nodes,
                     doc="the number of nodes (asocds) in the job")

    def rank_nodes(self, timeout=None):
        """The node of every rank, as a list indexed by rank.  Waits until
        every rank has joined, at most timeout seconds (None: asocd's
        --join-timeout); raises asoc.Timeout past it.  With node ranks
        the answer is [0, 1, ..., nodes - 1] at once."""
        self._timeout(timeout)
        return self._s.rank_nodes()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Close the connection to asocd.  Arrays from empty()/zeros() and
        received ones stay valid until they are gone."""
        if self._loop is not None and not self._loop.is_closed():
            try:
                self._loop.remove_reader(self._fd)
            except (ValueError, OSError):
                pass
        self._pool.clear()
        self._s.close()

    def fileno(self):
        """asocd's socket, readable when a completion may have arrived."""
        return self._s.fileno()

    def stats(self):
        """asocd's counters (asoc-stat's) and this process's copies; with
        the daemon's rank mode ("none", "node" or "proc"), proc_world,
        local_ranks and ranks, one dict per process rank living there
        (rank, pid, localid, sessions, posted_recvs, unexpected, bytes)."""
        d = self._s.stat()
        d.update(self._s.stat_ranks())
        d["python_copied_bytes"] = self._pool.copied
        return d

    # --- registered memory ---

    def _alloc_region(self, nbytes):
        buf = self._s.alloc(_wire.DATA_OFF + max(nbytes, 1))
        a = buf.address
        self._regions[a] = weakref.ref(buf, lambda r, a=a:
                                       self._forget(a))
        bisect.insort(self._addrs, a)
        return buf

    def _forget(self, a):
        self._regions.pop(a, None)
        i = bisect.bisect_left(self._addrs, a)
        if i < len(self._addrs) and self._addrs[i] == a:
            del self._addrs[i]

    def _region_of(self, addr, nbytes):
        """The buffer whose data area starts at addr and holds nbytes."""
        ref = self._regions.get(addr - _wire.DATA_OFF)
        buf = ref() if ref is not None else None
        if buf is None or nbytes > buf.size - _wire.DATA_OFF:
            return None
        return buf

    def empty(self, shape, dtype=np.float32):
        """An uninitialised array in memory shared with asocd: sends from
        it (the whole array) copy nothing, and receives with out= land in
        it directly.  dtype: a numpy dtype, or a torch dtype for a torch
        tensor (torch.from_numpy, DLPack and memoryview work on the numpy
        one)."""
        if _tensor.is_torch_dtype(dtype):
            name = _tensor.torch_name(dtype)
            arr = self.empty(shape, _tensor.numpy_dtype(name))
            import torch
            t = torch.from_numpy(arr)
            return t.view(dtype) if name == _wire.BF16 else t
        dt = np.dtype(dtype)
        _tensor.check_numpy_dtype(dt)
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        count = 1
        for k in shape:
            count *= k
        buf = self._alloc_region(count * dt.itemsize)
        return np.frombuffer(buf, dtype=dt, count=count,
                             offset=_wire.DATA_OFF).reshape(shape)

    def zeros(self, shape, dtype=np.float32):
        """Like empty(), zero-filled (fresh shared memory is zeros)."""
        return self.empty(shape, dtype)

    # --- point to point ---

    def _check_rank(self, r, what, any_ok=False):
        if any_ok and r == _asoc.ANY_SOURCE:
            return
        if not isinstance(r, int) or not 0 <= r < self.world_size:
            raise PeerLost("%s rank %r is not in this job (ranks are 0 to "
                           "%d)" % (what, r, self.world_size - 1))

    def _timeout(self, timeout):
        self._s.set_timeout(0 if timeout is None else
                            max(1, int(timeout * 1000)))

    def _stage(self, src):
        """(buffer, offset, length, inplace) of [header | data] for src,
        copying into a pooled buffer unless src lies in node memory."""
        n = src.bytes.nbytes
        hdr = src.header()
        buf = self._region_of(src.addr, n) if n else None
        if buf is not None:
            off = _wire.DATA_OFF - _wire.HDR_LEN
            _asoc.copy_into(buf, off, hdr)
            return buf, off, _wire.HDR_LEN + n, True
        buf = self._pool.get(_wire.HDR_LEN + n)
        _asoc.copy_into(buf, 0, hdr)
        if n:
            _asoc.copy_into(buf, _wire.HDR_LEN, src.bytes)
            self._pool.copied += n
        return buf, 0, _wire.HDR_LEN + n, False

    def isend(self, obj, to, tag=0, *, timeout=None, copy=False):
        """Post a send of obj to rank `to`; returns a Request.

        obj: a numpy array, a CPU torch tensor, anything with __dlpack__
        or the buffer protocol (bytes, bytearray, memoryview).  Its dtype
        and shape travel with it.  From node.empty()/zeros() memory
        nothing is copied; anything else is copied once into a pooled
        registered buffer (so obj may change as soon as isend returns).
        A non-contiguous obj is refused unless copy=True.
        timeout: seconds until asocd gives the send up (asoc.Timeout).
        """
        self._check_rank(to, "send to")
        src = _tensor.Source(obj, copy=copy)
        buf, off, n, inplace = self._stage(src)
        self._timeout(timeout)
        try:
            creq = self._s.isend(buf, off, n, to, tag)
        except BaseException:
            if not inplace:
                self._pool.put(buf)
            raise
        return Request(self, "send", creq, buf, inplace=inplace,
                       keep=src.keep if inplace else None)

    def send(self, obj, to, tag=0, *, timeout=None, copy=False):
        """Send obj to rank `to` and wait until it is in the receiver's
        memory.  See isend for what obj may be."""
        return self.isend(obj, to, tag, timeout=timeout, copy=copy).wait()

    def irecv(self, src=_asoc.ANY_SOURCE, tag=0, *, out=None, timeout=None):
        """Post a receive from rank src (asoc.ANY_SOURCE: any) with tag;
        returns a Request whose wait() gives the received object: a numpy
        array, a torch tensor or bytes, as sent, with its dtype and shape.

        Without out= the size need not be known: a small message lands in
        a pooled buffer (and is copied out), a larger one is received
        straight into new shared memory that the result keeps.
        out=: a C-contiguous numpy array or CPU tensor; the message must
        have its dtype and element count, or asoc.Error (asoc.Truncated if
        larger); bytes never land beyond out.
        """
        self._check_rank(src, "receive from", any_ok=True)
        self._timeout(timeout)
        if out is not None:
            tgt = _tensor.Target(out)
            n = tgt.bytes.nbytes
            buf = self._region_of(tgt.addr, n) if n else None
            if buf is not None:
                off = _wire.DATA_OFF - _wire.HDR_LEN
                creq = self._s.irecv(buf, off, _wire.HDR_LEN + n, src, tag)
                return Request(self, "recv", creq, buf, off=off, out=tgt,
                               inplace=True)
            buf = self._pool.get(_wire.HDR_LEN + n)
            try:
                creq = self._s.irecv(buf, 0, _wire.HDR_LEN + n, src, tag)
            except BaseException:
                self._pool.put(buf)
                raise
            return Request(self, "recv", creq, buf, off=0, out=tgt)
        buf = self._pool.get(_PEEK_CAP)
        try:
            creq = self._s.irecv(buf, 0, buf.size, src, tag, True)
        except BaseException:
            self._pool.put(buf)
            raise
        return Request(self, "recv", creq, buf, off=0, peek=True)

    def recv(self, src=_asoc.ANY_SOURCE, tag=0, *, out=None, timeout=None):
        """Receive one message; see irecv.  Blocks with the GIL released;
        Ctrl-C cancels the receive cleanly."""
        return self.irecv(src, tag, out=out, timeout=timeout).wait()

    # --- asyncio ---

    def _on_readable(self):
        for req, fut in list(self._waiters.items()):
            if fut.done():
                self._waiters.pop(req, None)
                continue
            try:
                if not req.test():
                    continue
                fut.set_result(req.wait(0))
            except BaseException as e:
                fut.set_exception(e)
            self._waiters.pop(req, None)
        if not self._waiters and self._loop is not None:
            self._loop.remove_reader(self._fd)
            self._loop = None

    async def wait_async(self, req):
        """Await a Request: the event loop watches asocd's socket
        (loop.add_reader); nothing polls or spins."""
        loop = asyncio.get_running_loop()
        if req.test():
            return req.wait(0)
        fut = loop.create_future()
        self._waiters[req] = fut
        if self._loop is not loop:
            if self._loop is not None:
                self._loop.remove_reader(self._fd)
            self._fd = self._s.fileno()
            loop.add_reader(self._fd, self._on_readable)
            self._loop = loop
        try:
            return await fut
        except asyncio.CancelledError:
            self._waiters.pop(req, None)
            req.cancel()
            try:
                req.wait()
            except Error:
                pass
            raise

    async def asend(self, obj, to, tag=0, **kw):
        """send() for asyncio."""
        return await self.wait_async(self.isend(obj, to, tag, **kw))

    async def arecv(self, src=_asoc.ANY_SOURCE, tag=0, **kw):
        """recv() for asyncio."""
        return await self.wait_async(self.irecv(src, tag, **kw))

    # --- collectives ---

    def bcast(self, obj=None, root=0, tag=0):
        """Broadcast obj from rank root to every rank; every rank calls it.

        Pipelined down a chain (asoc_bcast): about one transfer's time,
        nearly flat in the number of ranks.  On the root obj is what to
        send; elsewhere obj is None (a new object is returned) or an array
        of the same dtype and element count to receive into.  Two calls
        of asoc_bcast: the 320-byte header, then the data.
        """
        if not 0 <= tag < _COLL_TAG_LIMIT:
            raise ValueError("bcast tags are below 2**40")
        self._check_rank(root, "bcast root")
        me = self.rank
        hbuf = self._pool.get(_wire.HDR_LEN)
        try:
            if me == root:
                src = _tensor.Source(obj)
                _asoc.copy_into(hbuf, 0, src.header())
            self._s.bcast(hbuf, 0, _wire.HDR_LEN, root, tag)
            kind, name, shape = _wire.unpack(
                np.frombuffer(hbuf, np.uint8, _wire.HDR_LEN))
        finally:
            self._pool.put(hbuf)
        n = _tensor.numpy_dtype(name).itemsize
        for k in shape:
            n *= k
        if me == root:
            buf = self._region_of(src.addr, n) if n else None
            if buf is None:
                buf = self._pool.get(max(n, 1))
                _asoc.copy_into(buf, 0, src.bytes)
                self._pool.copied += n
                try:
                    self._s.bcast(buf, 0, n, root, tag)
                finally:
                    self._pool.put(buf)
            else:
                self._s.bcast(buf, _wire.DATA_OFF, n, root, tag)
            return obj
        tgt = _tensor.Target(obj) if obj is not None else None
        buf = self._region_of(tgt.addr, n) if tgt is not None and n else \
            None
        if buf is not None and tgt.dtype == name and tgt.bytes.nbytes == n:
            self._s.bcast(buf, _wire.DATA_OFF, n, root, tag)
            return obj
        buf = self._alloc_region(n)
        self._s.bcast(buf, _wire.DATA_OFF, n, root, tag)
        data = np.frombuffer(buf, np.uint8, n, _wire.DATA_OFF)
        if tgt is None:
            return _tensor.build(kind, name, shape, data)
        if tgt.dtype != name or tgt.bytes.nbytes != n:
            raise Error("bcast of %s of %s into an array of %d %s" %
                        (shape, name, tgt.count, tgt.dtype))
        _asoc.copy_into(tgt.bytes, 0, data)
        return obj


def _rank_arg(name, v):
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError("%s must be an int, not %s" % (name,
                                                       type(v).__name__))
    return v


def connect(path=None, *, rank=None, world_size=None, node_ranks=False):
    """Connect to this node's asocd, found as the CLIs find it: path, else
    $ASOC_SOCKET, else the SLURM job's socket, else the default.  Raises
    asoc.NoDaemon when no asocd answers.

    rank and world_size (both, or neither) make this process rank `rank`
    of `world_size` processes.  Without them libasoc takes
    ASOC_PROC_RANK and ASOC_PROC_WORLD, else node ranks if
    ASOC_RANKS=node, else SLURM_PROCID of the srun step's tasks, else node
    ranks.  node_ranks=True asks for node ranks whatever the environment
    says.  torchrun's RANK and WORLD_SIZE are never read: pass them
    (python/README.md)."""
    if node_ranks:
        if rank is not None or world_size is not None:
            raise ValueError("node_ranks=True and rank/world_size exclude "
                             "each other: a rank names a node or a "
                             "process, not both")
        return Node(path, _asoc.RANK_NODE, 0)
    if (rank is None) != (world_size is None):
        raise ValueError("rank= and world_size= go together: this "
                         "process's rank and the number of processes")
    if rank is None:
        return Node(path)
    rank = _rank_arg("rank", rank)
    world_size = _rank_arg("world_size", world_size)
    if not 1 <= world_size <= 65535:
        raise ValueError("world_size %d is out of range (1 to 65535)" %
                         world_size)
    if not 0 <= rank < world_size:
        raise ValueError("rank %d is not in a world of %d process ranks "
                         "(0-%d)" % (rank, world_size, world_size - 1))
    return Node(path, rank, world_size)
