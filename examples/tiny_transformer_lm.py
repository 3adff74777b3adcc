"""A small transformer language model over characters: causal attention, weight tying, AdamW param groups.

Token and learned position embeddings go through a pre-norm (``norm_first``) nn.TransformerEncoder whose
self-attention is masked causally (nn.Transformer.generate_square_subsequent_mask: position t sees
positions <= t only), so one forward pass trains every position of a window at once to predict its next
character. The output head shares its weight with the token embedding (``head.weight =
tok_emb.weight``, weight tying: the same vector reads a character in and scores it out). AdamW gets two
parameter groups, as GPT-style training code sets it up: weight decay on the weight matrices of the
Linear and attention layers, none on biases, LayerNorm scales and embeddings (decaying those pulls
them to zero for no gain). The learning rate follows a OneCycleLR schedule (warm up, then anneal), and
the model then writes text greedily and with top-k sampling. The text is char_lstm.py's. Only PyTorch
spellings: with ``import torch`` instead of ``import minigrad as torch`` it runs under PyTorch unchanged.
    python examples/tiny_transformer_lm.py   (600 steps, a few minutes on 2 cores: the loss falls from
                                               ~3.5 to about 0.8 nats per character and the greedy
                                               text runs through whole phrases of the training text:
                                               "The river is still there. The people of the village
                                               say that if you sit on the bank long enough, ...")
"""

import math

from _common import arguments
from char_lstm import TEXT

import minigrad as torch
import minigrad.nn as nn
import minigrad.nn.functional as F


class TinyTransformerLM(nn.Module):
    def __init__(self, vocab_size, block_size, d_model=64, nhead=4, num_layers=2, dropout=0.1):
        super().__init__()
        self.block_size = block_size
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos_emb = nn.Embedding(block_size, d_model)
        self.drop = nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=4 * d_model, dropout=dropout,
                                           activation="gelu", batch_first=True, norm_first=True)  # fmt: skip
        # enable_nested_tensor=False: PyTorch's fast path does not take norm_first layers (it would warn)
        self.blocks = nn.TransformerEncoder(layer, num_layers, norm=nn.LayerNorm(d_model), enable_nested_tensor=False)
        self.head = nn.Linear(d_model, vocab_size, bias=False)
        self.head.weight = self.tok_emb.weight  # weight tying: one (vocab, d_model) matrix, two uses
        nn.init.normal_(self.tok_emb.weight, 0.0, 0.02)
        nn.init.normal_(self.pos_emb.weight, 0.0, 0.02)
        mask = nn.Transformer.generate_square_subsequent_mask(block_size)  # -inf above the diagonal, 0 elsewhere
        self.register_buffer("causal_mask", mask, persistent=False)  # moves with .to(), not saved

    def forward(self, idx):
        """idx: (batch, time) with time <= block_size; returns logits (batch, time, vocab)."""
        T = idx.size(1)
        x = self.drop(self.tok_emb(idx) + self.pos_emb(torch.arange(T)))
        x = self.blocks(x, mask=self.causal_mask[:T, :T], is_causal=True)
        return self.head(x)


def param_groups(model, weight_decay):
    """Two AdamW groups: decay for weight matrices, none for biases, LayerNorm and embeddings.

    Walks the modules in order, so a tied parameter is classified once, by its first owner (the token
    embedding, before the head)."""
    decay, no_decay, seen = [], [], set()
    for module in model.modules():
        for name, p in module.named_parameters(recurse=False):
            if id(p) in seen:
                continue
            seen.add(id(p))
            if name.endswith("weight") and not isinstance(module, (nn.LayerNorm, nn.Embedding)):
                decay.append(p)
            else:
                no_decay.append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def get_batch(data, block_size, batch_size):
    """batch_size random windows of the text and the same windows shifted by one (the targets)."""
    ix = torch.randint(0, data.size(0) - block_size - 1, (batch_size,)).tolist()
    x = torch.stack([data[i : i + block_size] for i in ix])
    y = torch.stack([data[i + 1 : i + 1 + block_size] for i in ix])
    return x, y


def generate(model, idx, new_tokens, top_k=None, temperature=1.0):
    """Append new_tokens to idx (batch, time): the argmax (greedy) or a draw among the top_k logits."""
    model.eval()
    with torch.no_grad():
        for _ in range(new_tokens):
            logits = model(idx[:, -model.block_size :])[:, -1, :] / temperature
            if top_k is None:
                nxt = logits.argmax(dim=-1, keepdim=True)
            else:
                kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]
                logits = logits.masked_fill(logits < kth, float("-inf"))
                nxt = torch.multinomial(F.softmax(logits, dim=-1), num_samples=1)
            idx = torch.cat([idx, nxt], dim=1)
    return idx


def main(argv=None):
    args = arguments(__doc__.splitlines()[0], argv)
    if args.quick:
        steps, batch_size, block_size, d_model, layers, max_lr = 60, 16, 16, 32, 2, 1e-2
    else:
        steps, batch_size, block_size, d_model, layers, max_lr = 600, 32, 32, 64, 2, 3e-3
    torch.manual_seed(0)

    chars = sorted(set(TEXT))
    stoi = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([stoi[c] for c in TEXT])  # Python ints: int64 (torch.long)
    vocab = len(chars)

    model = TinyTransformerLM(vocab, block_size, d_model=d_model, nhead=4, num_layers=layers,
                              dropout=0.0 if args.quick else 0.1)  # fmt: skip
    groups = param_groups(model, weight_decay=0.1)
    optimizer = torch.optim.AdamW(groups, lr=max_lr, betas=(0.9, 0.95))
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, total_steps=steps, pct_start=0.3)
    losses = []
    for step in range(steps):
        model.train()
        x, y = get_batch(data, block_size, batch_size)
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
        if step % max(1, steps // 10) == 0 or step == steps - 1:
            print(f"step {step:4d}  loss {loss.item():.3f}  lr {scheduler.get_last_lr()[0]:.2e}")

    prompt = torch.tensor([[stoi[c] for c in "The river "]])
    n_new = 30 if args.quick else 300
    greedy = "".join(chars[i] for i in generate(model, prompt, n_new)[0].tolist())
    top_k = "".join(chars[i] for i in generate(model, prompt, n_new, top_k=5, temperature=0.8)[0].tolist())
    print("greedy:", repr(greedy))
    print("top-5: ", repr(top_k))
    return {
        "losses": losses,
        "greedy": greedy,
        "top_k": top_k,
        "alphabet": set(chars),
        "uniform": math.log(vocab),
        "groups": groups,
        "model": model,
    }


if __name__ == "__main__":
    main()
