"""python3 -m asoc.bench: the original ASoc benchmark, on asocd.

    python3 -m asoc.bench --rank R --world-size N --tensor-size-mb M \\
        --iterations I --pattern bcast|pair|alltoall|ring [--window W]
    python3 -m asoc.bench --size 64K --window 16 ...   (size in bytes)

--rank R --world-size N make this process rank R of N (process ranks);
without them libasoc decides (ASOC_PROC_RANK/ASOC_PROC_WORLD, then
SLURM_PROCID in an srun step, else one rank per node; --node-ranks forces
that).  Every rank runs it.  Times are
receiver-confirmed: a send completes when the bytes are in the receiver's
memory, and rank 0 stops the clock only when every receiver said so.
Rank 0 prints, per iteration, the elapsed time, the data moved and the
aggregate and per-peer throughput, then a summary: world size, tensor
size, average aggregate throughput and the measured protocol overhead
(the time of a header-only message, and its share of an iteration).

--window W (pair, ring, alltoall): each pair of ranks that exchanges a
tensor in an iteration exchanges W of them, all posted at once with
isend/irecv (each from its own row of a (W, n) array), so W messages are
in flight between them.  Below 1 MiB the figures are per message too.
Every receiver checks every message it got (each carries its iteration,
sender and row) and rank 0 prints on how many ranks the data was verified.
"""
import argparse
import os
import sys
import time

import numpy as np

import asoc

_TAG_DATA, _TAG_SYNC = 1000, 1001
_WINDOW_MAX = 1024
_SMALL = 1 << 20        # below: figures per message


def _stamp(it, src, j):
    """The value every element of message j from src in iteration it has:
    below 2**24, so a float32 holds it exactly."""
    return float(((it % 64) * 64 + src % 64) * 1024 + j)


def _size(arg):
    """Bytes: 8, 4K, 64K, 1M (powers of 1024), a multiple of 4 (float32)."""
    units = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    a = arg.strip().upper()
    for suffix in ("IB", "B"):
        if a.endswith(suffix) and a[:-len(suffix)][-1:] in "KMG":
            a = a[:-len(suffix)]
    unit = units.get(a[-1:], None) if a[-1:].isalpha() else 1
    num = a[:-1] if a[-1:].isalpha() else a
    if unit is None or not num.isdigit():
        raise argparse.ArgumentTypeError("%r is no size: give bytes such as "
                                         "8, 4K, 64K or 1M" % arg)
    n = int(num) * unit
    if n < 4 or n % 4:
        raise argparse.ArgumentTypeError("%s is not a positive multiple of "
                                         "4 bytes (the data is float32)"
                                         % arg)
    return n


def _window(arg):
    try:
        w = int(arg)
    except ValueError:
        w = 0
    if not 1 <= w <= _WINDOW_MAX:
        raise argparse.ArgumentTypeError("%r is out of range (1 to %d "
                                         "messages in flight)"
                                         % (arg, _WINDOW_MAX))
    return w


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


def _gather_bad(node, bad):
    """Rank 0 gets every rank's count of messages that failed the check;
    returns how many ranks had none (rank 0 only; others None)."""
    me, n = node.rank, node.world_size
    tok = np.array([bad], np.int64)
    if me != 0:
        node.send(tok, to=0, tag=_TAG_SYNC)
        return None
    good = int(bad == 0)
    for r in range(1, n):
        node.recv(src=r, tag=_TAG_SYNC, out=tok)
        good += int(tok[0] == 0)
    return good


def _pairs(node, pattern):
    """(ranks this rank sends to, ranks it receives from)."""
    me, n = node.rank, node.world_size
    if pattern == "pair":
        return (list(range(1, n)), []) if me == 0 else ([], [0])
    if pattern == "ring":
        return [(me + 1) % n], [(me - 1) % n]
    return [p for p in range(n) if p != me], [p for p in range(n) if p != me]


def _iteration(node, pattern, a, out, size):
    """One iteration; returns (bytes moved, per-peer seconds).  a is
    (window, n): row j is message j; out[p] likewise, per sender p."""
    me, n = node.rank, node.world_size
    w = a.shape[0]
    per_peer = []
    if pattern == "pair" and me == 0:
        for r in range(1, n):
            t = time.perf_counter()
            asoc.wait_all([node.isend(a[j], r, _TAG_DATA)
                           for j in range(w)])
            per_peer.append(time.perf_counter() - t)
        return (n - 1) * size * w, per_peer
    if pattern == "bcast":
        node.bcast(a[0] if me == 0 else out[0][0], root=0, tag=7)
        _gather_done(node)
        return (n - 1) * size, per_peer
    # The window's messages between two ranks share a tag: they match in
    # the order they were posted, row j into row j.  Receives first, so
    # no message waits for its post.
    to, frm = _pairs(node, pattern)
    reqs = [node.irecv(p, _TAG_DATA, out=out[p][j]) for p in frm
            for j in range(w)]
    reqs += [node.isend(a[j], p, _TAG_DATA) for p in to for j in range(w)]
    asoc.wait_all(reqs)
    if pattern == "pair":
        return 0, per_peer
    _gather_done(node)
    moved = {"ring": n, "alltoall": n * (n - 1)}[pattern] * size * w
    return moved, per_peer


def _check(pattern, node, out, it):
    """Messages received in iteration it that do not hold their stamp."""
    _, frm = _pairs(node, pattern)
    if pattern == "bcast":
        frm = [0] if node.rank != 0 else []
    bad = 0
    for p in frm:
        for j in range(out[p].shape[0] if pattern != "bcast" else 1):
            bad += int(not np.all(out[p][j] == _stamp(it, p, j)))
    return bad


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
    p.add_argument("--rank", type=int, default=None,
                   help="this process's rank, with --world-size (default: "
                   "ASOC_PROC_RANK, else SLURM_PROCID in an srun step, "
                   "else the node's)")
    p.add_argument("--world-size", type=int, default=None,
                   help="the number of processes, with --rank")
    p.add_argument("--node-ranks", action="store_true",
                   help="one rank per asocd (as ASOC_RANKS=node)")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--tensor-size-mb", type=float, default=64)
    size.add_argument("--size", type=_size, default=None,
                      help="tensor size in bytes: 8, 4K, 64K, 1M")
    p.add_argument("--window", type=_window, default=1,
                   help="messages in flight per pair of ranks (pair, ring, "
                   "alltoall), 1 to %d; default 1" % _WINDOW_MAX)
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
    if a.window > 1 and a.pattern == "bcast":
        p.error("--window does not apply to --pattern bcast (node.bcast "
                "pipelines its own pieces)")
    if (a.rank is None) != (a.world_size is None):
        p.error("--rank and --world-size go together")
    if a.node_ranks and a.rank is not None:
        p.error("--node-ranks and --rank exclude each other")
    try:
        node = asoc.connect(a.socket, rank=a.rank, world_size=a.world_size,
                            node_ranks=a.node_ranks)
    except ValueError as e:
        p.error(str(e))
    except asoc.Error as e:
        print("asoc.bench: %s" % e, file=sys.stderr)
        return 1
    with node:
        me, n = node.rank, node.world_size
        if n < 2:
            print("asoc.bench: a world of 1 moves nothing", file=sys.stderr)
            return 1
        size = a.size or int(a.tensor_size_mb * (1 << 20)) // 4 * 4
        count, w = size // 4, a.window
        if a.memory == "shared":
            arr = node.empty((w, count), np.float32)
        else:
            arr = np.empty((w, count), np.float32)
        src = arr
        if a.memory == "torch":
            import torch
            src = torch.from_numpy(arr)
        # One (window, count) array per rank this one receives from.
        _, frm = _pairs(node, a.pattern)
        if a.pattern == "bcast":
            frm = [0] if me != 0 else []
        out = {r: node.empty((w, count), np.float32) for r in frm}
        overhead = _overhead(node)
        _barrier(node)
        rates = []
        if me == 0:
            print("asoc.bench: pattern %s, world size %d, tensor %.1f MiB "
                  "(%s memory), %d iterations (+%d warmup)" %
                  (a.pattern, n, size / 2**20, a.memory, a.iterations,
                   a.warmup), flush=True)
        bad, times = 0, []
        for it in range(a.warmup + a.iterations):
            # Stamped outside the clock, before the barrier.
            for j in range(w):
                arr[j] = _stamp(it, me, j)
            for o in out.values():
                o[:] = -1
            _barrier(node)
            t = time.perf_counter()
            moved, per_peer = _iteration(node, a.pattern, src, out, size)
            el = time.perf_counter() - t
            bad += _check(a.pattern, node, out, it)
            if me != 0 or it < a.warmup:
                continue
            msgs = moved // size
            agg = moved / el / 2**30
            pp = (sum(size * w / s for s in per_peer) / len(per_peer) /
                  2**30 if per_peer else agg / (n - 1))
            rates.append(agg)
            times.append((el, msgs))
            print("iteration %d: elapsed %.4f s, total data %.1f MiB, "
                  "aggregate %.3f GiB/s, per-peer %.3f GiB/s%s" %
                  (it - a.warmup + 1, el, moved / 2**20, agg, pp,
                   ", %d messages, %.1f us/msg" % (msgs, el / msgs * 1e6)
                   if size < _SMALL else ""), flush=True)
        good = _gather_bad(node, bad)
        if me == 0:
            avg = sum(rates) / len(rates) if rates else 0
            print("summary: world size %d, tensor size %.1f MiB, window %d, "
                  "average aggregate throughput %.3f GiB/s (%.2f Gbit/s)" %
                  (n, size / 2**20, w, avg, avg * 8 * 1.073741824))
            if size < _SMALL and times:
                el = sum(t for t, _ in times)
                msgs = sum(m for _, m in times)
                print("per message: %.1f us, %.0f messages/s (%d bytes "
                      "each)" % (el / msgs * 1e6, msgs / el, size))
            if overhead is not None:
                per_it = size / (avg * 2**30) if avg else 0
                print("protocol overhead: %.1f us per message (a %d-byte "
                      "header-only send, receiver-confirmed), %.3f%% of a "
                      "%.1f MiB transfer" %
                      (overhead * 1e6, 320, 100 * overhead / per_it
                       if per_it else 0, size / 2**20))
            print("data verified on %d of %d ranks" % (good, n))
            if good != n:
                return 1
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
