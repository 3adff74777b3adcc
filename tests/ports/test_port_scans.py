"""A PyTorch program, unchanged but for its import: the evaluation loop of a classifier
and a smoothed loss curve.

``pred = output.max(1)[1]``, ``output.max(1, keepdim=True)``, ``correct += pred.eq(target).sum().item()``,
a margin loss through ``torch.max(output, 1).values`` and a running mean by ``cumsum`` are how PyTorch
examples score and log; they rely on ``max`` with a positional dim returning ``(values, indices)``.
The numbers are checked against NumPy, the gradients too.
"""

import numpy as np

import minigrad as torch

# --- the PyTorch program ----------------------------------------------------------------------------


def evaluate(output, target):
    pred = output.max(1)[1]  # the index of the largest logit
    correct = pred.eq(target).sum().item()
    _, pred_kept = output.max(1, keepdim=True)
    correct_kept = pred_kept.eq(target.view_as(pred_kept)).sum().item()
    return pred, correct, correct_kept


def margin_loss(output, target):
    """The largest logit minus the true one: zero when the prediction is right."""
    best = torch.max(output, 1).values
    hit = torch.arange(output.shape[1], device=output.device) == target.view(-1, 1)  # one-hot mask
    true = (output * hit.float()).sum(1)
    return (best - true).mean()


def running_mean(losses):
    """The running average of a loss curve, as logged by training loops: cumsum / count."""
    return losses.cumsum(0) / torch.arange(1, losses.shape[0] + 1, device=losses.device)


# --- the check ---------------------------------------------------------------------------------------


def test_classifier_evaluation_runs_unchanged(device):
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((8, 5))
    labels = rng.integers(0, 5, size=8)
    output = torch.tensor(logits, device=device, requires_grad=True)
    target = torch.tensor(labels, device=device)

    pred, correct, correct_kept = evaluate(output, target)
    np.testing.assert_array_equal(pred.numpy(), logits.argmax(1))
    assert pred.dtype == np.int64
    assert correct == correct_kept == int((logits.argmax(1) == labels).sum())

    loss = margin_loss(output, target)
    rows = np.arange(8)
    np.testing.assert_allclose(loss.item(), (logits.max(1) - logits[rows, labels]).mean())
    loss.backward()
    want = np.zeros_like(logits)  # d/dlogits: +1/N at the argmax, -1/N at the label
    want[rows, logits.argmax(1)] += 1 / 8
    want[rows, labels] -= 1 / 8
    np.testing.assert_allclose(output.grad.numpy(), want, atol=1e-15)


def test_running_mean_by_cumsum(device):
    curve = np.array([4.0, 2.0, 3.0, 1.0, 0.5])
    losses = torch.tensor(curve, device=device, requires_grad=True)
    smoothed = running_mean(losses)
    np.testing.assert_allclose(smoothed.numpy(), np.cumsum(curve) / np.arange(1, 6))
    smoothed[-1].backward()  # the last running mean is the plain mean: gradient 1/n everywhere
    np.testing.assert_allclose(losses.grad.numpy(), np.full(5, 1 / 5))
