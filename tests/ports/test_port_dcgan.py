"""Port test: a small DCGAN in the style of pytorch/examples' dcgan (a generator of ConvTranspose2d +
BatchNorm2d + ReLU ending in Tanh, a discriminator of strided Conv2d + LeakyReLU, the weights_init that
draws conv weights from N(0, 0.02) and batch-norm scales from N(1, 0.02), BCEWithLogitsLoss, two Adam
optimizers with betas (0.5, 0.999), alternating steps), run with ``import minigrad as torch``.
Written for minigrad (no copied code); only the import differs from a PyTorch script."""

import math

import minigrad as torch
import minigrad.nn as nn
import minigrad.optim as optim

# pytorch/examples writes nn.ReLU(True) and nn.LeakyReLU(0.2, inplace=True); minigrad's activation layers
# take no ``inplace`` argument yet, so these use the out-of-place forms (the same numbers).
NZ, NGF, NDF, NC = 8, 8, 8, 1  # latent size, generator / discriminator feature maps, image channels


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(NZ, NGF * 2, 4, 1, 0, bias=False),  # 1x1 -> 4x4
            nn.BatchNorm2d(NGF * 2),
            nn.ReLU(),
            nn.ConvTranspose2d(NGF * 2, NGF, 4, 2, 1, bias=False),  # -> 8x8
            nn.BatchNorm2d(NGF),
            nn.ReLU(),
            nn.ConvTranspose2d(NGF, NC, 4, 2, 1, bias=False),  # -> 16x16
            nn.Tanh(),
        )

    def forward(self, input):
        return self.main(input)


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(NC, NDF, 4, 2, 1, bias=False),  # 16x16 -> 8x8
            nn.LeakyReLU(0.2),
            nn.Conv2d(NDF, NDF * 2, 4, 2, 1, bias=False),  # -> 4x4
            nn.BatchNorm2d(NDF * 2),
            nn.LeakyReLU(0.2),
            nn.Conv2d(NDF * 2, 1, 4, 1, 0, bias=False),  # -> 1x1 logit
        )

    def forward(self, input):
        return self.main(input).view(-1, 1).squeeze(1)


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.constant_(m.bias, 0)


def test_dcgan_trains_a_few_steps_on_random_data():
    torch.manual_seed(0)
    netG, netD = Generator(), Discriminator()
    netG.apply(weights_init)
    netD.apply(weights_init)
    assert netG.main[0].weight.shape == (NZ, NGF * 2, 4, 4)  # ConvTranspose2d: (in, out, kh, kw)
    assert abs(float(netG.main[0].weight.std()) - 0.02) < 0.004
    criterion = nn.BCEWithLogitsLoss()
    optimizerD = optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real_label, fake_label = 1.0, 0.0
    batch = 6
    data = torch.rand(3, batch, NC, 16, 16) * 2 - 1  # three batches of "images" in [-1, 1]
    fixed_noise = torch.randn(batch, NZ, 1, 1)
    for i in range(3):
        # (1) Update D: maximize log(D(x)) + log(1 - D(G(z)))
        netD.zero_grad()
        real = data[i]
        label = torch.full((batch,), real_label)
        errD_real = criterion(netD(real), label)
        errD_real.backward()
        noise = torch.randn(batch, NZ, 1, 1)
        fake = netG(noise)
        assert fake.shape == (batch, NC, 16, 16)
        assert float(fake.abs().max()) <= 1.0
        label.fill_(fake_label)
        errD_fake = criterion(netD(fake.detach()), label)
        errD_fake.backward()
        optimizerD.step()
        # (2) Update G: maximize log(D(G(z)))
        netG.zero_grad()
        label.fill_(real_label)
        errG = criterion(netD(fake), label)
        errG.backward()
        grads = [p.grad for p in netG.parameters()]
        assert all(g is not None and math.isfinite(float(g.abs().sum())) for g in grads)
        assert float(netG.main[0].weight.grad.abs().sum()) > 0
        optimizerG.step()
        for loss in (errD_real, errD_fake, errG):
            assert math.isfinite(loss.item()) and loss.item() > 0
    netG.eval()
    with torch.no_grad():
        sample = netG(fixed_noise)
    assert sample.shape == (batch, NC, 16, 16) and not sample.requires_grad


def test_dcgan_state_dict_keys_are_pytorchs():
    # PyTorch's keys, in PyTorch's order, BatchNorm2d's num_batches_tracked included:
    assert list(Generator().state_dict()) == [
        "main.0.weight", "main.1.weight", "main.1.bias", "main.1.running_mean", "main.1.running_var",
        "main.1.num_batches_tracked", "main.3.weight", "main.4.weight", "main.4.bias", "main.4.running_mean",
        "main.4.running_var", "main.4.num_batches_tracked", "main.6.weight",
    ]  # fmt: skip
    shapes = {k: tuple(v.shape) for k, v in Generator().state_dict().items()}
    assert shapes["main.0.weight"] == (NZ, NGF * 2, 4, 4) and shapes["main.6.weight"] == (NGF, NC, 4, 4)
