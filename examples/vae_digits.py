"""A variational autoencoder on the bundled 8x8 digits: reparameterisation, loss BCE + KL, sampling.

The encoder maps an image x (64 pixels in [0, 1]) to the mean mu and log-variance log sigma^2 of a
Gaussian q(z|x) over a small latent z; the decoder maps z back to 64 Bernoulli means. Training
maximises the evidence lower bound, i.e. minimises per image

    BCE(decoder(z), x) summed over pixels  +  KL(q(z|x) || N(0, I)),
    KL = -1/2 sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2),

with z = mu + eps * sigma, eps ~ N(0, I) (the reparameterisation trick: the noise is an input, so
the gradient flows through mu and sigma). New digits come from decoding z ~ N(0, I); the example
decodes an 8 x 8 grid of them into one 64 x 64 image and plots it with matplotlib when installed.
Only PyTorch spellings (the data come from minigrad.data, as a dataset would from torchvision):
with ``import torch`` instead of ``import minigrad as torch`` it runs under PyTorch unchanged.
    python examples/vae_digits.py   (50 epochs, about 30 s on one core: the loss falls from ~46 to
                                     about 25 nats per image, on the test split too, and most of
                                     the 64 samples are legible digits)
"""

from _common import arguments, pyplot, save

import minigrad as torch
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.data import load_digits


class VAE(nn.Module):
    def __init__(self, features=64, hidden=128, latent=8):
        super().__init__()
        self.fc1 = nn.Linear(features, hidden)
        self.fc_mu = nn.Linear(hidden, latent)
        self.fc_logvar = nn.Linear(hidden, latent)
        self.fc3 = nn.Linear(latent, hidden)
        self.fc4 = nn.Linear(hidden, features)

    def encode(self, x):
        h = F.relu(self.fc1(x))
        return self.fc_mu(h), self.fc_logvar(h)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z))))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 64))
        return self.decode(self.reparameterize(mu, logvar)), mu, logvar


def loss_function(recon, x, mu, logvar):
    """The negative ELBO of the batch, summed over pixels and images."""
    bce = F.binary_cross_entropy(recon, x.view(-1, 64), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def main(argv=None):
    args = arguments(__doc__.splitlines()[0], argv)
    epochs, batch_size, limit = (4, 64, 512) if args.quick else (50, 64, None)
    torch.manual_seed(0)

    # (N, 1, 8, 8) in [0, 1]; as NumPy arrays first, so that either library can take them
    x_train = torch.from_numpy(load_digits("train")[0].numpy()[:limit])
    x_test = torch.from_numpy(load_digits("test")[0].numpy())

    model = VAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3 if not args.quick else 3e-3)
    losses = []  # per image, per batch
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(x_train.size(0))
        for start in range(0, x_train.size(0), batch_size):
            x = x_train[order[start : start + batch_size]]
            recon, mu, logvar = model(x)
            loss = loss_function(recon, x, mu, logvar)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item() / x.size(0))
        model.eval()
        with torch.no_grad():
            recon, mu, logvar = model(x_test)
            test_loss = loss_function(recon, x_test, mu, logvar).item() / x_test.size(0)
        print(f"epoch {epoch + 1:2d}  train loss {losses[-1]:.2f}  test loss {test_loss:.2f} nats per image")

    with torch.no_grad():  # an 8 x 8 grid of new digits, decoded from z ~ N(0, I)
        samples = model.decode(torch.randn(64, model.fc_mu.out_features)).view(8, 8, 8, 8)
        grid = samples.permute(0, 2, 1, 3).reshape(64, 64).numpy()  # grid row, pixel row, grid col, pixel col
    plt = pyplot()
    if plt is not None:
        fig, ax = plt.subplots(figsize=(4, 4))
        ax.imshow(grid, cmap="gray_r")
        ax.set_axis_off()
        ax.set_title("VAE samples, z ~ N(0, I)")
        save(fig, args.out, "vae_digits.png")
    return {"losses": losses, "test_loss": test_loss, "grid": grid, "samples": samples.reshape(64, 1, 8, 8).numpy()}


if __name__ == "__main__":
    main()
