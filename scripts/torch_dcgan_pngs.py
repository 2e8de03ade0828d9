#!/usr/bin/env python3
"""Train a PyTorch DCGAN on a folder of 28x28 grey PNGs and write its samples as PNGs:
the outside model whose samples `genlab score` and scripts/score_images.py score on
GenLab's scale.

    genlab score presets/dcgan_shapes.toml --export EXPORT
    python3 scripts/torch_dcgan_pngs.py --real EXPORT/real --out torch_samples --steps 2000
    genlab score presets/dcgan_shapes.toml --samples torch_samples

The architecture and recipe are the bench's PyTorch reference (shared/bench/ref/
dcgan_28.py): G 64 -> 128x7x7 -> 64x14x14 -> 1x28x28 with batch norm, D two strided
convolutions, Adam 2e-4 (0.5, 0.999), batch 64, non-saturating BCE. Needs torch and numpy.
"""

import argparse
import os
import struct
import sys
import zlib

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(__file__))
from score_images import read_folder  # noqa: E402

Z = 64


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(Z, 128 * 7 * 7, bias=False)
        self.net = nn.Sequential(
            nn.BatchNorm2d(128), nn.ReLU(True),
            nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(True),
            nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh())

    def forward(self, z):
        return self.net(self.fc(z).view(-1, 128, 7, 7))


def discriminator():
    return nn.Sequential(
        nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2, True),
        nn.Conv2d(64, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(0.2, True),
        nn.Flatten(), nn.Linear(128 * 7 * 7, 1))


def write_grey_png(path, image):
    """An (h, w) array in [0, 1] as an 8-bit grey PNG."""
    h, w = image.shape
    pixels = np.clip(np.round(image * 255.0), 0, 255).astype(np.uint8)
    raw = b"".join(b"\x00" + pixels[y].tobytes() for y in range(h))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw)))
        f.write(chunk(b"IEND", b""))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--real", required=True, help="folder of 28x28 PNGs to train on")
    ap.add_argument("--out", required=True, help="where the samples go")
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--count", type=int, default=512)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)

    data = torch.from_numpy(read_folder(args.real, 1, 28)) * 2.0 - 1.0
    G, D = Generator(), discriminator()
    optG = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optD = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    B = 64
    ones, zeros = torch.ones(B, 1), torch.zeros(B, 1)
    for step in range(args.steps):
        real = data[torch.randint(len(data), (B,))]
        fake = G(torch.randn(B, Z))
        loss_d = bce(D(real), ones) + bce(D(fake.detach()), zeros)
        optD.zero_grad(set_to_none=True)
        loss_d.backward()
        optD.step()
        loss_g = bce(D(fake), ones)
        optG.zero_grad(set_to_none=True)
        loss_g.backward()
        optG.step()
        if step % 500 == 0:
            print(f"step {step}: loss_d {loss_d.item():.3f} loss_g {loss_g.item():.3f}", file=sys.stderr)

    G.eval()
    os.makedirs(args.out, exist_ok=True)
    with torch.no_grad():
        images = (G(torch.randn(args.count, Z)) + 1.0) / 2.0
    for i, image in enumerate(images[:, 0].numpy()):
        write_grey_png(os.path.join(args.out, f"{i:06}.png"), image)
    print(f"{args.count} samples after {args.steps} steps in {args.out}")


if __name__ == "__main__":
    main()
