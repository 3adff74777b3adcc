"""Worker (run by mpiexec from test_ddp.py): rank 1 raises in the middle of training; rank 0 would wait forever.

init_process_group's excepthook aborts the MPI job, so mpiexec ends every rank and exits non-zero.
"""

import minigrad as mg
import minigrad.distributed as dist
from minigrad.nn.parallel import DistributedDataParallel

dist.init_process_group()
r = dist.get_rank()
mg.manual_seed(0)
ddp = DistributedDataParallel(mg.nn.Linear(4, 2))
opt = mg.optim.SGD(ddp.parameters(), lr=0.1)
for step in range(1000000):
    if r == 1 and step == 3:
        raise RuntimeError("rank 1 fails at step 3")
    opt.zero_grad()
    ddp(mg.randn(8, 4)).sum().backward()  # rank 0 blocks here in the allreduce, waiting for rank 1
    opt.step()
