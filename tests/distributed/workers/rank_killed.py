"""Worker (run by mpiexec from test_ddp.py): rank 1 dies (SIGKILL) or gets stuck in the middle of training.

A killed process runs no code: no excepthook, no MPI_Abort. Modes:

- ``launcher``: rank 1 is killed; mpiexec notices the dead rank and ends the job.
- ``no-cleanup``: rank 1 is killed under ``mpiexec -disable-auto-cleanup`` (the launcher is told not to end the
  job); the process group has a 1 s timeout, so if rank 0 is left waiting for the dead rank's gradients the
  wait raises DistributedError and the excepthook aborts the job. (Hydra sometimes ends rank 0 itself even so.)
- ``stuck``: rank 1 stops calling collectives (it sleeps); rank 0's wait times out after 1 s, raises, and its
  excepthook's MPI_Abort ends the job, the sleeping rank included.

Each rank first writes its pid to ``<dir>/rank<R>.pid`` so that the test can check every rank is gone, and
the error that ended it to ``<dir>/rank<R>.error`` (Hydra stops forwarding the ranks' output once one died).
"""

import datetime
import os
import signal
import sys
import time

import minigrad as mg
import minigrad.distributed as dist
from minigrad.nn.parallel import DistributedDataParallel

mode, directory = sys.argv[1], sys.argv[2]
timeout = None if mode == "launcher" else datetime.timedelta(seconds=1)
dist.init_process_group(timeout=timeout)
r = dist.get_rank()
with open(os.path.join(directory, f"rank{r}.pid"), "w") as f:
    f.write(str(os.getpid()))
abort = sys.excepthook  # init_process_group's: prints, then aborts the job


def record_then_abort(kind, value, tb):
    with open(os.path.join(directory, f"rank{r}.error"), "w") as f:
        f.write(f"{kind.__name__}: {value}")
    abort(kind, value, tb)


sys.excepthook = record_then_abort
mg.manual_seed(0)
ddp = DistributedDataParallel(mg.nn.Linear(4, 2))
opt = mg.optim.SGD(ddp.parameters(), lr=0.1)
for step in range(1000000):
    if r == 1 and step == 3:
        if mode == "stuck":
            time.sleep(600)
        os.kill(os.getpid(), signal.SIGKILL)
    opt.zero_grad()
    ddp(mg.randn(8, 4)).sum().backward()  # rank 0 waits here for the dead rank's gradients
    opt.step()
