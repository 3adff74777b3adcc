"""Worker (run by mpiexec from test_ddp.py): DistributedDataParallel's checks and its Module behaviour.

Prints one ``rank R: <check> ok`` line per check that passed; exits non-zero on the first that fails.
"""

import warnings

import numpy as np

import minigrad as mg
import minigrad.distributed as dist
from minigrad.errors import ArgumentError, DistributedError
from minigrad.nn.parallel import DistributedDataParallel

dist.init_process_group()
r, n = dist.get_rank(), dist.get_world_size()


def ok(what):
    print(f"rank {r}: {what} ok", flush=True)


def raises(kind, text, fn):
    try:
        fn()
    except kind as exc:
        assert text in str(exc), f"{text!r} not in {exc}"
        return
    raise AssertionError(f"expected {kind.__name__} containing {text!r}")


# a model that differs on rank 1: every rank raises, naming the first mismatch and the rank
mg.manual_seed(0)
hidden = 5 if r == 1 else 4
different = mg.nn.Sequential(mg.nn.Linear(3, 4), mg.nn.Tanh(), mg.nn.Linear(4, hidden), mg.nn.Linear(hidden, 2))
raises(
    DistributedError,
    "parameter 2 is '2.weight' of shape (5, 4) and dtype float32 on rank 1 but '2.weight' of shape (4, 4) and "
    "dtype float32 on rank 0",
    lambda: DistributedDataParallel(different),
)
ok("mismatch")

raises(ArgumentError, "device_ids must be None", lambda: DistributedDataParallel(mg.nn.Linear(2, 2), device_ids=[0]))
raises(
    ArgumentError,
    "mixed_precision is not supported",
    lambda: DistributedDataParallel(mg.nn.Linear(2, 2), mixed_precision=object()),
)
raises(
    ArgumentError,
    "bucket_cap_mb must be positive",
    lambda: DistributedDataParallel(mg.nn.Linear(2, 2), bucket_cap_mb=0),
)
raises(
    ArgumentError,
    "bucket_cap_mb_list must hold positive numbers",
    lambda: DistributedDataParallel(mg.nn.Linear(2, 2), bucket_cap_mb_list=[1, 0]),
)
# bucket_cap_mb_list: bucket k closes once it holds entry k's bytes (the last entry for the rest); parameters
# in reverse order, float64: 2.bias 16 bytes | 2.weight 32 + 1.bias 16 + 1.weight 64 >= 64 | the rest
mg.manual_seed(0)
capped = DistributedDataParallel(
    mg.nn.Sequential(mg.nn.Linear(3, 4), mg.nn.Linear(4, 2), mg.nn.Linear(2, 2)).double(),
    bucket_cap_mb_list=[16 / 2**20, 64 / 2**20, 1e3],
)
names = {id(p): k for k, p in capped.module.named_parameters()}
buckets = [[names[id(p)] for p in b.params] for b in capped._buckets]
assert buckets == [["2.bias"], ["2.weight", "1.bias", "1.weight"], ["0.bias", "0.weight"]], buckets
assert capped.bucket_cap_mb == 1e3
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    DistributedDataParallel(mg.nn.Linear(2, 2), broadcast_buffers=True)
assert caught and caught[0].category is FutureWarning and "`broadcast_buffers` is deprecated" in str(caught[0].message)
hooked = DistributedDataParallel(mg.nn.Linear(2, 2))
raises(TypeError, "Communication hook must be callable", lambda: hooked.register_comm_hook(None, 3))
hooked.register_comm_hook(None, lambda state, bucket: None)
raises(DistributedError, "can only be called once", lambda: hooked.register_comm_hook(None, lambda s, b: None))
ok("arguments")

# the wrap broadcasts rank 0's parameters and buffers; state_dict carries the module. prefix
mg.manual_seed(10 + r)
net = mg.nn.Sequential(mg.nn.Linear(3, 4), mg.nn.BatchNorm1d(4), mg.nn.Linear(4, 2))
net[1].running_mean.array[...] = r + 1.0
ddp = DistributedDataParallel(net)
mg.manual_seed(10)
rank0 = mg.nn.Sequential(mg.nn.Linear(3, 4), mg.nn.BatchNorm1d(4), mg.nn.Linear(4, 2))
for a, b in zip(net.parameters(), rank0.parameters()):
    np.testing.assert_array_equal(a.numpy(), b.numpy())
np.testing.assert_array_equal(net[1].running_mean.numpy(), 1.0)
keys = list(ddp.state_dict())
assert keys[0] == "module.0.weight" and "module.1.running_mean" in keys, keys
assert ddp.module is net
ok("broadcast and state_dict")

# forward passes through; BatchNorm's batch statistics are per rank, its running stats rank 0's at each forward
x = mg.tensor(np.random.default_rng(r).standard_normal((6, 3)).astype(np.float32))
out = ddp(x)
np.testing.assert_array_equal(out.numpy(), net(x).numpy())
ok("forward")

# a parameter without a gradient: the next forward says which, on every rank
ddp(x)  # a synchronized forward, then a backward through the first Linear alone
net[0](x).sum().backward()
raises(
    DistributedError,
    "Expected to have finished reduction in the prior iteration before starting a new one. This error indicates "
    "that your module has parameters that were not used in producing loss. You can enable unused parameter "
    "detection by passing the keyword argument `find_unused_parameters=True`",
    lambda: ddp(x),
)
message = ""
ddp(x)
net[0](x).sum().backward()
try:
    ddp(x)
except DistributedError as exc:
    message = str(exc)
assert f"Parameter indices which did not receive grad for rank {r}: 2 3 4 5" in message, message
assert f"Parameters which did not receive grad for rank {r}: 1.weight, 1.bias, 2.weight, 2.bias" in message, message
ok("unused")

# under no_grad nothing is armed: no error, no communication
ddp.zero_grad()
with mg.no_grad():
    ddp(x)
ddp(x).sum().backward()
grads = [p.grad.numpy().copy() for p in ddp.parameters()]
for g in grads:  # averaged: the same on every rank
    same = mg.tensor(g.copy())
    dist.broadcast(same, 0)
    np.testing.assert_array_equal(same.numpy(), g)
ok("no_grad and averaged")

dist.destroy_process_group()
