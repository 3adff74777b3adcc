"""Port test: pytorch/examples' word_language_model, both of its models, run with ``import minigrad as torch``.

RNNModel (RNN_TANH, RNN_RELU, LSTM, GRU; optional weight tying) and TransformerModel (PositionalEncoding as a
registered buffer, TransformerEncoder with the square subsequent mask), trained as the example trains them:
plain SGD through ``p.data.add_(p.grad, alpha=-lr)`` after ``clip_grad_norm_``, truncated backpropagation
through time with the hidden state detached, the learning rate divided by 4 when validation does not improve,
and the best model's state dict saved and loaded back. Written for minigrad (no copied code); only the import
differs."""

import math

import pytest

import minigrad as torch
import minigrad.nn as nn
import minigrad.nn.functional as F


class RNNModel(nn.Module):
    def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.5, tie_weights=False):
        super().__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        if rnn_type in ["LSTM", "GRU"]:
            self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
        else:
            nonlinearity = {"RNN_TANH": "tanh", "RNN_RELU": "relu"}[rnn_type]
            self.rnn = nn.RNN(ninp, nhid, nlayers, nonlinearity=nonlinearity, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        if tie_weights:
            if nhid != ninp:
                raise ValueError("When using the tied flag, nhid must be equal to emsize")
            self.decoder.weight = self.encoder.weight
        self.init_weights()
        self.rnn_type, self.nhid, self.nlayers = rnn_type, nhid, nlayers

    def init_weights(self):
        initrange = 0.1
        nn.init.uniform_(self.encoder.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -initrange, initrange)

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output)
        decoded = decoded.view(-1, self.ntoken)
        return F.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        if self.rnn_type == "LSTM":
            return (weight.new_zeros(self.nlayers, bsz, self.nhid), weight.new_zeros(self.nlayers, bsz, self.nhid))
        return weight.new_zeros(self.nlayers, bsz, self.nhid)


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, dropout=0.1, max_len=5000):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        pe = torch.zeros(max_len, d_model)
        position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        pe = pe.unsqueeze(0).transpose(0, 1)
        self.register_buffer("pe", pe)

    def forward(self, x):
        x = x + self.pe[: x.size(0), :]
        return self.dropout(x)


class TransformerModel(nn.Transformer):
    def __init__(self, ntoken, ninp, nhead, nhid, nlayers, dropout=0.5):
        super().__init__(d_model=ninp, nhead=nhead, dim_feedforward=nhid, num_encoder_layers=nlayers)
        self.model_type = "Transformer"
        self.src_mask = None
        self.pos_encoder = PositionalEncoding(ninp, dropout)
        self.input_emb = nn.Embedding(ntoken, ninp)
        self.ninp = ninp
        self.decoder = nn.Linear(ninp, ntoken)
        self.init_weights()

    def init_weights(self):
        initrange = 0.1
        nn.init.uniform_(self.input_emb.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -initrange, initrange)

    def forward(self, src, has_mask=True):
        if has_mask:
            if self.src_mask is None or self.src_mask.size(0) != len(src):
                self.src_mask = nn.Transformer.generate_square_subsequent_mask(len(src))
        else:
            self.src_mask = None
        src = self.input_emb(src) * math.sqrt(self.ninp)
        src = self.pos_encoder(src)
        output = self.encoder(src, mask=self.src_mask)
        output = self.decoder(output)
        return F.log_softmax(output, dim=-1)


def batchify(data, bsz):
    nbatch = data.size(0) // bsz
    data = data.narrow(0, 0, nbatch * bsz)
    return data.view(bsz, -1).t().contiguous()


def get_batch(source, i, bptt):
    seq_len = min(bptt, len(source) - 1 - i)
    data = source[i : i + seq_len]
    target = source[i + 1 : i + 1 + seq_len].view(-1)
    return data, target


def repackage_hidden(h):
    if isinstance(h, torch.Tensor):
        return h.detach()
    return tuple(repackage_hidden(v) for v in h)


def corpus(ntokens=12, length=600):
    """A deterministic token stream with structure to learn: a repeating pattern with some noise."""
    g = torch.Generator().manual_seed(1)
    base = torch.arange(length) % ntokens
    noise = torch.randint(0, ntokens, (length,), generator=g)
    keep = torch.rand(length, generator=g) < 0.9
    return torch.where(keep, base, noise)


def evaluate(model, data_source, criterion, bptt, bsz, ntokens):
    model.eval()
    total_loss = 0.0
    if model.__class__.__name__ != "TransformerModel":
        hidden = model.init_hidden(bsz)
    with torch.no_grad():
        for i in range(0, data_source.size(0) - 1, bptt):
            data, targets = get_batch(data_source, i, bptt)
            if model.__class__.__name__ == "TransformerModel":
                output = model(data)
                output = output.view(-1, ntokens)
            else:
                output, hidden = model(data, hidden)
                hidden = repackage_hidden(hidden)
            total_loss += len(data) * criterion(output, targets).item()
    return total_loss / (len(data_source) - 1)


@pytest.mark.parametrize("model_name", ["RNN_TANH", "RNN_RELU", "LSTM", "GRU", "LSTM tied", "Transformer"])
def test_word_language_model_trains_as_the_example(model_name, tmp_path):
    torch.manual_seed(1111)
    ntokens, bsz, bptt, clip = 12, 4, 8, 0.25
    ids = corpus(ntokens)
    train_data, val_data = batchify(ids[:480], bsz), batchify(ids[480:], bsz)
    if model_name == "Transformer":
        model = TransformerModel(ntokens, 16, 2, 32, 2, dropout=0.1)
        lr = 1.0
    else:
        kind, tied = model_name.split()[0], model_name.endswith("tied")
        model = RNNModel(kind, ntokens, 16, 16, 2, dropout=0.1, tie_weights=tied)
        lr = 5.0 if kind.startswith("RNN") else 10.0
    criterion = nn.NLLLoss()
    best_val_loss = None
    first_val = evaluate(model, val_data, criterion, bptt, bsz, ntokens)
    for _ in range(4):  # epochs
        model.train()
        if model_name != "Transformer":
            hidden = model.init_hidden(bsz)
        for i in range(0, train_data.size(0) - 1, bptt):
            data, targets = get_batch(train_data, i, bptt)
            model.zero_grad()
            if model_name == "Transformer":
                output = model(data)
                output = output.view(-1, ntokens)
            else:
                hidden = repackage_hidden(hidden)
                output, hidden = model(data, hidden)
            loss = criterion(output, targets)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            for p in model.parameters():
                p.data.add_(p.grad, alpha=-lr)
        val_loss = evaluate(model, val_data, criterion, bptt, bsz, ntokens)
        if not best_val_loss or val_loss < best_val_loss:
            torch.save(model.state_dict(), tmp_path / "model.pt")
            best_val_loss = val_loss
        else:
            lr /= 4.0
    assert math.isfinite(best_val_loss)
    if model_name in ("RNN_TANH", "GRU", "Transformer"):  # the others need more than these 60 plain-SGD steps
        assert best_val_loss < 0.8 * first_val, (first_val, best_val_loss)  # (PyTorch too, with this port)
    model.load_state_dict(torch.load(tmp_path / "model.pt"))
    assert evaluate(model, val_data, criterion, bptt, bsz, ntokens) == pytest.approx(best_val_loss, rel=1e-6)
    if model_name == "LSTM tied":
        assert model.decoder.weight is model.encoder.weight
