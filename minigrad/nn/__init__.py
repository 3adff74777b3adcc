"""Neural-network building blocks, with PyTorch's names: ``minigrad.nn.Linear``, ``Conv2d``, ..."""

from . import functional, init, utils
from .attention import (
    MultiheadAttention,
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)
from .layers import (
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    Bilinear,
    Conv2d,
    Dropout,
    Embedding,
    EmbeddingBag,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    LogSoftmax,
    MaxPool2d,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from .loss import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from .module import Module, ModuleDict, ModuleList, Parameter, ParameterDict, ParameterList, Sequential, StateDictError
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

__all__ = [
    "functional", "init", "utils", "Module", "ModuleList", "Parameter", "Sequential", "StateDictError",
    "Identity", "Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "Flatten", "ReLU", "LeakyReLU", "Tanh", "Sigmoid",
    "Softmax", "LogSoftmax", "Dropout", "BatchNorm1d", "BatchNorm2d", "Embedding",
    "CrossEntropyLoss", "NLLLoss", "MSELoss", "BCEWithLogitsLoss",
    "ModuleDict", "ParameterList", "ParameterDict", "Bilinear", "EmbeddingBag",
    "RNNCell", "LSTMCell", "GRUCell", "RNN", "LSTM", "GRU",
    "MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder", "TransformerDecoderLayer",
    "TransformerDecoder", "Transformer",
]  # fmt: skip
