"""Port test: a tiny GPT-style character model written as a PyTorch user writes one (token and learned
positional embeddings, a pre-norm TransformerEncoder with a causal mask, a Linear head tied to nothing,
F.cross_entropy, AdamW with weight decay, gradient clipping), run with ``import minigrad as torch``.
Written for minigrad (no copied code); only the import differs from the PyTorch program."""

import pytest

import minigrad as torch
import minigrad.nn as nn
import minigrad.nn.functional as F

pytestmark = pytest.mark.skipif(
    not hasattr(nn, "LayerNorm"), reason="needs nn.LayerNorm and F.gelu (branch nn-act-norm, merged separately)"
)


class TinyGPT(nn.Module):
    def __init__(self, vocab_size, d_model=32, nhead=4, num_layers=2, block_size=16, dropout=0.1):
        super().__init__()
        self.block_size = block_size
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos_emb = nn.Embedding(block_size, d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=4 * d_model, dropout=dropout,
                                           activation="gelu", batch_first=True, norm_first=True)  # fmt: skip
        self.blocks = nn.TransformerEncoder(layer, num_layers, norm=nn.LayerNorm(d_model))
        self.head = nn.Linear(d_model, vocab_size)

    def forward(self, idx, targets=None):
        B, T = idx.shape
        pos = torch.arange(T)
        x = self.tok_emb(idx) + self.pos_emb(pos)
        mask = nn.Transformer.generate_square_subsequent_mask(T)
        x = self.blocks(x, mask=mask, is_causal=True)
        logits = self.head(x)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
        return logits, loss


def get_batch(data, block_size, batch_size):
    ix = torch.randint(0, len(data) - block_size - 1, (batch_size,))
    x = torch.stack([data[int(i) : int(i) + block_size] for i in ix])
    y = torch.stack([data[int(i) + 1 : int(i) + 1 + block_size] for i in ix])
    return x, y


def test_tiny_gpt_loss_falls():
    torch.manual_seed(0)
    text = "to be or not to be, that is the question. " * 8
    chars = sorted(set(text))
    data = torch.tensor([chars.index(c) for c in text], dtype=torch.int64)
    model = TinyGPT(len(chars), block_size=16)
    assert any(k.startswith("blocks.layers.1.self_attn.in_proj_weight") for k in model.state_dict())
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    losses = []
    model.train()
    for _ in range(25):
        xb, yb = get_batch(data, 16, 8)
        _, loss = model(xb, yb)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    assert first > 2.5  # about log(vocab) at the start
    assert last < 0.75 * first
    model.eval()
    with torch.no_grad():
        idx = data[:4].view(1, 4)
        for _ in range(8):  # greedy generation runs and stays in the vocabulary
            logits, _ = model(idx[:, -16:])
            nxt = logits[:, -1, :].argmax(dim=-1, keepdim=True)
            idx = torch.cat([idx, nxt], dim=1)
    assert tuple(idx.shape) == (1, 12) and int(idx.max()) < len(chars)
