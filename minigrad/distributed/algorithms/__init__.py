"""Algorithms on top of the collectives, as ``torch.distributed.algorithms``: DDP's communication hooks."""
