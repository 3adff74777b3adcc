"""Data: datasets, a shuffling DataLoader, the bundled digits, synthetic sets and an IDX reader."""

from .dataset import DataLoader, Dataset, TensorDataset
from .digits import DIGITS_CITATION, DIGITS_LICENSE, load_digits
from .distributed import DistributedSampler
from .idx import IDXError, load_mnist, read_idx, write_idx
from .subsets import ConcatDataset, Subset, random_split
from .synthetic import Quadratic, make_moons, make_spirals, quadratic

__all__ = [
    "Dataset", "TensorDataset", "DataLoader", "load_digits", "DIGITS_CITATION", "DIGITS_LICENSE",
    "make_moons", "make_spirals", "quadratic", "Quadratic", "read_idx", "write_idx", "load_mnist", "IDXError",
    "Subset", "ConcatDataset", "random_split",
]  # fmt: skip
__all__ += ["DistributedSampler"]
