"""Port test: a small variational autoencoder in the style of pytorch/examples' vae (Linear encoder to
mu / logvar, the reparameterisation trick, a sigmoid decoder, binary cross-entropy summed plus the KL
term, Adam), run with ``import minigrad as torch``. Written for minigrad (no copied code); only the
import differs."""

import minigrad as torch
import minigrad.nn.functional as F
from minigrad import nn, optim


class VAE(nn.Module):
    def __init__(self, features=16, hidden=12, latent=3):
        super().__init__()
        self.fc1 = nn.Linear(features, hidden)
        self.fc21 = nn.Linear(hidden, latent)
        self.fc22 = nn.Linear(hidden, latent)
        self.fc3 = nn.Linear(latent, hidden)
        self.fc4 = nn.Linear(hidden, features)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        # PyTorch writes torch.randn_like(std); minigrad has no randn_like, so randn of its shape
        eps = torch.randn_like(std) if hasattr(torch, "randn_like") else torch.randn(*std.shape)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 16))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    bce = F.binary_cross_entropy(recon_x, x.view(-1, 16), reduction="sum")
    # KL(q(z|x) || N(0, I)) = -0.5 * sum(1 + log sigma^2 - mu^2 - sigma^2)
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def test_vae_trains_and_its_loss_decreases():
    torch.manual_seed(0)
    # two binary prototypes, each pixel flipped with probability 0.1: structure a VAE can learn
    prototypes = (torch.rand(2, 16) > 0.5).float()
    labels = (torch.rand(64) > 0.5).long()
    flips = (torch.rand(64, 16) < 0.1).float()
    data = (prototypes[labels] - flips).abs()
    model = VAE()
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _epoch in range(40):
        model.train()
        optimizer.zero_grad()
        recon, mu, logvar = model(data)
        loss = loss_function(recon, data, mu, logvar)
        loss.backward()
        optimizer.step()
        losses.append(loss.item() / len(data))
    assert all(torch.isfinite(torch.tensor(losses)).tolist())
    assert losses[-1] < 0.7 * losses[0], losses
    model.eval()
    with torch.no_grad():
        recon, mu, logvar = model(data)
    assert tuple(recon.shape) == (64, 16) and tuple(mu.shape) == (64, 3)
    assert float(recon.min()) >= 0.0 and float(recon.max()) <= 1.0
