"""``minigrad.Generator``: a random stream of its own, as ``torch.Generator``, for the ``generator=`` arguments.

Every sampler (``rand``, ``randn``, ``randint``, ``randperm``, ``normal``, ``bernoulli``, ``multinomial``,
``poisson``, ``randint_like`` and the in-place ``Tensor.normal_``, ``uniform_``, ...) draws from the
device's default generator (:func:`minigrad.backend.generator`, seeded by :func:`minigrad.manual_seed`)
unless it is handed a ``Generator``; then from that one alone, so a seeded ``Generator`` repeats its
draws whatever else the program samples. Like the default generators it holds the backend's own
generator (``numpy.random.Generator`` on the CPU, CuPy's on the GPU), so the numbers are NumPy's
(CuPy's), not PyTorch's.
"""

from __future__ import annotations

import secrets

from . import backend
from .errors import ArgumentError, DeviceError

_DEFAULT_SEED = 67280421310721  # a fresh torch.Generator's initial_seed(): a new Generator is not random


class Generator:
    """A random number generator for one device, ``torch.Generator(device="cpu")``.

    ``manual_seed(seed)`` restarts it at ``seed`` (and returns it, so ``Generator().manual_seed(0)``
    is one expression, as in PyTorch); ``seed()`` restarts it at a fresh nondeterministic seed and
    returns that seed; ``initial_seed()`` is the last seed; ``get_state()`` / ``set_state(state)``
    save and restore where the stream stands (CPU only: CuPy's generators cannot be serialized, so
    on CUDA they raise DeviceError). A new Generator starts at PyTorch's default seed, so it is the
    same stream in every run until seeded otherwise. Seeds are integers in [-2**63, 2**64); a
    negative seed is taken modulo 2**64, as PyTorch.
    """

    def __init__(self, device="cpu") -> None:
        self._device = backend.normalize_device(device)
        self._rng = None
        self.manual_seed(_DEFAULT_SEED)

    @property
    def device(self) -> str:
        """The device whose arrays this generator draws."""
        return self._device

    def manual_seed(self, seed: int) -> Generator:
        """Restart the stream at ``seed``; returns the generator itself."""
        if isinstance(seed, bool) or not isinstance(seed, int):
            try:
                seed = int(seed)
            except (TypeError, ValueError):
                raise ArgumentError(f"Generator.manual_seed: the seed must be an int, got {seed!r}") from None
        if not -(2**63) <= seed < 2**64:
            raise ArgumentError(f"Generator.manual_seed: seed {seed} is outside [-2**63, 2**64)")
        self._seed = seed % 2**64
        self._rng = backend.xp_for(self._device).random.default_rng(self._seed)
        return self

    def seed(self) -> int:
        """Restart the stream at a fresh nondeterministic seed, and return that seed."""
        seed = secrets.randbits(64)
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        """The seed the stream was last started at."""
        return self._seed

    def get_state(self) -> dict:
        """Where the stream stands, a dict of ints (storable with ``minigrad.save``); CPU only."""
        self._cpu_only("get_state")
        return {"seed": self._seed, "cpu": self._rng.bit_generator.state}

    def set_state(self, new_state: dict) -> Generator:
        """Put the stream back where :meth:`get_state` found it; returns the generator itself."""
        self._cpu_only("set_state")
        try:
            rng = backend.xp_for("cpu").random.default_rng()
            rng.bit_generator.state = new_state["cpu"]
        except (KeyError, TypeError, ValueError) as exc:
            raise ArgumentError(f"Generator.set_state: not a state from get_state ({exc})") from exc
        self._rng = rng
        self._seed = new_state.get("seed", self._seed)
        return self

    def _cpu_only(self, what: str) -> None:
        if self._device != "cpu":
            raise DeviceError(
                f"Generator.{what}: CuPy's generators cannot be saved or restored; "
                "re-seed with manual_seed to repeat a CUDA stream"
            )

    def __repr__(self) -> str:
        return f"<minigrad.Generator device={self._device!r} initial_seed={self._seed}>"


def rng_for(op: str, generator: Generator | None, device: str):
    """The backend generator ``op`` draws from on ``device``: ``generator``'s, or the device's default."""
    if generator is None:
        return backend.generator(device)
    if not isinstance(generator, Generator):
        raise TypeError(f"{op}: generator must be a minigrad.Generator, got {type(generator).__name__}")
    if generator.device != device:
        raise DeviceError(f"{op}: a generator on {generator.device} cannot draw a tensor on {device}")
    return generator._rng
