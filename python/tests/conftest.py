"""Fixtures for the suite that tests/test-python.sh runs on real daemons.

ASOC_TEST_SOCKETS lists the daemons' sockets (rank order); this process
is rank 0 and `peer` starts the other ranks' programs (helper.py).
"""
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SOCKETS = [s for s in os.environ.get("ASOC_TEST_SOCKETS", "").split(",")
           if s]
PIDS = [int(p) for p in os.environ.get("ASOC_TEST_DAEMON_PIDS", "").split(",")
        if p]
RANKS = int(os.environ.get("ASOC_TEST_RANKS", "0"))


def pytest_configure(config):
    config.addinivalue_line("markers", "ranks2: runs on the 2-rank cluster")
    config.addinivalue_line("markers", "ranks4: runs on the 4-rank cluster")
    config.addinivalue_line("markers", "procranks: runs on 2 fresh daemons "
                            "serving process ranks")


def pytest_collection_modifyitems(config, items):
    if SOCKETS:
        return
    skip = pytest.mark.skip(reason="no daemons: run through "
                            "tests/test-python.sh (make check)")
    for it in items:
        it.add_marker(skip)


class Peer:
    """A helper.py program running as another rank: on node `rank`'s
    daemon, with `env` added to its environment (ASOC_PROC_RANK...)."""

    def __init__(self, rank, role, *args, env=None):
        env = dict(os.environ, ASOC_SOCKET=SOCKETS[rank], **(env or {}))
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "helper.py"), role] +
            [str(a) for a in args], env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)

    def readline(self):
        return self.proc.stdout.readline().strip()

    def finish(self, timeout=120):
        try:
            out, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            # Show what it printed, and where it hung (helper.py dumps
            # its stacks before this timeout runs out), not just that.
            self.proc.kill()
            out, _ = self.proc.communicate()
            pytest.fail("rank program %s still running after %g s; its "
                        "output:\n%s" % (self.proc.args[2:], timeout, out))
        return self.proc.returncode, out

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


@pytest.fixture
def peer():
    started = []

    def start(rank, role, *args, env=None):
        p = Peer(rank, role, *args, env=env)
        started.append(p)
        return p
    yield start
    for p in started:
        p.kill()


@pytest.fixture(scope="module")
def node():
    import asoc
    with asoc.connect(SOCKETS[0]) as n:
        yield n


@pytest.fixture
def daemon_pids():
    return PIDS
