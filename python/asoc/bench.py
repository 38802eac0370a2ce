"""python3 -m asoc.bench: the original ASoc benchmark, on asocd.

    python3 -m asoc.bench --rank R --world-size N --tensor-size-mb M \\
        --iterations I --pattern bcast|pair|alltoall|ring

--rank and --world-size default from SLURM (SLURM_PROCID, SLURM_NTASKS)
and are checked against asocd's.  Every rank runs it.  Times are
receiver-confirmed: a send completes when the bytes are in the receiver's
memory, and rank 0 stops the clock only when every receiver said so.
Rank 0 prints, per iteration, the elapsed time, the data moved and the
aggregate and per-peer throughput, then a summary: world size, tensor
size, average aggregate throughput and the measured protocol overhead
(the time of a header-only message, and its share of an iteration).
"""
import argparse
import os
import sys
import time

import numpy as np

import asoc

_TAG_DATA, _TAG_SYNC = 1000, 1001


def _barrier(node):
    me, n = node.rank, node.world_size
    tok = np.zeros(1, np.uint8)
    if me == 0:
        for r in range(1, n):
            node.recv(src=r, tag=_TAG_SYNC, out=tok)
        for r in range(1, n):
            node.send(tok, to=r, tag=_TAG_SYNC)
    else:
        node.send(tok, to=0, tag=_TAG_SYNC)
        node.recv(src=0, tag=_TAG_SYNC, out=tok)


def _gather_done(node):
    """Rank 0 returns when every rank reported its part done."""
    _barrier(node)


def _iteration(node, pattern, a, out, size):
    """One iteration; returns (bytes moved, per-peer seconds)."""
    me, n = node.rank, node.world_size
    per_peer = []
    if pattern == "pair":
        if me == 0:
            for r in range(1, n):
                t = time.perf_counter()
                node.send(a, to=r, tag=_TAG_DATA)
                per_peer.append(time.perf_counter() - t)
        else:
            node.recv(src=0, tag=_TAG_DATA, out=out)
        return (n - 1) * size, per_peer
    if pattern == "bcast":
        node.bcast(a if me == 0 else out, root=0, tag=7)
        _gather_done(node)
        return (n - 1) * size, per_peer
    if pattern == "ring":
        r = node.irecv((me - 1) % n, _TAG_DATA, out=out)
        s = node.isend(a, (me + 1) % n, _TAG_DATA)
        asoc.wait_all([s, r])
        _gather_done(node)
        return n * size, per_peer
    # alltoall: a is the send slot, out holds one slot per peer.
    reqs = [node.irecv(p, _TAG_DATA, out=out[p]) for p in range(n) if p != me]
    reqs += [node.isend(a, p, _TAG_DATA) for p in range(n) if p != me]
    asoc.wait_all(reqs)
    _gather_done(node)
    return n * (n - 1) * size, per_peer


def _overhead(node, reps=50):
    """Median seconds of a header-only message 0 -> 1, receiver-confirmed."""
    if node.world_size < 2 or node.rank > 1:
        return None
    empty = np.zeros(0, np.uint8)
    ts = []
    for _ in range(reps):
        if node.rank == 0:
            t = time.perf_counter()
            node.send(empty, to=1, tag=_TAG_DATA)
            ts.append(time.perf_counter() - t)
        else:
            node.recv(src=0, tag=_TAG_DATA)
    return sorted(ts)[len(ts) // 2] if ts else None


def main(argv=None):
    p = argparse.ArgumentParser(prog="python3 -m asoc.bench",
                                description=__doc__.split("\n\n")[0])
    env = os.environ
    p.add_argument("--rank", type=int, default=env.get("SLURM_PROCID"))
    p.add_argument("--world-size", type=int, default=env.get("SLURM_NTASKS"))
    p.add_argument("--tensor-size-mb", type=float, default=64)
    p.add_argument("--iterations", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--pattern", default="pair",
                   choices=["pair", "bcast", "ring", "alltoall"])
    p.add_argument("--memory", default="shared",
                   choices=["shared", "numpy", "torch"],
                   help="send from node.empty (zero-copy), or from an "
                   "ordinary numpy array / torch tensor (one copy)")
    p.add_argument("--socket", default=None)
    a = p.parse_args(argv)
    try:
        node = asoc.connect(a.socket)
    except asoc.Error as e:
        print("asoc.bench: %s" % e, file=sys.stderr)
        return 1
    with node:
        me, n = node.rank, node.world_size
        for what, given, real in (("rank", a.rank, me),
                                  ("world size", a.world_size, n)):
            if given is not None and int(given) != real:
                print("asoc.bench: --%s %s but asocd at %s says %d: check "
                      "the job's daemons" % (what.replace(" ", "-"), given,
                                             node._s.socket_path, real),
                      file=sys.stderr)
                return 1
        if n < 2:
            print("asoc.bench: a world of 1 moves nothing", file=sys.stderr)
            return 1
        size = int(a.tensor_size_mb * (1 << 20)) // 4 * 4
        count = size // 4
        if a.memory == "shared":
            src = node.empty(count, np.float32)
        else:
            src = np.empty(count, np.float32)
        src[:] = me
        if a.memory == "torch":
            import torch
            src = torch.from_numpy(src)
        if a.pattern == "alltoall":
            out = {r: node.empty(count, np.float32) for r in range(n)
                   if r != me}
        else:
            out = node.empty(count, np.float32)
        overhead = _overhead(node)
        _barrier(node)
        rates = []
        if me == 0:
            print("asoc.bench: pattern %s, world size %d, tensor %.1f MiB "
                  "(%s memory), %d iterations (+%d warmup)" %
                  (a.pattern, n, size / 2**20, a.memory, a.iterations,
                   a.warmup), flush=True)
        for it in range(a.warmup + a.iterations):
            _barrier(node)
            t = time.perf_counter()
            moved, per_peer = _iteration(node, a.pattern, src, out, size)
            el = time.perf_counter() - t
            if me != 0 or it < a.warmup:
                continue
            agg = moved / el / 2**30
            pp = (sum(size / s for s in per_peer) / len(per_peer) / 2**30
                  if per_peer else agg / (n - 1))
            rates.append(agg)
            print("iteration %d: elapsed %.4f s, total data %.1f MiB, "
                  "aggregate %.3f GiB/s, per-peer %.3f GiB/s" %
                  (it - a.warmup + 1, el, moved / 2**20, agg, pp),
                  flush=True)
        if me == 0:
            avg = sum(rates) / len(rates) if rates else 0
            print("summary: world size %d, tensor size %.1f MiB, average "
                  "aggregate throughput %.3f GiB/s (%.2f Gbit/s)" %
                  (n, size / 2**20, avg, avg * 8 * 1.073741824))
            if overhead is not None:
                per_it = size / (avg * 2**30) if avg else 0
                print("protocol overhead: %.1f us per message (a %d-byte "
                      "header-only send, receiver-confirmed), %.3f%% of a "
                      "%.1f MiB transfer" %
                      (overhead * 1e6, 320, 100 * overhead / per_it
                       if per_it else 0, size / 2**20))
    return 0


if __name__ == "__main__":
    sys.exit(main())
