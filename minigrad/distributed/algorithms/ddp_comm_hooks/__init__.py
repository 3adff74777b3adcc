"""DistributedDataParallel communication hooks, as ``torch.distributed.algorithms.ddp_comm_hooks``.

See :mod:`.default_hooks` (``allreduce_hook``, ``fp16_compress_hook``),
:mod:`.powerSGD_hook` (``PowerSGDState``, ``powerSGD_hook``,
``batched_powerSGD_hook``) and
:meth:`minigrad.nn.parallel.DistributedDataParallel.register_comm_hook`.
"""

from . import default_hooks, powerSGD_hook

__all__ = ["default_hooks", "powerSGD_hook"]
