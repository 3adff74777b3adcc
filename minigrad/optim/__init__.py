"""Optimizers, learning-rate schedules and classical methods, with PyTorch's names and update rules."""

from . import lr_scheduler, schedules
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW, Yogi
from .lbfgs import LBFGS
from .line_search import GradientDescentLineSearch, Newton
from .newton_cg import NewtonCG
from .optimizer import Optimizer, OptimizerStateError
from .rmsprop import RMSprop
from .sgd import SGD

# isort: split
# Adamax, NAdam, RAdam (issue #18)
from .adamax import Adamax
from .nadam import NAdam
from .radam import RAdam

__all__ = [
    "Optimizer", "OptimizerStateError", "SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "Yogi",
    "GradientDescentLineSearch", "Newton", "lr_scheduler", "schedules",
    "Adamax", "NAdam", "RAdam",
    "LBFGS",
    "NewtonCG",
]  # fmt: skip
