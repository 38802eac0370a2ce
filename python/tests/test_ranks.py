"""Process ranks (issue 12) in the asoc package: connect()'s rank keywords,
Node.node/nodes/rank_nodes, and ranks spread over two daemons.

The ranks2 tests run on the node-rank cluster; the procranks ones on two
fresh daemons (tests/test-python.sh), this process being rank 0 of 4 on
node 0, helper.py ranks 1 (node 0), 2 and 3 (node 1).
"""
import numpy as np
import pytest

import asoc
from conftest import SOCKETS

r2 = pytest.mark.ranks2
proc = pytest.mark.procranks


# --- arguments: refused before any daemon is asked ---

@r2
@pytest.mark.parametrize("kw, words", [
    (dict(rank=1), "rank= and world_size= go together"),
    (dict(world_size=4), "rank= and world_size= go together"),
    (dict(rank=4, world_size=4),
     r"rank 4 is not in a world of 4 process ranks \(0-3\)"),
    (dict(rank=-1, world_size=4), "rank -1 is not in a world"),
    (dict(rank=0, world_size=0), r"world_size 0 is out of range"),
    (dict(rank=0, world_size=1, node_ranks=True), "exclude each other"),
])
def test_connect_refuses_bad_ranks(kw, words):
    with pytest.raises(ValueError, match=words):
        asoc.connect(SOCKETS[0], **kw)


@r2
def test_connect_rank_types():
    with pytest.raises(TypeError, match="rank must be an int"):
        asoc.connect(SOCKETS[0], rank=True, world_size=2)
    with pytest.raises(TypeError, match="world_size must be an int"):
        asoc.connect(SOCKETS[0], rank=0, world_size="2")
    with pytest.raises(TypeError):
        asoc.connect(SOCKETS[0], 0, 2)      # keywords only


@r2
def test_environment_refusals(monkeypatch):
    monkeypatch.setenv("ASOC_PROC_RANK", "3")
    monkeypatch.delenv("ASOC_PROC_WORLD", raising=False)
    with pytest.raises(asoc.Error, match="ASOC_PROC_RANK is set \\(3\\) "
                       "but ASOC_PROC_WORLD is not") as e:
        asoc.connect(SOCKETS[0])
    assert e.value.status == 1          # ASOC_EINVAL
    # explicit keywords win over the environment
    monkeypatch.setenv("ASOC_RANKS", "nodes")
    with pytest.raises(asoc.Error, match="the only value is 'node'"):
        asoc.connect(SOCKETS[0])
    with asoc.connect(SOCKETS[0], node_ranks=True) as n:
        assert n.rank == 0


# --- node ranks: one rank per daemon, as before ---

@r2
def test_node_mode_accessors(monkeypatch):
    # An srun step's task asking for node ranks stays a node.
    for k, v in (("SLURM_STEP_ID", "0"), ("SLURM_PROCID", "1"),
                 ("SLURM_STEP_NUM_TASKS", "2")):
        monkeypatch.setenv(k, v)
    with asoc.connect(SOCKETS[1], node_ranks=True) as n:
        assert (n.rank, n.world_size) == (1, len(SOCKETS))
        assert (n.node, n.nodes) == (1, len(SOCKETS))
        assert n.rank_nodes() == list(range(len(SOCKETS)))
    monkeypatch.setenv("ASOC_RANKS", "node")
    with asoc.connect(SOCKETS[0]) as n:
        assert (n.rank, n.node, n.nodes) == (0, 0, len(SOCKETS))


@r2
def test_rank_left_is_peer_lost():
    assert issubclass(asoc.RankLeft, asoc.PeerLost)
    assert "left" in asoc._asoc.strerror(asoc._asoc.ELEFT)


# --- process ranks over two daemons ---

def _proc_env(r, world=4):
    return {"ASOC_PROC_RANK": str(r), "ASOC_PROC_WORLD": str(world)}


@pytest.fixture
def world4(peer):
    """Ranks 1 (node 0), 2 and 3 (node 1) echoing to rank 0 (us)."""
    ps = [peer(node, "echo", env=_proc_env(r))
          for r, node in ((1, 0), (2, 1), (3, 1))]
    with asoc.connect(SOCKETS[0], rank=0, world_size=4) as n:
        for p in ps:
            assert p.readline() == "ready"
        yield n
        for r in (1, 2, 3):
            n.send(b"stop", to=r, tag=1)
    for p in ps:
        rc, out = p.finish()
        assert rc == 0, out


@proc
def test_process_rank_values(world4):
    n = world4
    assert (n.rank, n.world_size) == (0, 4)
    assert (n.node, n.nodes) == (0, 2)
    assert n.rank_nodes(timeout=30) == [0, 0, 1, 1]


@proc
def test_stats_list_the_local_ranks(world4):
    import os
    st = world4.stats()
    assert (st["mode"], st["proc_world"], st["local_ranks"]) == \
        ("proc", 4, 2)
    assert [r["rank"] for r in st["ranks"]] == [0, 1]
    me = st["ranks"][0]
    assert me["pid"] == os.getpid() and me["world"] == 4
    assert me["sessions"] == 1 and me["localid"] == -1


@proc
def test_process_ranks_exchange(world4):
    n = world4
    for r in (1, 2, 3):            # same node, then the other node
        x = np.arange(1000 + r, dtype=np.int64) * r
        n.send(x, to=r, tag=1)
        y = n.recv(src=r, tag=1)
        assert np.array_equal(x, y)
    with pytest.raises(asoc.PeerLost, match="rank 4 is not in this job"):
        n.send(b"x", to=4)


@proc
def test_process_rank_from_environment(monkeypatch, peer):
    monkeypatch.setenv("ASOC_PROC_RANK", "1")
    monkeypatch.setenv("ASOC_PROC_WORLD", "2")
    p = peer(1, "echo", env=_proc_env(0, 2))
    with asoc.connect(SOCKETS[0]) as n:
        assert (n.rank, n.world_size, n.node) == (1, 2, 0)
        assert p.readline() == "ready"
        # the helper is rank 0 and echoes what rank 0 sends: here it
        # receives from us, rank 1, so it never answers; only check
        # the map and that a node-rank client is refused meanwhile.
        assert n.rank_nodes(timeout=30) == [1, 0]
        with pytest.raises(asoc.Error, match="process ranks"):
            asoc.connect(SOCKETS[0], node_ranks=True)
    p.kill()


@proc
@pytest.mark.parametrize("root", [3, 1])
def test_bcast_node_aware(peer, root):
    """asoc_bcast over 2 x 2 process ranks from a root that is not the
    lowest rank on its node: the chain goes root -> the other node's
    lowest rank over the network, and on each node from its leader to the
    other rank (libasoc-bcast.c); every rank gets the data."""
    ps = [peer(node, "bcast", root, "new", env=_proc_env(r))
          for r, node in ((1, 0), (2, 1), (3, 1))]
    with asoc.connect(SOCKETS[0], rank=0, world_size=4) as n:
        y = n.bcast(None, root=root, tag=3)
    assert y.shape == ((1 << 20) + 3,) and y.dtype == np.int32
    assert np.array_equal(y, np.arange(y.size, dtype=np.int32))
    import zlib
    want = "bcast int32 %d (%d,) %d" % (y.size, y.size,
                                        zlib.crc32(y.tobytes()))
    for p in ps:
        rc, text = p.finish()
        assert rc == 0 and text.strip() == want, text


@r2
def test_status_only_session():
    # What asoc-stat opens: no rank, counters only.
    s = asoc._asoc.Session(SOCKETS[0], asoc._asoc.RANK_AUTO, 0, True)
    try:
        assert (s.rank, s.world_size) == (-1, 0)
        assert (s.node, s.nodes) == (0, len(SOCKETS))
        assert s.stat()["world"] == len(SOCKETS)
        buf = s.alloc(64)
        with pytest.raises(asoc.Error, match="status-only session"):
            s.isend(buf, 0, 8, 0, 1)
        with pytest.raises(asoc.Error, match="status-only session"):
            s.rank_nodes()
    finally:
        s.close()


# --- python -m asoc.bench with process ranks ---

@r2
@pytest.mark.parametrize("args, says", [
    (["--rank", "1"], "--rank and --world-size go together"),
    (["--world-size", "2"], "--rank and --world-size go together"),
    (["--node-ranks", "--rank", "0", "--world-size", "2"],
     "exclude each other"),
    (["--rank", "2", "--world-size", "2"],
     "rank 2 is not in a world of 2 process ranks"),
])
def test_bench_rank_usage_errors(capsys, args, says):
    from asoc import bench
    with pytest.raises(SystemExit) as e:
        bench.main(["--socket", SOCKETS[0]] + args)
    assert e.value.code == 2
    assert says in capsys.readouterr().err


@proc
def test_bench_process_ranks(peer, capsys):
    from asoc import bench
    args = ["--world-size", "4", "--pattern", "alltoall", "--size", "64K",
            "--iterations", "2"]
    ps = [peer(node, "bench", "--rank", r, *args, env=_proc_env(r))
          for r, node in ((1, 0), (2, 1), (3, 1))]
    rc = bench.main(["--socket", SOCKETS[0], "--rank", "0"] + args)
    out = capsys.readouterr().out
    for p in ps:
        prc, text = p.finish()
        assert prc == 0, text
    assert rc == 0, out
    assert "world size 4" in out
    assert "data verified on 4 of 4 ranks" in out
