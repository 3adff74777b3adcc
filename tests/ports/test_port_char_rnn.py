"""Port test: a character-level LSTM language model in the style of pytorch/examples'
word_language_model (Embedding -> LSTM -> Linear, CrossEntropyLoss, clip_grad_norm_, truncated
backpropagation through time with the hidden state detached between batches), run with
``import minigrad as torch``. Written for minigrad (no copied code); only the import differs."""

import math

import minigrad as torch
import minigrad.nn as nn


class CharModel(nn.Module):
    def __init__(self, ntoken, ninp, nhid, nlayers, dropout=0.2):
        super().__init__()
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = nn.LSTM(ninp, nhid, nlayers, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        self.nhid, self.nlayers = nhid, nlayers
        initrange = 0.1
        nn.init.uniform_(self.encoder.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -initrange, initrange)

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output).view(-1, self.decoder.out_features)
        return torch.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        return (weight.new_zeros(self.nlayers, bsz, self.nhid), weight.new_zeros(self.nlayers, bsz, self.nhid))


def batchify(data, bsz):
    nbatch = data.size(0) // bsz
    data = data[: nbatch * bsz]
    return data.view(bsz, -1).t().contiguous()


def get_batch(source, i, bptt):
    seq_len = min(bptt, len(source) - 1 - i)
    return source[i : i + seq_len], source[i + 1 : i + 1 + seq_len].reshape(-1)


def repackage_hidden(h):
    return tuple(v.detach() for v in h)


def test_char_lstm_language_model_loss_falls():
    torch.manual_seed(0)
    text = "hello minigrad " * 32
    chars = sorted(set(text))
    ids = torch.tensor([chars.index(c) for c in text], dtype=torch.int64)
    train_data = batchify(ids, 4)
    model = CharModel(len(chars), 16, 32, 2, dropout=0.1)
    criterion = nn.NLLLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.03)
    bptt, losses, step = 12, [], 0
    model.train()
    hidden = model.init_hidden(4)
    while step < 30:
        for i in range(0, train_data.size(0) - 1, bptt):
            data, targets = get_batch(train_data, i, bptt)
            hidden = repackage_hidden(hidden)
            model.zero_grad()
            output, hidden = model(data, hidden)
            loss = criterion(output, targets)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
            optimizer.step()
            losses.append(loss.item())
            assert hidden[0].grad_fn is not None and hidden[0].shape == (2, 4, 32)
            step += 1
            if step == 30:
                break
    assert math.isfinite(losses[-1])
    first, last = sum(losses[:3]) / 3, sum(losses[-3:]) / 3
    assert first > math.log(len(chars)) - 0.3  # starts near uniform
    assert last < 0.7 * first, (first, last)
    model.eval()
    with torch.no_grad():
        output, _ = model(train_data[:5], model.init_hidden(4))
    assert output.shape == (20, len(chars))
