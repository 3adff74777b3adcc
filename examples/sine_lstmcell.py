"""Predicting sine waves with two stacked nn.LSTMCell, trained with LBFGS, then run on into the future.

In the spirit of pytorch/examples' time_sequence_prediction (written anew here): each training
sequence is sin((t + phase) / period) for t = 0 .. L-1 with its own random phase; the model reads the
wave one value at a time (an LSTMCell, a second LSTMCell on top of it, a Linear layer reading the top
hidden state) and predicts the next value, trained on the mean squared error of every step. The model
is small and the whole data set is one batch, so a quasi-Newton method fits it well: optim.LBFGS with
a strong-Wolfe line search, whose ``step(closure)`` re-evaluates loss and gradient as often as the
search asks. After training the
model reads held-out waves and then continues them alone, feeding each prediction back as the next
input (``future`` steps): the continuation stays a sine only if the model learnt the dynamics, not the
training points. Computed in float64 (``model.double()``), as LBFGS's curvature pairs like.
Only PyTorch spellings: with ``import torch`` instead of ``import minigrad as torch`` it runs under
PyTorch unchanged.
    python examples/sine_lstmcell.py   (10 LBFGS steps on 32 waves of 200 points, about 3 minutes on
                                        2 cores: the training MSE falls from ~0.5 to about 2e-5, and
                                        the 200-step continuation keeps to the true sine, MSE ~0.04)
"""

from _common import arguments, pyplot, save

import minigrad as torch
import minigrad.nn as nn


class Sequence(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.cell1 = nn.LSTMCell(1, hidden)
        self.cell2 = nn.LSTMCell(hidden, hidden)
        self.linear = nn.Linear(hidden, 1)

    def forward(self, waves, future=0):
        """waves: (batch, time); returns (batch, time + future), the prediction of each next value."""
        state1 = state2 = None  # zeros, as LSTMCell makes them when given none
        outputs = []
        value = None
        for t in range(waves.size(1) + future):
            x = waves[:, t : t + 1] if t < waves.size(1) else value  # past the data: the model's own output
            state1 = self.cell1(x, state1)
            state2 = self.cell2(state1[0], state2)
            value = self.linear(state2[0])
            outputs.append(value)
        return torch.cat(outputs, dim=1)


def make_waves(n, length, period, generator):
    """n sine waves sin((t + s) / period), t = 0 .. length-1, each with its own whole shift s."""
    shift = torch.randint(-4 * period, 4 * period, (n, 1), generator=generator)
    t = torch.arange(length).view(1, length) + shift
    return torch.sin(t.double() / period)


def main(argv=None):
    args = arguments(__doc__.splitlines()[0], argv)
    n_train, length, hidden, steps, future = (8, 40, 16, 3, 20) if args.quick else (32, 200, 32, 10, 200)
    period = 8 if args.quick else 20
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(1)
    train = make_waves(n_train, length, period, generator)
    held_out = make_waves(4, length + future, period, generator)
    test, truth = held_out[:, :length], held_out[:, length:]  # what the model reads, how the wave goes on
    inputs, targets = train[:, :-1], train[:, 1:]  # predict x[t + 1] from x[.. t]

    model = Sequence(hidden).double()
    criterion = nn.MSELoss()
    # a line search: pytorch/examples' fixed step (lr=0.8, none) diverges from some initialisations
    max_iter = 10 if args.quick else 20
    optimizer = torch.optim.LBFGS(model.parameters(), lr=1, max_iter=max_iter, line_search_fn="strong_wolfe")
    losses = []  # every evaluation the line search asked for

    def closure():
        optimizer.zero_grad()
        loss = criterion(model(inputs), targets)
        loss.backward()
        losses.append(loss.item())
        return loss

    for step in range(steps):
        optimizer.step(closure)
        print(f"step {step + 1:2d}  train MSE {losses[-1]:.3e}  ({len(losses)} evaluations so far)")

    with torch.no_grad():  # read the held-out waves, then continue them alone
        prediction = model(test[:, :-1], future=future + 1)  # (4, length - 1 + future + 1)
        test_mse = criterion(prediction[:, : length - 1], test[:, 1:]).item()
        future_mse = criterion(prediction[:, length - 1 : -1], truth).item()
    print(f"test MSE (one step ahead) {test_mse:.3e}; MSE of the {future}-step continuation {future_mse:.3e}")

    plt = pyplot()
    if plt is not None:
        fig, ax = plt.subplots(figsize=(8, 3))
        for i in range(test.size(0)):
            line = ax.plot(range(length + future), held_out[i].numpy(), lw=3, alpha=0.25)[0]
            ax.plot(range(1, length + future + 1), prediction[i].numpy(), ":", color=line.get_color())
        ax.axvline(length - 0.5, color="gray", lw=0.5)
        ax.set_title("sine prediction (dotted): reading the wave (left), continuing it alone (right)")
        save(fig, args.out, "sine_lstmcell.png")
    return {"losses": losses, "test_mse": test_mse, "future_mse": future_mse, "prediction": prediction.numpy()}


if __name__ == "__main__":
    main()
