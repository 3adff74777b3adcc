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
from .loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CosineEmbeddingLoss,
    CrossEntropyLoss,
    GaussianNLLLoss,
    HingeEmbeddingLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MarginRankingLoss,
    MSELoss,
    MultiLabelMarginLoss,
    MultiLabelSoftMarginLoss,
    MultiMarginLoss,
    NLLLoss,
    PoissonNLLLoss,
    SmoothL1Loss,
    SoftMarginLoss,
    TripletMarginLoss,
)  # fmt: skip
from .module import Module, ModuleDict, ModuleList, Parameter, ParameterDict, ParameterList, Sequential, StateDictError
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

# isort: split
# convolution breadth (#17)
from .conv import Conv1d, ConvTranspose1d, ConvTranspose2d, Fold, Unfold

# isort: split
# pooling, resampling, padding, channel dropout (#17)
from .pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AdaptiveMaxPool1d,
    AdaptiveMaxPool2d,
    AlphaDropout,
    AvgPool1d,
    CircularPad1d,
    CircularPad2d,
    ConstantPad1d,
    ConstantPad2d,
    ConstantPad3d,
    Dropout1d,
    Dropout2d,
    LPPool1d,
    LPPool2d,
    MaxPool1d,
    MaxUnpool2d,
    PixelShuffle,
    PixelUnshuffle,
    ReflectionPad1d,
    ReflectionPad2d,
    ReplicationPad1d,
    ReplicationPad2d,
    Unflatten,
    Upsample,
    UpsamplingBilinear2d,
    UpsamplingNearest2d,
    ZeroPad1d,
    ZeroPad2d,
)  # fmt: skip

__all__ = [
    "functional", "init", "utils", "Module", "ModuleList", "Parameter", "Sequential", "StateDictError",
    "Identity", "Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "Flatten", "ReLU", "LeakyReLU", "Tanh", "Sigmoid",
    "Softmax", "LogSoftmax", "Dropout", "BatchNorm1d", "BatchNorm2d", "Embedding",
    "CrossEntropyLoss", "NLLLoss", "MSELoss", "BCEWithLogitsLoss",
    "ModuleDict", "ParameterList", "ParameterDict", "Bilinear", "EmbeddingBag",
    "RNNCell", "LSTMCell", "GRUCell", "RNN", "LSTM", "GRU",
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AlphaDropout", "AvgPool1d",
    "CircularPad1d", "CircularPad2d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "Dropout1d", "Dropout2d",
    "LPPool1d", "LPPool2d", "MaxPool1d", "MaxUnpool2d", "PixelShuffle", "PixelUnshuffle", "ReflectionPad1d",
    "ReflectionPad2d", "ReplicationPad1d", "ReplicationPad2d", "Unflatten", "Upsample", "UpsamplingBilinear2d",
    "UpsamplingNearest2d", "ZeroPad1d", "ZeroPad2d",
    "MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder", "TransformerDecoderLayer",
    "TransformerDecoder", "Transformer",
]  # fmt: skip
__all__ += ["Conv1d", "ConvTranspose1d", "ConvTranspose2d", "Fold", "Unfold"]
__all__ += [
    "L1Loss", "SmoothL1Loss", "HuberLoss", "BCELoss", "KLDivLoss", "CosineEmbeddingLoss", "MarginRankingLoss",
    "HingeEmbeddingLoss", "SoftMarginLoss", "MultiLabelSoftMarginLoss", "MultiMarginLoss", "MultiLabelMarginLoss",
    "TripletMarginLoss", "PoissonNLLLoss", "GaussianNLLLoss",
]  # fmt: skip

# activations and normalization (issue #17)
from .activation import GELU  # noqa: E402
from .normalization import LayerNorm  # noqa: E402

__all__ += ["GELU", "LayerNorm"]
from .activation import (  # noqa: E402
    CELU,
    ELU,
    GLU,
    SELU,
    Hardshrink,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LogSigmoid,
    Mish,
    PReLU,
    ReLU6,
    RReLU,
    SiLU,
    Softmax2d,
    Softmin,
    Softplus,
    Softshrink,
    Softsign,
    Tanhshrink,
    Threshold,
)

__all__ += [
    "ELU", "CELU", "SELU", "SiLU", "Mish", "Softplus", "Hardtanh", "ReLU6", "PReLU", "LogSigmoid", "Hardsigmoid",
    "Hardswish", "Softsign", "Softmin", "Tanhshrink", "Softshrink", "Hardshrink", "Threshold", "GLU", "RReLU",
    "Softmax2d",
]  # fmt: skip

# normalization breadth (issue #17)
from .normalization import (  # noqa: E402
    CosineSimilarity,
    GroupNorm,
    InstanceNorm1d,
    InstanceNorm2d,
    InstanceNorm3d,
    LocalResponseNorm,
    PairwiseDistance,
)

__all__ += [
    "GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "CosineSimilarity", "PairwiseDistance",
    "LocalResponseNorm",
]  # fmt: skip

# data parallelism over MPI (issue #20); importing it imports no MPI
from . import parallel  # noqa: E402,F401  (minigrad.nn.parallel.DistributedDataParallel, as torch.nn.parallel)

# isort: split
# the #17 sweep: RMSNorm, ChannelShuffle
from .ctc import CTCLoss  # noqa: E402
from .lazy import (  # noqa: E402
    LazyBatchNorm1d,
    LazyBatchNorm2d,
    LazyConv1d,
    LazyConv2d,
    LazyConvTranspose1d,
    LazyConvTranspose2d,
    LazyLinear,
    UninitializedBuffer,
    UninitializedParameter,
)
from .misc import ChannelShuffle, FeatureAlphaDropout, MaxUnpool1d, TripletMarginWithDistanceLoss  # noqa: E402
from .module import Buffer  # noqa: E402
from .rmsnorm import RMSNorm  # noqa: E402

__all__ += ["RMSNorm", "ChannelShuffle", "Buffer", "FeatureAlphaDropout", "TripletMarginWithDistanceLoss",
            "MaxUnpool1d", "CTCLoss", "LazyLinear", "LazyConv1d", "LazyConv2d", "LazyConvTranspose1d",
            "LazyConvTranspose2d", "LazyBatchNorm1d", "LazyBatchNorm2d", "UninitializedParameter",
            "UninitializedBuffer"]  # fmt: skip

# 3-D convolution, normalization, channel dropout and padding layers (#17)
from .conv import Conv3d, ConvTranspose3d  # noqa: E402
from .layers import BatchNorm3d  # noqa: E402
from .lazy import (  # noqa: E402
    LazyBatchNorm3d,
    LazyConv3d,
    LazyConvTranspose3d,
    LazyInstanceNorm1d,
    LazyInstanceNorm2d,
    LazyInstanceNorm3d,
)
from .pooling import CircularPad3d, Dropout3d, ReflectionPad3d, ReplicationPad3d, ZeroPad3d  # noqa: E402

__all__ += ["Conv3d", "ConvTranspose3d", "LazyConv3d", "LazyConvTranspose3d", "BatchNorm3d", "LazyBatchNorm3d",
            "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d", "CircularPad3d", "Dropout3d",
            "ReflectionPad3d", "ReplicationPad3d", "ZeroPad3d"]  # fmt: skip
