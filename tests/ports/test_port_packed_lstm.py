"""Port test: a variable-length sequence classifier as PyTorch programs write one (pad_sequence ->
pack_padded_sequence(enforce_sorted=False) -> bidirectional LSTM -> pad_packed_sequence, h_n into a
Linear head, CrossEntropyLoss, Adam), run with ``import minigrad as torch``. The task: does a sequence
of random tokens contain more 1s than 2s? Its label depends on the whole sequence, whatever its length,
so the loss only falls if the packed LSTM reads every step and no padding. Written for minigrad."""

import minigrad as torch
import minigrad.nn as nn
from minigrad.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence


class Classifier(nn.Module):
    def __init__(self, vocab, emb, hidden, classes):
        super().__init__()
        self.embed = nn.Embedding(vocab, emb, padding_idx=0)
        self.lstm = nn.LSTM(emb, hidden, batch_first=True, bidirectional=True)
        self.head = nn.Linear(4 * hidden, classes)

    def forward(self, tokens, lengths):
        packed = pack_padded_sequence(self.embed(tokens), lengths, batch_first=True, enforce_sorted=False)
        out, (h_n, _) = self.lstm(packed)
        padded, out_lengths = pad_packed_sequence(out, batch_first=True)
        mask = (torch.arange(padded.shape[1])[None, :] < out_lengths[:, None]).float()
        mean = (padded * mask[:, :, None]).sum(1) / out_lengths[:, None].float()
        last = torch.cat([h_n[0], h_n[1]], dim=1)
        return self.head(torch.cat([mean, last], dim=1))


def make_batch(gen, batch):
    lengths = torch.randint(2, 9, (batch,), generator=gen)
    seqs = [torch.randint(1, 4, (int(n),), generator=gen) for n in lengths.tolist()]
    labels = torch.tensor([int((s == 1).sum().item() > (s == 2).sum().item()) for s in seqs])
    return pad_sequence(seqs, batch_first=True, padding_value=0), lengths, labels


def test_packed_lstm_classifier_trains():
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    model = Classifier(vocab=4, emb=8, hidden=12, classes=2)
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    loss_fn = nn.CrossEntropyLoss()
    tokens, lengths, labels = make_batch(gen, 64)
    assert tokens.shape == (64, int(lengths.max().item()))
    losses = []
    for _ in range(40):
        opt.zero_grad()
        loss = loss_fn(model(tokens, lengths), labels)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses
    model.eval()
    test_tokens, test_lengths, test_labels = make_batch(gen, 64)
    with torch.no_grad():
        accuracy = (model(test_tokens, test_lengths).argmax(1) == test_labels).float().mean().item()
    assert accuracy > 0.7, accuracy
