"""A small DCGAN on the bundled 8x8 digits: ConvTranspose2d generator, Conv2d discriminator, BatchNorm.

The generator maps a noise vector z (nz x 1 x 1) through transposed convolutions (1x1 -> 2x2 -> 4x4
-> 8x8) with BatchNorm2d and ReLU to an image in [-1, 1] (Tanh); the discriminator maps an image
through strided convolutions with LeakyReLU(0.2) and BatchNorm2d to the probability that it is real
(Sigmoid, BCELoss). As in pytorch/examples' dcgan (written anew here), the weights start from
N(0, 0.02) (batch-norm scales from N(1, 0.02)) through ``m.weight.data.normal_``, both players use
Adam with betas (0.5, 0.999), and each step first trains D on a real and a fake batch, then trains
G to make D call its fakes real (the "non-saturating" loss, log D(G(z)) maximised).
GAN losses do not fall steadily (each player's loss is the other's progress), so the example also
tracks a number that should: the distance between the per-pixel mean and standard deviation of a
fixed batch of generated digits and those of the real ones. The last generated batch is plotted as
an 8 x 8 grid with matplotlib when installed. Only PyTorch spellings (the data come from
minigrad.data, as a dataset would from torchvision): with ``import torch`` instead of
``import minigrad as torch`` it runs under PyTorch unchanged.
    python examples/dcgan_digits.py   (25 epochs of the 1,438 training digits, about 2.5 minutes on
                                       one core: the moment distance falls from ~0.8 to about 0.35;
                                       the samples are digit-like strokes, a few of them clear
                                       zeros, on a noisy background: more epochs sharpen them)
"""

from _common import arguments, pyplot, save

import minigrad as torch
import minigrad.nn as nn
from minigrad.data import load_digits

NC = 1  # image channels


class Generator(nn.Module):
    def __init__(self, nz, ngf):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 4, 2, 1, 0, bias=False),  # 1x1 -> 2x2
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),  # -> 4x4
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, NC, 4, 2, 1, bias=False),  # -> 8x8
            nn.Tanh(),
        )

    def forward(self, z):
        return self.main(z)


class Discriminator(nn.Module):
    def __init__(self, ndf):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(NC, ndf, 4, 2, 1, bias=False),  # 8x8 -> 4x4
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),  # -> 2x2
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, 1, 2, 1, 0, bias=False),  # -> 1x1
            nn.Sigmoid(),
        )

    def forward(self, x):
        return self.main(x).view(-1, 1).squeeze(1)


def weights_init(m):
    """DCGAN's initialisation: conv weights from N(0, 0.02), batch-norm scales N(1, 0.02), shifts 0."""
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        m.weight.data.normal_(0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        m.weight.data.normal_(1.0, 0.02)
        m.bias.data.fill_(0)


def moment_distance(fake, real):
    """|mean_fake - mean_real| + |std_fake - std_real|, per pixel, averaged: 0 when the marginals agree."""
    return ((fake.mean(0) - real.mean(0)).abs().mean() + (fake.std(0) - real.std(0)).abs().mean()).item()


def main(argv=None):
    args = arguments(__doc__.splitlines()[0], argv)
    epochs, limit, nz, ngf, ndf = (6, 512, 16, 16, 16) if args.quick else (25, None, 32, 32, 32)
    batch_size, lr = 64, 5e-3 if args.quick else 5e-4
    torch.manual_seed(0)

    # the digits scaled from [0, 1] to Tanh's [-1, 1], as NumPy first so that either library can take them
    real_images = torch.from_numpy(load_digits("train")[0].numpy()[:limit]) * 2 - 1

    netG, netD = Generator(nz, ngf), Discriminator(ndf)
    netG.apply(weights_init)
    netD.apply(weights_init)
    criterion = nn.BCELoss()
    optimizerD = torch.optim.Adam(netD.parameters(), lr=lr, betas=(0.5, 0.999))
    optimizerG = torch.optim.Adam(netG.parameters(), lr=lr, betas=(0.5, 0.999))
    fixed_noise = torch.randn(64, nz, 1, 1)
    real_label, fake_label = 1.0, 0.0

    history = {"errD": [], "errG": [], "D(x)": [], "moments": []}
    for epoch in range(epochs):
        order = torch.randperm(real_images.size(0))
        for start in range(0, real_images.size(0) - batch_size + 1, batch_size):
            real = real_images[order[start : start + batch_size]]
            b = real.size(0)
            # (1) D: maximise log D(x) + log(1 - D(G(z)))
            netD.zero_grad()
            label = torch.full((b,), real_label)
            output = netD(real)
            errD_real = criterion(output, label)
            errD_real.backward()
            d_x = output.mean().item()
            fake = netG(torch.randn(b, nz, 1, 1))
            label.fill_(fake_label)
            errD_fake = criterion(netD(fake.detach()), label)
            errD_fake.backward()
            optimizerD.step()
            # (2) G: maximise log D(G(z)), i.e. D's loss on the fakes labelled real
            netG.zero_grad()
            label.fill_(real_label)
            errG = criterion(netD(fake), label)
            errG.backward()
            optimizerG.step()

            with torch.no_grad():  # in training mode, as pytorch/examples draws its fixed-noise samples
                moments = moment_distance(netG(fixed_noise), real_images)
            history["errD"].append(errD_real.item() + errD_fake.item())
            history["errG"].append(errG.item())
            history["D(x)"].append(d_x)
            history["moments"].append(moments)
        print(f"epoch {epoch + 1:2d}  loss D {history['errD'][-1]:.3f}  loss G {history['errG'][-1]:.3f}  "
              f"D(x) {d_x:.2f}  moment distance {moments:.3f}")  # fmt: skip

    with torch.no_grad():
        samples = netG(fixed_noise)  # (64, 1, 8, 8) in [-1, 1]
    grid = samples.view(8, 8, 8, 8).permute(0, 2, 1, 3).reshape(64, 64).numpy()
    plt = pyplot()
    if plt is not None:
        fig, ax = plt.subplots(figsize=(4, 4))
        ax.imshow(grid, cmap="gray_r", vmin=-1, vmax=1)
        ax.set_axis_off()
        ax.set_title("DCGAN samples (fixed noise)")
        save(fig, args.out, "dcgan_digits.png")
    return {**history, "grid": grid, "samples": samples.numpy(), "netG": netG, "netD": netD}


if __name__ == "__main__":
    main()
