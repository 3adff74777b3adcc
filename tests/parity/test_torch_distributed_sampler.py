"""DistributedSampler against torch.utils.data.distributed.DistributedSampler: the same indices with shuffle=False
(padding and drop_last included), the same lengths either way."""

import pytest

torch = pytest.importorskip("torch")

from torch.utils.data.distributed import DistributedSampler as TorchSampler  # noqa: E402

from minigrad.utils.data import DistributedSampler  # noqa: E402


@pytest.mark.parametrize("n", [1, 2, 5, 10, 17, 64])
@pytest.mark.parametrize("replicas", [1, 2, 3, 4, 7])
@pytest.mark.parametrize("drop_last", [False, True])
def test_indices_as_torch(n, replicas, drop_last):
    data = list(range(n))
    for rank in range(replicas):
        ours = DistributedSampler(data, num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop_last)
        theirs = TorchSampler(data, num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs)
        assert len(ours) == len(theirs) == len(list(DistributedSampler(data, replicas, rank, drop_last=drop_last)))
