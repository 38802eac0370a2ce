"""Many in flight from Python (issue 15): windows of isend/irecv polled
with Request.test(), and python3 -m asoc.bench --window across 2 ranks.

tests/test-python.sh runs this with the rest; rank 1 runs helper.py.
"""
import numpy as np
import pytest

import asoc
from asoc import bench

r2 = pytest.mark.ranks2


@r2
def test_window_of_isends_polled_with_test(node):
    """200 messages to this rank, 16 in flight, completions found by
    test() only: every one arrives, in order, intact."""
    me, total, window = node.rank, 200, 16
    got, sends, recvs, nxt = [], [], [], 0
    while len(got) < total:
        while nxt < total and len(sends) < window:
            recvs.append(node.irecv(src=me, tag=300))
            sends.append(node.isend(np.full(3, nxt, np.int64), to=me,
                                    tag=300))
            nxt += 1
        assert len(sends) <= window
        sends = [s for s in sends if not s.test()]
        while recvs and recvs[0].test():
            got.append(recvs.pop(0).wait())
    assert [int(g[0]) for g in got] == list(range(total))
    assert all(np.array_equal(g, np.full(3, i)) for i, g in enumerate(got))
    for s in sends:
        s.wait(10)
    assert node.stats()["posted_recvs"] == 0


@pytest.mark.parametrize("args, says", [
    (["--window", "0"], "out of range (1 to 1024"),
    (["--window", "many"], "out of range"),
    (["--pattern", "bcast", "--window", "4"], "does not apply to --pattern "
     "bcast"),
    (["--size", "6"], "multiple of 4"),
    (["--size", "4Q"], "no size"),
    (["--size", "4K", "--tensor-size-mb", "1"], "not allowed with"),
])
def test_bench_usage_errors(capsys, args, says):
    with pytest.raises(SystemExit) as e:
        bench.main(args)
    assert e.value.code == 2
    assert says in capsys.readouterr().err


def run_bench(peer, capsys, *args):
    """asoc.bench ARGS on rank 1 (helper.py) and here as rank 0."""
    from conftest import SOCKETS
    p = peer(1, "bench", *args)
    rc = bench.main(["--socket", SOCKETS[0]] + list(args))
    prc, text = p.finish()
    out = capsys.readouterr().out
    assert rc == 0 and prc == 0, out + text
    return out


@r2
@pytest.mark.parametrize("pattern", ["pair", "ring", "alltoall"])
@pytest.mark.parametrize("size", ["8", "4K", "64K"])
def test_bench_window(peer, capsys, pattern, size):
    out = run_bench(peer, capsys, "--pattern", pattern, "--size", size,
                    "--window", "8", "--iterations", "3")
    assert "window 8," in out
    assert "data verified on 2 of 2 ranks" in out
    msgs = {"pair": 8, "ring": 16, "alltoall": 16}[pattern]
    assert ", %d messages, " % msgs in out
    assert "per message: " in out


@r2
def test_bench_bcast_small(peer, capsys):
    out = run_bench(peer, capsys, "--pattern", "bcast", "--size", "4K",
                    "--iterations", "2")
    assert "data verified on 2 of 2 ranks" in out


@r2
def test_bench_window_1m(peer, capsys):
    out = run_bench(peer, capsys, "--size", "1M", "--window", "4",
                    "--iterations", "2")
    assert "data verified on 2 of 2 ranks" in out
    assert "per message:" not in out    # 1 MiB is not a small message
