"""The other ranks' side of the tests (run by conftest.Peer)."""
import faulthandler
import signal
import sys
import zlib

import numpy as np

import asoc


def echo(node):
    """Sends back whatever rank 0 sends on tag 1, until b"stop"."""
    print("ready", flush=True)
    while True:
        x = node.recv(src=0, tag=1)
        if isinstance(x, bytes) and x == b"stop":
            return
        node.send(x, to=0, tag=1)


def crc(x):
    import torch
    if isinstance(x, torch.Tensor):
        if x.dtype == torch.bfloat16:
            x = x.view(torch.int16)
        x = x.numpy()
    return zlib.crc32(np.ascontiguousarray(x).view(np.uint8).tobytes())


def recv_many(node, n):
    """Receives n messages from rank 0 on tags 200..; prints a digest."""
    reqs = [node.irecv(src=0, tag=200 + t) for t in range(int(n))]
    out = asoc.wait_all(reqs)
    print("got %d %d" % (len(out), sum(int(x.sum()) for x in out)),
          flush=True)


def send_floats(node, n, tag):
    """Sends n float64s to rank 0; prints what became of it."""
    try:
        node.send(np.arange(int(n), dtype=np.float64), to=0, tag=int(tag))
        print("sent", flush=True)
    except asoc.Truncated as e:
        print("truncated:", e, flush=True)


def recv_one(node):
    """Receives one message from rank 0; prints its size and digest."""
    print("ready", flush=True)
    x = node.recv(src=0, tag=5)
    print("got %d %d" % (x.nbytes, crc(x)), flush=True)


def sigint(node):
    """Blocks in recv until SIGINT, then shows the node still works and
    that asocd holds no receive of ours any more."""
    # Python leaves SIGINT alone when it starts with SIGINT ignored, as a
    # background job of a shell without job control is (CI run so hung
    # here, the signal never seen): take it as Ctrl-C whatever we inherited.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    # Should it hang anyway, the stacks show where: printed before the
    # test's 30 s run out.
    faulthandler.dump_traceback_later(25, exit=False, file=sys.stdout)
    base = node.stats()["posted_recvs"]    # other clients' (the echo's)
    print("ready", flush=True)
    try:
        node.recv(src=0, tag=77)
        print("received?!", flush=True)
        return
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    r = node.irecv(src=node.rank, tag=78)
    node.send(np.arange(5), to=node.rank, tag=78)
    x = r.wait(10)
    st = node.stats()
    print("works %d posted=%d" % (int(x.sum()), st["posted_recvs"] - base),
          flush=True)


def bcast(node, root, mode):
    root = int(root)
    if node.rank == root:
        x = node.empty((1 << 20) + 3, np.int32)
        x[:] = np.arange(x.size)
        node.bcast(x, root=root, tag=3)
    elif mode == "new":
        x = node.bcast(None, root=root, tag=3)
    else:
        x = node.bcast(node.empty((1 << 20) + 3, np.int32), root=root,
                       tag=3)
    print("bcast %s %d %s %d" % (x.dtype, x.size, x.shape, crc(x)),
          flush=True)


def sleeper(node):
    """Receives from rank 0 slowly: its daemon gets killed meanwhile."""
    print("ready", flush=True)
    try:
        node.recv(src=0, tag=9)
    except asoc.Error as e:
        print("error:", e, flush=True)


def bench(node, *args):
    """python3 -m asoc.bench ARGS as this rank; exits with its status."""
    from asoc import bench as b
    rc = b.main(list(args))
    sys.stdout.flush()
    if rc:
        sys.exit(rc)


ROLES = {"bench": bench, "echo": echo, "recv_many": recv_many, "send_floats": send_floats,
         "recv_one": recv_one, "sigint": sigint, "bcast": bcast,
         "sleeper": sleeper}

if __name__ == "__main__":
    with asoc.connect() as n:
        ROLES[sys.argv[1]](n, *sys.argv[2:])
