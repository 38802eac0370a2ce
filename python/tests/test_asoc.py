"""The asoc package on real daemons (tests/test-python.sh runs this).

Rank 0 is this process; the other ranks run helper.py.
"""
import asyncio
import os
import signal
import time

import numpy as np
import pytest

import asoc
from conftest import PIDS, SOCKETS

r2 = pytest.mark.ranks2
r4 = pytest.mark.ranks4

NUMPY_DTYPES = [np.bool_, np.int8, np.uint8, np.int16, np.uint16, np.int32,
                np.uint32, np.int64, np.uint64, np.float16, np.float32,
                np.float64, np.longdouble, np.complex64, np.complex128,
                np.clongdouble, "datetime64[ns]", "timedelta64[s]", "S7",
                "U5", "V3", ">i4", ">f8"]
SHAPES = [(), (0,), (1,), (3, 0, 2), (7,), (13, 5), (3, 1, 33), (65537,)]


@pytest.fixture(scope="module")
def echo(node):
    from conftest import Peer
    p = Peer(1, "echo")
    assert p.readline() == "ready"
    yield p
    if p.proc.poll() is None:
        node.send(b"stop", to=1, tag=1, timeout=10)
    rc, text = p.finish(30)
    assert rc == 0, text


def roundtrip(node, x, **kw):
    node.send(x, to=1, tag=1)
    return node.recv(src=1, tag=1, timeout=60, **kw)


def sample(dt, shape):
    dt = np.dtype(dt)
    n = int(np.prod(shape))
    raw = np.random.default_rng(n).integers(0, 256, n * dt.itemsize,
                                            dtype=np.uint8)
    if dt.kind == "b":
        raw = raw % 2
    if dt.kind == "U":
        return np.array(["h%d" % i for i in range(n)], dt).reshape(shape)
    return raw.view(dt).reshape(shape)


@r2
@pytest.mark.parametrize("dt", NUMPY_DTYPES, ids=str)
def test_every_numpy_dtype(node, echo, dt):
    for shape in SHAPES:
        x = sample(dt, shape)
        y = roundtrip(node, x)
        assert type(y) is np.ndarray
        assert y.dtype == x.dtype and y.shape == x.shape
        assert x.tobytes() == y.tobytes()


@r2
def test_torch_every_dtype(node, echo):
    torch = pytest.importorskip("torch")
    for dt in [torch.bool, torch.uint8, torch.int8, torch.int16,
               torch.int32, torch.int64, torch.float16, torch.bfloat16,
               torch.float32, torch.float64, torch.complex64,
               torch.complex128]:
        for shape in [(), (0,), (1,), (5, 3), (1001,)]:
            x = (torch.rand(shape) * 100).to(dt)
            y = roundtrip(node, x)
            assert isinstance(y, torch.Tensor)
            assert y.dtype == dt and tuple(y.shape) == tuple(x.shape)
            assert torch.equal(x, y)


@r2
def test_bytes_and_buffers(node, echo):
    assert roundtrip(node, b"hello") == b"hello"
    assert roundtrip(node, bytearray(b"xy" * 5000)) == b"xy" * 5000
    assert roundtrip(node, memoryview(b"abc")) == b"abc"
    assert roundtrip(node, b"") == b""


@r2
def test_dlpack_and_torch_from_node_memory(node, echo):
    torch = pytest.importorskip("torch")
    a = node.zeros((4, 5), np.float32)
    a[:] = np.arange(20).reshape(4, 5)
    t = torch.from_numpy(a)
    assert torch.equal(torch.from_dlpack(a), t)
    assert memoryview(a).nbytes == 80
    y = roundtrip(node, t)
    assert isinstance(y, torch.Tensor) and torch.equal(y, t)
    b = node.empty(7, torch.bfloat16)
    b[:] = torch.arange(7)
    assert torch.equal(roundtrip(node, b), b)


@r2
def test_non_contiguous(node, echo):
    x = np.arange(20.0).reshape(4, 5).T
    with pytest.raises(ValueError, match="contiguous"):
        node.send(x, to=1, tag=1)
    y = roundtrip(node, x.copy())   # the echo is still in step
    assert np.array_equal(y, x)
    node.send(x, to=1, tag=1, copy=True)
    assert np.array_equal(node.recv(src=1, tag=1), x)


@r2
def test_out(node, echo):
    torch = pytest.importorskip("torch")
    x = np.arange(1000, dtype=np.int16)
    out = np.zeros(1000, np.int16)
    node.send(x, to=1, tag=1)
    assert node.recv(src=1, tag=1, out=out) is out
    assert np.array_equal(out, x)
    # in place, into node memory
    out2 = node.empty((10, 100), np.int16)
    node.send(x, to=1, tag=1)
    node.recv(src=1, tag=1, out=out2)
    assert np.array_equal(out2.reshape(-1), x)
    # torch out
    t = torch.zeros(1000, dtype=torch.int16)
    node.send(torch.from_numpy(x), to=1, tag=1)
    assert node.recv(src=1, tag=1, out=t) is t
    assert np.array_equal(t.numpy(), x)


@r2
def test_out_wrong_dtype(node, echo):
    guard = np.full(16, 7, np.int32)
    out = guard[4:8]
    node.send(np.arange(4, dtype=np.float32), to=1, tag=1)
    with pytest.raises(asoc.Error, match="float32|<f4"):
        node.recv(src=1, tag=1, out=out)
    assert (guard[:4] == 7).all() and (guard[8:] == 7).all()
    assert np.array_equal(roundtrip(node, np.arange(3)), np.arange(3))


@r2
def test_too_small_receive(node, peer):
    p = peer(1, "send_floats", 100, 4)
    out = np.zeros(10, np.float64)
    with pytest.raises(asoc.Truncated, match="does not fit"):
        node.recv(src=1, tag=4, out=out)
    rc, text = p.finish()
    assert rc == 0 and "truncated" in text
    # the node still works
    p = peer(1, "send_floats", 10, 4)
    assert np.array_equal(node.recv(src=1, tag=4, out=out), np.arange(10.0))
    assert p.finish()[0] == 0


@r2
def test_unknown_rank(node):
    with pytest.raises(asoc.PeerLost, match="not in this job"):
        node.send(np.zeros(3), to=99)
    with pytest.raises(asoc.PeerLost):
        node.recv(src=5)
    r = node.irecv(src=0, tag=11)
    node.send(b"x", to=0, tag=11)
    assert r.wait(10) == b"x"


@r2
def test_timeout(node):
    t0 = time.monotonic()
    with pytest.raises(asoc.Timeout, match="timed out"):
        node.recv(src=1, tag=12345, timeout=0.3)
    assert time.monotonic() - t0 < 5
    # a local wait timeout leaves the request pending
    r = node.irecv(src=0, tag=12346)
    with pytest.raises(asoc.Timeout, match="still pending"):
        r.wait(timeout=0.1)
    assert not r.test()
    node.send(np.ones(3), to=0, tag=12346)
    assert r.wait(10).sum() == 3
    assert node.stats()["posted_recvs"] == 0


@r2
def test_isend_irecv_wait_all(node):
    rs = [node.irecv(src=0, tag=100 + i) for i in range(8)]
    ss = [node.isend(np.full(i + 1, i), to=0, tag=100 + i)
          for i in range(8)]
    assert asoc.wait_all(ss) == [None] * 8
    got = asoc.wait_all(rs, timeout=10)
    for i, g in enumerate(got):
        assert np.array_equal(g, np.full(i + 1, i))


@r2
def test_asyncio_64_concurrent(node, peer):
    p = peer(1, "recv_many", 64)

    async def main():
        xs = [np.full(1000 + t, t, np.int64) for t in range(64)]
        await asyncio.gather(*(node.asend(x, 1, 200 + t)
                               for t, x in enumerate(xs)))
        return sum(int(x.sum()) for x in xs)
    total = asyncio.run(main())
    rc, text = p.finish()
    assert rc == 0 and text.strip() == "got 64 %d" % total


@r2
def test_asyncio_recv(node):
    async def main():
        loop = asyncio.get_running_loop()
        fut = asyncio.ensure_future(node.arecv(src=0, tag=55))
        await asyncio.sleep(0.05)
        assert not fut.done()
        loop.call_later(0.05, node.send, np.arange(4), 0, 55)
        return await asyncio.wait_for(fut, 10)
    assert np.array_equal(asyncio.run(main()), np.arange(4))


@r2
def test_sigint_during_recv(node, peer):
    p = peer(1, "sigint")
    assert p.readline() == "ready"
    time.sleep(0.3)
    p.proc.send_signal(signal.SIGINT)
    rc, text = p.finish(30)
    assert rc == 0, text
    assert "interrupted" in text and "works 10 posted=0" in text


@r2
def test_zero_copy_from_node_empty(node, peer):
    p = peer(1, "recv_one")
    assert p.readline() == "ready"
    a = node.empty(1 << 22, np.uint8)
    a[:] = 3
    before = node.stats()
    node.send(a, to=1, tag=5)
    after = node.stats()
    assert after["buffers"] == before["buffers"]
    assert after["registrations"] == before["registrations"]
    assert after["python_copied_bytes"] == before["python_copied_bytes"]
    rc, text = p.finish()
    assert rc == 0 and text.split()[1] == str(1 << 22)
    # ordinary memory: one copy, counted
    p = peer(1, "recv_one")
    assert p.readline() == "ready"
    node.send(np.ones(1000), to=1, tag=5)
    assert node.stats()["python_copied_bytes"] == \
        after["python_copied_bytes"] + 8000
    assert p.finish()[0] == 0


@r2
def test_no_leaks_after_10000_sends(node):
    def fds():
        return len(os.listdir("/proc/self/fd"))
    x = np.arange(4, dtype=np.int32)
    for _ in range(50):                 # warm the pool
        r = node.irecv(src=0, tag=7)
        node.send(x, to=0, tag=7)
        r.wait()
    st0 = node.stats()
    f0, b0 = fds(), st0["buffers"]
    for _ in range(10000):
        r = node.irecv(src=0, tag=7)
        node.send(x, to=0, tag=7)
        r.wait()
    st = node.stats()
    assert fds() == f0
    assert st["buffers"] == b0
    assert st["xfers_active"] == 0 and st["posted_recvs"] == 0
    # each send and each receive completed in asocd: 20000 requests
    assert st["xfers_done"] - st0["xfers_done"] >= 20000


@r2
def test_one_gib_round_trip(node, echo):
    n = 1 << 30
    a = node.empty(n // 8, np.float64)
    a[:: 4096] = np.arange(a[:: 4096].size)
    a[-1] = 42.0
    out = node.empty(n // 8, np.float64)
    before = node.stats()["python_copied_bytes"]
    node.send(a, to=1, tag=1)
    node.recv(src=1, tag=1, out=out)
    assert node.stats()["python_copied_bytes"] == before
    assert out[-1] == 42.0
    assert np.array_equal(out[:: 4096], a[:: 4096])
    del a, out


@r2
def test_context_manager_and_errors():
    with asoc.connect(SOCKETS[0]) as n:
        assert n.rank == 0 and n.world_size == len(SOCKETS)
        keep = n.empty(10)
    with pytest.raises(asoc.Error, match="closed"):
        n.send(b"x", to=0)
    keep[:] = 1                         # still mapped
    with pytest.raises(asoc.NoDaemon, match="is asocd running"):
        asoc.connect("/nonexistent/asocd.sock")
    assert issubclass(asoc.NoDaemon, asoc.Error)


@r4
@pytest.mark.parametrize("mode", ["new", "inplace"])
def test_bcast_4_ranks(node, peer, mode):
    ps = [peer(r, "bcast", 0, mode) for r in (1, 2, 3)]
    x = node.empty((1 << 20) + 3, np.int32)
    x[:] = np.arange(x.size)
    node.bcast(x, root=0, tag=3)
    import zlib
    want = "bcast int32 %d (%d,) %d" % (x.size, x.size,
                                        zlib.crc32(x.tobytes()))
    for p in ps:
        rc, text = p.finish()
        assert rc == 0 and text.strip() == want, text


@r4
def test_bcast_from_other_root(node, peer):
    ps = [peer(r, "bcast", 2, "new") for r in (1, 2, 3)]
    y = node.bcast(None, root=2, tag=3)
    assert y.shape == ((1 << 20) + 3,) and y.dtype == np.int32
    assert np.array_equal(y, np.arange(y.size, dtype=np.int32))
    for p in ps:
        assert p.finish()[0] == 0


@r4
def test_killed_peer(node, peer):
    """Last on 4 ranks: kills rank 3's asocd in the middle of a send."""
    p = peer(3, "sleeper")
    assert p.readline() == "ready"
    big = node.empty(1 << 30, np.uint8)
    req = node.isend(big, to=3, tag=9)
    time.sleep(0.05)
    os.kill(PIDS[3], signal.SIGKILL)
    with pytest.raises(asoc.PeerLost):
        req.wait(30)
    p.kill()
    # the node still works, with the others
    r = node.irecv(src=0, tag=10)
    node.send(np.arange(3), to=0, tag=10)
    assert r.wait(10).sum() == 3
    with pytest.raises(asoc.PeerLost):
        node.send(np.arange(3), to=3, tag=10, timeout=20)
