"""A character-level LSTM language model: truncated backpropagation through time, then sampling.

An nn.Embedding feeds a two-layer nn.LSTM (batch_first) whose outputs a Linear layer turns into logits
over the next character. The text (a few paragraphs written for this example, embedded below) is cut
into batch_size parallel streams; each step trains on a window of bptt characters and carries the LSTM's
(h, c) into the next window with the graph cut (``detach``), so the gradient spans one window while the
state spans the whole stream. Gradients are clipped to norm 1 (nn.utils.clip_grad_norm_), and at the
end the model writes text by drawing each character from softmax(logits / temperature) with
torch.multinomial. Only PyTorch spellings: with ``import torch`` instead of ``import minigrad as torch``
it runs under PyTorch unchanged.
    python examples/char_lstm.py     (60 epochs, about a minute on one core: the loss falls from
                                      ln(vocab) ~ 3.5 to about 0.1 nats per character, i.e. it
                                      learns the short text almost by heart, and the sample strings
                                      its phrases together: "...the river goes on with its wouk,
                                      and small branches and the reflections of the...")
"""

import math

from _common import arguments

import minigrad as torch
import minigrad.nn as nn
import minigrad.nn.functional as F

TEXT = """\
The river starts as a thin line of water under the stones, and for a long time nobody who walks past
it would call it a river at all. It runs between the roots of the old trees, it falls over a ledge of
grey rock, and it gathers the rain that comes down from the hills in the spring. By the time it
reaches the village it is wide enough for a small boat, and the children throw bread to the ducks from
the bridge while their parents talk about the weather.

In the evening the light turns the water the colour of copper. The baker closes his shop, the last
train leaves the station, and the river goes on with its work, carrying leaves and small branches and
the reflections of the windows down towards the sea. Nobody has ever counted how many stones it has
moved, or how many times it has changed its course across the fields, but the old maps show that it
once ran on the other side of the church.

A river is a patient teacher. It does not argue with the rock; it goes around it, and after a thousand
years the rock is smaller and the river is still there. The people of the village say that if you sit
on the bank long enough, you will learn everything that the water knows, and that most of it is about
waiting, and the rest is about finding the lowest way down.
"""


class CharLSTM(nn.Module):
    def __init__(self, vocab_size, embed_size, hidden_size, num_layers=2, dropout=0.0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.lstm = nn.LSTM(embed_size, hidden_size, num_layers=num_layers, batch_first=True, dropout=dropout)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, x, state=None):
        """x: (batch, time) character ids; returns logits (batch, time, vocab) and the new (h, c)."""
        output, state = self.lstm(self.embedding(x), state)
        return self.head(output), state


def batchify(ids, batch_size):
    """Cut the id sequence into batch_size contiguous streams: (batch_size, length // batch_size)."""
    length = ids.size(0) // batch_size
    return ids[: length * batch_size].view(batch_size, length)


def detach(state):
    """Keep the values of (h, c) for the next window, drop the graph behind them (truncated BPTT)."""
    return tuple(s.detach() for s in state)


def sample(model, stoi, itos, prime, length, temperature=0.8):
    """prime, then length characters drawn one at a time from softmax(logits / temperature)."""
    model.eval()
    with torch.no_grad():
        x = torch.tensor([[stoi[c] for c in prime]])
        logits, state = model(x)
        out = list(prime)
        for _ in range(length):
            probs = torch.softmax(logits[:, -1, :] / temperature, dim=-1)
            nxt = torch.multinomial(probs, num_samples=1)  # (1, 1)
            out.append(itos[nxt.item()])
            logits, state = model(nxt, state)
    return "".join(out)


def main(argv=None):
    args = arguments(__doc__.splitlines()[0], argv)
    if args.quick:
        epochs, batch_size, bptt, embed, hidden, lr = 6, 8, 16, 16, 64, 1e-2
    else:
        epochs, batch_size, bptt, embed, hidden, lr = 60, 8, 32, 32, 128, 3e-3
    torch.manual_seed(0)

    chars = sorted(set(TEXT))
    stoi = {c: i for i, c in enumerate(chars)}
    ids = torch.tensor([stoi[c] for c in TEXT])  # Python ints: int64 (torch.long)
    streams = batchify(ids, batch_size)  # (batch, length)
    vocab = len(chars)

    model = CharLSTM(vocab, embed, hidden, num_layers=2, dropout=0.0 if args.quick else 0.2)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for epoch in range(epochs):
        model.train()
        state = None
        for i in range(0, streams.size(1) - 1, bptt):
            seq = min(bptt, streams.size(1) - 1 - i)
            x, y = streams[:, i : i + seq], streams[:, i + 1 : i + 1 + seq]
            if state is not None:
                state = detach(state)
            logits, state = model(x, state)
            loss = F.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
            optimizer.step()
            losses.append(loss.item())
        print(f"epoch {epoch + 1:2d}  loss {losses[-1]:.3f} nats/char  (uniform: {math.log(vocab):.3f})")

    text = sample(model, stoi, chars, prime="The river ", length=40 if args.quick else 400)
    print("sample:", repr(text))
    return {"losses": losses, "sample": text, "alphabet": set(chars), "uniform": math.log(vocab)}


if __name__ == "__main__":
    main()
