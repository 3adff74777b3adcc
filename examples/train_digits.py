"""The training loop written out in full: a small CNN on the bundled digits.

Everything `minigrad train` does, line by line: data, model, optimizer,
learning-rate schedule, the loop, evaluation.
    python examples/train_digits.py          (40 epochs, >= 99% test accuracy)
"""

import numpy as np
from _common import arguments

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn, optim
from minigrad.data import DataLoader, TensorDataset, load_digits
from minigrad.optim import lr_scheduler, schedules


def main(argv=None):
    args = arguments(__doc__.splitlines()[0], argv)
    epochs, limit = (2, 256) if args.quick else (40, None)
    mg.manual_seed(0)

    # data: 8x8 images scaled to [0, 1], a fixed 80/20 split
    x_train, y_train = load_digits("train")
    x_test, y_test = load_digits("test")
    if limit:
        x_train, y_train = x_train[:limit], y_train[:limit]
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=64, shuffle=True, seed=0)

    # model: two 3x3 convolutions, max-pool, dropout, one hidden layer
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(),
        nn.Linear(64 * 4 * 4, 128), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(128, 10),
    )  # fmt: skip

    # AdamW with a linear warmup into a cosine decay, stepped every batch
    optimizer = optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-2)
    total = epochs * len(loader)
    warmup = min(50, total // 5)
    schedule = schedules.warmup(schedules.cosine(1.0, 0.0, total - warmup), warmup_steps=warmup)
    scheduler = lr_scheduler.LambdaLR(optimizer, schedule)
    rng = np.random.default_rng(0)

    for epoch in range(epochs):
        model.train()
        for images, labels in loader:
            # augmentation: shift every image by up to one pixel
            padded = np.pad(images.numpy(), ((0, 0), (0, 0), (1, 1), (1, 1)))
            dy, dx = rng.integers(0, 3, 2)
            images = mg.tensor(padded[:, :, dy : dy + 8, dx : dx + 8])

            loss = F.cross_entropy(model(images), labels, label_smoothing=0.1)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()

        model.eval()
        with mg.no_grad():
            accuracy = (model(x_test).argmax(dim=1) == y_test).numpy().mean()
        print(f"epoch {epoch + 1:2d}  loss {loss.item():.4f}  test accuracy {100 * accuracy:.2f}%")
    return accuracy


if __name__ == "__main__":
    main()
