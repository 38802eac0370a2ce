"""Send a torch model's state_dict from rank 0 to every rank.

Run one per rank, with the job's asocd running (bench/demo-local starts
four on this machine):

    ASOC_SOCKET=/path/to/rankN.sock python3 state_dict_bcast.py

Every rank builds the same model; rank 0's weights are broadcast straight
into the other ranks' parameters (in place, one bcast per tensor, in the
state_dict's order, which is the same everywhere).
"""
import torch

import asoc


def main():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(512, 256), torch.nn.ReLU(),
                                torch.nn.Linear(256, 10))
    with asoc.connect() as node:
        if node.rank == 0:
            with torch.no_grad():
                for p in model.parameters():
                    p.mul_(2)   # rank 0's weights differ from the others'
        state = model.state_dict()
        for name, tensor in state.items():
            node.bcast(tensor, root=0)
        digest = sum(float(t.double().sum()) for t in state.values())
        print("rank %d of %d: %d tensors, checksum %.6f" %
              (node.rank, node.world_size, len(state), digest))


if __name__ == "__main__":
    main()
