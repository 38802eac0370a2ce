"""asoc: numpy and PyTorch tensors between the nodes of a job, via asocd.

    import asoc
    with asoc.connect() as node:
        if node.rank == 0:
            node.send(np.arange(10.0), to=1)
        else:
            x = node.recv(src=0)        # same dtype and shape

See python/README.md (help(asoc.Node) for every call).
"""
from ._asoc import (ANY_SOURCE, Cancelled, Error, NoDaemon, PeerLost,
                    RankLeft, Timeout, Truncated)
from ._node import Node, Request, connect, wait_all

__all__ = ["connect", "Node", "Request", "wait_all", "Error", "PeerLost",
           "Truncated", "Timeout", "NoDaemon", "Cancelled", "RankLeft",
           "ANY_SOURCE"]
