"""The ``minigrad`` command: ``minigrad train`` and ``minigrad check``.

``minigrad train`` with no arguments trains the small CNN on the bundled
digits and prints ``test accuracy: NN.NN%``; ``minigrad check`` runs the
sanity checks and gradcheck on a model. Bad arguments print a usage message;
errors print one line, never a traceback. The command owns its process, so it
tunes glibc's malloc for training steps (:func:`minigrad.tune_malloc`;
``MINIGRAD_TUNE_MALLOC=0`` turns that off).
"""

from __future__ import annotations

import argparse
import sys

from .errors import MinigradError


def _parser() -> argparse.ArgumentParser:
    from .train import MODELS, OPTIMIZERS, SCHEDULES, TrainConfig

    defaults = TrainConfig()
    parser = argparse.ArgumentParser(prog="minigrad", description="minigrad: train and check small nets.")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a model on the bundled digits")
    train.add_argument("--model", choices=MODELS, default=defaults.model)
    train.add_argument("--optimizer", choices=OPTIMIZERS, default=defaults.optimizer)
    train.add_argument("--lr", type=float, default=defaults.lr, help="peak learning rate")
    train.add_argument("--weight-decay", type=float, default=defaults.weight_decay)
    train.add_argument("--momentum", type=float, default=defaults.momentum, help="for sgd")
    train.add_argument("--schedule", choices=SCHEDULES, default=defaults.schedule)
    train.add_argument("--warmup", type=_non_negative, default=defaults.warmup, help="warmup steps")
    train.add_argument("--epochs", type=_positive, default=defaults.epochs)
    train.add_argument("--batch-size", type=_positive, default=defaults.batch_size)
    train.add_argument("--seed", type=int, default=defaults.seed)
    train.add_argument("--label-smoothing", type=float, default=defaults.label_smoothing)
    train.add_argument("--no-augment", action="store_true", help="turn off the 1-pixel shift augmentation")
    train.add_argument("--limit", type=_positive, default=None, help="train on the first N samples only")
    train.add_argument("--out", default=defaults.out, help="folder for metrics, curves and the checkpoint")
    train.add_argument("--resume", metavar="CHECKPOINT", help="continue a run from its checkpoint.npz")
    train.add_argument("--stop-after", type=_positive, default=None, metavar="EPOCHS",
                       help="stop after this many epochs (continue later with --resume)")  # fmt: skip
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.add_argument("--device", default=defaults.device, help="cpu, or cuda to train on a GPU (needs minigrad[gpu])")

    check = commands.add_parser("check", help="run the sanity checks and gradcheck on a model")
    check.add_argument("--model", choices=MODELS, default="mlp")
    check.add_argument("--seed", type=int, default=0)
    check.add_argument("--samples", type=_positive, default=4, help="data points for the gradient check")
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text}")
    return value


def _train(args) -> int:
    from .train import TrainConfig, train

    config = TrainConfig(
        model=args.model,
        optimizer=args.optimizer,
        lr=args.lr,
        weight_decay=args.weight_decay,
        momentum=args.momentum,
        schedule=args.schedule,
        warmup=args.warmup,
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=args.seed,
        label_smoothing=args.label_smoothing,
        augment=not args.no_augment,
        limit=args.limit,
        out=args.out,
        progress=not args.no_progress,
        stop_after=args.stop_after,
        device=args.device,
    )
    last = train(config, resume=args.resume)
    from . import distributed

    if not distributed.is_initialized() or distributed.get_rank() == 0:  # under mpiexec, rank 0 reports
        print(f"results in {config.out}/ (metrics.json, metrics.csv, checkpoint.npz)")
        print(f"test accuracy: {100 * last['test_accuracy']:.2f}%")
    return 0


def _check(args) -> int:
    from . import checks, creation, optim
    from .data import load_digits
    from .nn import functional as F
    from .train import build_model

    creation.manual_seed(args.seed)
    model = build_model(args.model)
    x, y = load_digits("train")
    x, y = x[:64], y[:64]

    def regularization(m):
        return 1e-4 * sum((p * p).sum() for p in m.parameters())

    report = checks.run_all(
        model.eval(),
        F.cross_entropy,
        x,
        y,
        num_classes=10,
        make_optimizer=lambda params: optim.Adam(params, lr=1e-2),
        regularization=regularization,
        samples=args.samples,
        coordinates_per_parameter=10,
        print_report=True,
    )
    return 0 if report.passed else 1


def _abort_mpi_job() -> None:
    """Under mpiexec, one rank's error must stop the others (they would wait for it forever): MPI_Abort."""
    from .distributed import process_group

    group = process_group._GROUP
    if group is not None and group.size > 1:
        sys.stderr.flush()
        group.comm.Abort(1)


def main(argv=None) -> int:
    from ._malloc import tune_malloc

    args = _parser().parse_args(argv)
    try:
        tune_malloc()
        return _train(args) if args.command == "train" else _check(args)
    except (MinigradError, ValueError, OSError) as exc:
        print(f"minigrad {args.command}: error: {exc}", file=sys.stderr)
        _abort_mpi_job()
        return 1
    except KeyboardInterrupt:
        print(f"minigrad {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
