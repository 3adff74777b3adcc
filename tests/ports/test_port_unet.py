"""Port test: a tiny UNet for segmentation in the style of the common PyTorch UNet scripts (DoubleConv blocks
of Conv2d + BatchNorm2d + ReLU, MaxPool2d on the way down, bilinear nn.Upsample and ConvTranspose2d on the
way up, skip connections joined with torch.cat after F.pad evens out odd sizes, a 1x1 head, logits
resized with F.interpolate), trained with CrossEntropyLoss and Adam on synthetic discs, run with
``import minigrad as torch``. Written for minigrad (no copied code); only the import differs from a
PyTorch script."""

import math

import numpy as np

import minigrad as torch
import minigrad.nn as nn
import minigrad.nn.functional as F
import minigrad.optim as optim


class DoubleConv(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.double_conv = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
            nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
        )

    def forward(self, x):
        return self.double_conv(x)


class Down(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.maxpool_conv = nn.Sequential(nn.MaxPool2d(2), DoubleConv(in_channels, out_channels))

    def forward(self, x):
        return self.maxpool_conv(x)


class Up(nn.Module):
    def __init__(self, in_channels, skip_channels, out_channels, bilinear=True):
        super().__init__()
        if bilinear:
            self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
            up_channels = in_channels
        else:
            self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, kernel_size=2, stride=2)
            up_channels = in_channels // 2
        self.conv = DoubleConv(up_channels + skip_channels, out_channels)

    def forward(self, x1, x2):
        x1 = self.up(x1)
        diff_y = x2.size()[2] - x1.size()[2]
        diff_x = x2.size()[3] - x1.size()[3]
        x1 = F.pad(x1, [diff_x // 2, diff_x - diff_x // 2, diff_y // 2, diff_y - diff_y // 2])
        return self.conv(torch.cat([x2, x1], dim=1))


class TinyUNet(nn.Module):
    def __init__(self, n_channels=1, n_classes=2):
        super().__init__()
        self.inc = DoubleConv(n_channels, 8)
        self.down1 = Down(8, 16)
        self.down2 = Down(16, 32)
        self.up1 = Up(32, 16, 16, bilinear=True)
        self.up2 = Up(16, 8, 8, bilinear=False)
        self.outc = nn.Conv2d(8, n_classes, kernel_size=1)

    def forward(self, x):
        x1 = self.inc(x)  # 14 x 14
        x2 = self.down1(x1)  # 7 x 7
        x3 = self.down2(x2)  # 3 x 3 (floor)
        x = self.up1(x3, x2)  # 6 x 6 upsampled, padded to 7 x 7
        x = self.up2(x, x1)  # 14 x 14
        return self.outc(x)


def discs(n, size, rng):
    """Noisy images with a bright disc each; the label is 1 inside the disc."""
    yy, xx = np.mgrid[:size, :size]
    images, masks = [], []
    for _ in range(n):
        cy, cx, r = rng.uniform(3, size - 3), rng.uniform(3, size - 3), rng.uniform(2, 4)
        mask = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
        images.append(mask + 0.3 * rng.standard_normal((size, size)))
        masks.append(mask)
    return np.asarray(images, dtype=np.float32)[:, None], np.asarray(masks, dtype=np.int64)


def test_tiny_unet_segmentation_loss_falls():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    images, masks = discs(8, 14, rng)
    x, target = torch.tensor(images), torch.tensor(masks)
    model = TinyUNet()
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(12):
        optimizer.zero_grad()
        logits = model(x)
        assert logits.shape == (8, 2, 14, 14)
        loss = criterion(logits, target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        assert math.isfinite(losses[-1])
    assert losses[-1] < 0.6 * losses[0], losses
    # every parameter got a gradient (both up paths, the padding and the skip concatenations carry it)
    assert all(p.grad is not None and float(p.grad.abs().sum()) > 0 for p in model.parameters())
    model.eval()
    with torch.no_grad():
        # a half-resolution prediction brought back to the label size with F.interpolate, as eval scripts do
        small = model(F.interpolate(x, scale_factor=0.5, mode="bilinear", align_corners=False))
        logits = F.interpolate(small, size=target.shape[-2:], mode="bilinear", align_corners=False)
        pred = logits.argmax(dim=1)
    assert logits.shape == (8, 2, 14, 14) and not logits.requires_grad
    full = model(x).argmax(dim=1)
    accuracy = float((full == target).float().mean())
    assert accuracy > 1 - masks.mean() / 2, accuracy  # at least half of what predicting "background" gets wrong
    assert pred.shape == target.shape


def test_tiny_unet_state_dict_keys_follow_the_module_tree():
    keys = [k for k in TinyUNet().state_dict() if not k.endswith("num_batches_tracked")]
    assert keys[:6] == [
        "inc.double_conv.0.weight", "inc.double_conv.1.weight", "inc.double_conv.1.bias",
        "inc.double_conv.1.running_mean", "inc.double_conv.1.running_var", "inc.double_conv.3.weight",
    ]  # fmt: skip
    assert "down1.maxpool_conv.1.double_conv.0.weight" in keys
    assert "up2.up.weight" in keys and "up2.up.bias" in keys and not any(k.startswith("up1.up.") for k in keys)
    assert keys[-2:] == ["outc.weight", "outc.bias"]
