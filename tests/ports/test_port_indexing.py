"""A PyTorch program, unchanged but for its import: three places where training code indexes along a dim.

- a REINFORCE step: the log-probability of each taken action picked with ``log_probs.gather(1, a[:, None])``;
- a masked-language-model loss: tokens hidden with ``masked_fill_``, the logits and targets of the hidden
  positions taken with ``masked_select``, an embedding looked up with ``index_select``;
- segment statistics: per-segment sums and counts with ``scatter_add_`` / ``index_add_``, means brought
  back to the elements with ``gather``, a per-segment max with ``scatter_reduce(..., "amax")`` and a
  ``repeat_interleave`` of one value per segment, as graph-network and ragged-batch code does.

The numbers and the gradients are checked against NumPy.
"""

import numpy as np

import minigrad as torch
import minigrad.nn.functional as F

# --- the PyTorch program ----------------------------------------------------------------------------


def reinforce_loss(logits, actions, returns):
    log_probs = F.log_softmax(logits, dim=1)
    taken = log_probs.gather(1, actions.unsqueeze(1)).squeeze(1)
    return -(taken * returns).mean()


MASK_ID = 0


def masked_lm_loss(embedding, head, tokens, hide):
    inputs = tokens.clone()
    inputs.masked_fill_(hide, MASK_ID)
    hidden = embedding.index_select(0, inputs.view(-1)).view(*tokens.shape, -1)
    logits = hidden @ head  # (batch, seq, vocab)
    vocab = logits.shape[-1]
    picked = logits.masked_select(hide.unsqueeze(-1)).view(-1, vocab)
    targets = tokens.masked_select(hide)
    return F.cross_entropy(picked, targets), inputs


def segment_stats(values, segment, n_segments):
    sums = torch.zeros(n_segments, dtype=values.dtype).scatter_add_(0, segment, values)
    counts = torch.zeros(n_segments, dtype=values.dtype).index_add_(0, segment, torch.ones_like(values))
    means = sums / counts.clamp_(min=1)
    centered = values - means.gather(0, segment)
    peaks = torch.full((n_segments,), -1e9, dtype=values.dtype).scatter_reduce(0, segment, values, "amax")
    return sums, counts, means, centered, peaks


# --- the check ---------------------------------------------------------------------------------------


def _log_softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def test_reinforce_picks_the_log_probability_of_each_action():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((5, 4))
    a = np.array([3, 0, 0, 2, 1])
    r = rng.standard_normal(5)
    logits = torch.tensor(z, requires_grad=True)
    loss = reinforce_loss(logits, torch.tensor(a), torch.tensor(r))
    loss.backward()
    lp = _log_softmax(z)
    np.testing.assert_allclose(loss.item(), -(lp[np.arange(5), a] * r).mean(), rtol=1e-12)
    p = np.exp(lp)
    onehot = np.eye(4)[a]
    np.testing.assert_allclose(logits.grad.numpy(), -(r[:, None] * (onehot - p)) / 5, rtol=1e-10, atol=1e-12)


def test_masked_lm_loss_scores_only_the_hidden_tokens():
    rng = np.random.default_rng(1)
    vocab, dim = 7, 3
    tok = rng.integers(1, vocab, size=(2, 5))
    hide = np.array([[True, False, False, True, False], [False, True, False, False, False]])
    emb = rng.standard_normal((vocab, dim))
    head_w = rng.standard_normal((dim, vocab))
    embedding = torch.tensor(emb, requires_grad=True)
    head = torch.tensor(head_w, requires_grad=True)
    tokens = torch.tensor(tok)
    loss, inputs = masked_lm_loss(embedding, head, tokens, torch.tensor(hide))
    loss.backward()
    np.testing.assert_array_equal(inputs.numpy(), np.where(hide, MASK_ID, tok))
    np.testing.assert_array_equal(tokens.numpy(), tok)  # the clone was filled, not the tokens
    logits = emb[np.where(hide, MASK_ID, tok)] @ head_w
    lp = _log_softmax(logits[hide])
    want = -lp[np.arange(hide.sum()), tok[hide]].mean()
    np.testing.assert_allclose(loss.item(), want, rtol=1e-12)
    # only the mask token's embedding row is read at the hidden positions: the others get no gradient from them
    d_logits = (np.exp(lp) - np.eye(vocab)[tok[hide]]) / hide.sum()
    d_hidden = d_logits @ head_w.T
    want_emb = np.zeros_like(emb)
    np.add.at(want_emb, np.full(hide.sum(), MASK_ID), d_hidden)
    np.testing.assert_allclose(embedding.grad.numpy(), want_emb, rtol=1e-10, atol=1e-12)


def test_segment_sums_counts_means_and_peaks():
    rng = np.random.default_rng(2)
    seg = np.array([0, 2, 2, 0, 3, 2])  # segment 1 is empty
    x = rng.standard_normal(6)
    values = torch.tensor(x, requires_grad=True)
    sums, counts, means, centered, peaks = segment_stats(values, torch.tensor(seg), 4)
    want_sums = np.bincount(seg, weights=x, minlength=4)
    want_counts = np.bincount(seg, minlength=4).astype(float)
    want_means = want_sums / np.maximum(want_counts, 1)
    np.testing.assert_allclose(sums.detach().numpy(), want_sums, rtol=1e-12)
    np.testing.assert_array_equal(counts.numpy(), np.maximum(want_counts, 1))
    np.testing.assert_allclose(means.detach().numpy(), want_means, rtol=1e-12)
    np.testing.assert_allclose(centered.detach().numpy(), x - want_means[seg], rtol=1e-12, atol=1e-12)
    want_peaks = np.full(4, -1e9)
    np.maximum.at(want_peaks, seg, x)
    np.testing.assert_array_equal(peaks.detach().numpy(), want_peaks)
    # the loss of a centring layer: the gradient of sum(centered^2) is 2 * centered (the means' part cancels)
    (centered**2).sum().backward()
    np.testing.assert_allclose(values.grad.numpy(), 2 * (x - want_means[seg]), rtol=1e-10, atol=1e-12)
    # one value per segment, repeated for each element of a sorted ragged batch
    lengths = torch.tensor([2, 0, 3, 1])
    per_element = torch.tensor(want_means).repeat_interleave(lengths)
    np.testing.assert_array_equal(per_element.numpy(), np.repeat(want_means, [2, 0, 3, 1]))
    assert torch.repeat_interleave(lengths).tolist() == [0, 0, 2, 2, 2, 3]
