"""PyTorch's ``torch.utils.data`` spelling of :mod:`minigrad.data`.

``from torch.utils.data import DataLoader, TensorDataset, random_split``
ports unchanged: the names here are minigrad.data's own objects.
"""

from ..data.dataset import DataLoader, Dataset, TensorDataset
from ..data.distributed import DistributedSampler
from ..data.subsets import ConcatDataset, Subset, random_split

__all__ = ["ConcatDataset", "DataLoader", "Dataset", "Subset", "TensorDataset", "random_split"]
__all__ += ["DistributedSampler"]
