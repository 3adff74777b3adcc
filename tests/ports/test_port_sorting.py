"""A PyTorch program, unchanged but for its import: top-k accuracy, a beam-search step, a median filter,
sorting a batch by length and back, and a vocabulary count.

``output.topk(maxk, 1, True, True)`` and the transposed ``pred.eq(target.view(1, -1).expand_as(pred))``
are the ImageNet example's accuracy; a beam step ranks ``beam_scores[:, None] + log_probs`` flattened with
``topk`` and splits the winners into beam and token with ``//`` and ``%``; a median filter takes
``median(dim=...)`` over stacked shifted windows; RNN code sorts sequences by length with
``sort(descending=True)`` and undoes it with ``argsort``; ``unique(return_counts=True)`` counts tokens.
The numbers are checked against NumPy, the gradients too.
"""

import numpy as np

import minigrad as torch

# --- the PyTorch program ----------------------------------------------------------------------------


def accuracy(output, target, topk=(1,)):
    """Computes the accuracy over the k top predictions for the specified values of k (the ImageNet example)."""
    with torch.no_grad():
        maxk = max(topk)
        batch_size = target.size(0)
        _, pred = output.topk(maxk, 1, True, True)
        pred = pred.t()
        correct = pred.eq(target.view(1, -1).expand_as(pred))
        res = []
        for k in topk:
            correct_k = correct[:k].reshape(-1).float().sum(0, keepdim=True)
            res.append(correct_k.mul_(100.0 / batch_size))
        return res


def beam_step(beam_scores, log_probs, beam_size):
    """One step of beam search: the best ``beam_size`` (beam, token) continuations of all beams."""
    vocab = log_probs.size(1)
    scores = (beam_scores.unsqueeze(1) + log_probs).view(-1)
    top_scores, flat = scores.topk(beam_size)
    return top_scores, flat // vocab, flat % vocab


def median_filter(signal, k=3):
    """The running median of a 1-d signal over windows of ``k``, the ends padded by repetition."""
    pad = k // 2
    padded = torch.cat([signal[:1].expand(pad), signal, signal[-1:].expand(pad)])
    windows = torch.stack([padded[i : i + signal.size(0)] for i in range(k)], dim=1)
    return windows.median(dim=1).values


def sort_by_length(batch, lengths):
    """Sort a padded batch by decreasing length (as pack_padded_sequence wants) and return how to undo it."""
    sorted_lengths, order = lengths.sort(descending=True)
    return batch[order], sorted_lengths, order.argsort()


def vocabulary(tokens):
    words, counts = tokens.unique(return_counts=True)
    top = counts.argsort(descending=True)
    return words[top], counts[top], torch.median(counts.float())


# --- the check ---------------------------------------------------------------------------------------


def test_topk_accuracy(device):
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((16, 10))
    labels = rng.integers(0, 10, size=16)
    top1, top5 = accuracy(torch.tensor(logits, device=device), torch.tensor(labels, device=device), topk=(1, 5))
    ranks = (logits > logits[np.arange(16), labels][:, None]).sum(1)  # how many logits beat the label's
    assert top1.shape == (1,) and top1.item() == np.float32(100.0 * (ranks < 1).mean())
    assert top5.item() == np.float32(100.0 * (ranks < 5).mean())


def test_beam_search_step_and_its_gradient(device):
    rng = np.random.default_rng(1)
    beams, vocab, size = 3, 7, 4
    scores = rng.standard_normal(beams)
    log_probs = np.log(rng.dirichlet(np.ones(vocab), size=beams))
    s = torch.tensor(scores, device=device, requires_grad=True)
    lp = torch.tensor(log_probs, device=device, requires_grad=True)
    top, beam, token = beam_step(s, lp, size)
    total = (scores[:, None] + log_probs).ravel()
    want = np.argsort(-total, kind="stable")[:size]
    np.testing.assert_allclose(top.numpy(), total[want], rtol=1e-12)
    np.testing.assert_array_equal(beam.numpy(), want // vocab)
    np.testing.assert_array_equal(token.numpy(), want % vocab)
    assert beam.dtype == token.dtype == np.int64
    top.sum().backward()  # each kept continuation adds 1 to its beam's score and to its token's log-prob
    np.testing.assert_array_equal(s.grad.numpy(), np.bincount(want // vocab, minlength=beams))
    hit = np.zeros((beams, vocab))
    hit[want // vocab, want % vocab] = 1
    np.testing.assert_array_equal(lp.grad.numpy(), hit)


def test_median_filter_removes_spikes_and_routes_the_gradient(device):
    clean = np.array([1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7])
    noisy = clean.copy()
    noisy[[2, 5]] = [9.0, -9.0]  # two spikes
    x = torch.tensor(noisy, device=device, requires_grad=True)
    out = median_filter(x, 3)
    padded = np.concatenate([noisy[:1], noisy, noisy[-1:]])
    want = np.median(np.stack([padded[i : i + 8] for i in range(3)], axis=1), axis=1)
    np.testing.assert_array_equal(out.numpy(), want)
    assert np.abs(out.numpy() - clean).max() <= 0.1 + 1e-12  # the spikes are gone
    out.sum().backward()  # each output's gradient goes to the input element that is its window's median
    counts = np.zeros(8)
    for i in range(8):
        window = padded[i : i + 3]
        j = i + int(np.argsort(window, kind="stable")[1]) - 1  # position in the padded signal, less the pad
        counts[min(max(j, 0), 7)] += 1
    np.testing.assert_array_equal(x.grad.numpy(), counts)
    assert x.grad.numpy()[[2, 5]].tolist() == [0.0, 0.0]  # the spikes never pass


def test_sort_a_batch_by_length_and_undo_it(device):
    lengths = torch.tensor([3, 5, 1, 4], device=device)
    batch = torch.arange(4 * 5, device=device).view(4, 5)
    sorted_batch, sorted_lengths, undo = sort_by_length(batch, lengths)
    assert sorted_lengths.tolist() == [5, 4, 3, 1]
    assert sorted_batch[:, 0].tolist() == [5, 15, 0, 10]
    assert sorted_batch[undo].tolist() == batch.tolist()


def test_vocabulary_counts(device):
    tokens = torch.tensor([4, 1, 4, 2, 4, 1, 7, 2, 4], device=device)
    words, counts, median = vocabulary(tokens)
    assert words.tolist()[0] == 4 and counts.tolist() == [4, 2, 2, 1]
    assert sorted(words.tolist()[1:3]) == [1, 2] and words.tolist()[3] == 7
    assert median.item() == 2.0  # the lower median of 1, 2, 2, 4
    values, counts_np = np.unique(tokens.numpy(), return_counts=True)
    assert dict(zip(words.tolist(), counts.tolist())) == dict(zip(values.tolist(), counts_np.tolist()))
