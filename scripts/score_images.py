#!/usr/bin/env python3
"""Score a folder of PNG images with GenLab's evaluator, outside GenLab.

    genlab score PRESET --export EXPORT         # once: evaluator + real images
    python3 scripts/score_images.py --export EXPORT --samples DIR [--json]

Gives the numbers `genlab score PRESET --samples DIR` gives (FD, KID, precision,
recall, diversity and classes covered, each beside its real-versus-real floor), so that a PyTorch model's
samples and GenLab's are scored on one scale. Needs numpy only; PNGs are decoded with
zlib (8-bit grey, grey+alpha, RGB or RGBA, not interlaced), or with Pillow if present.

The evaluator is a small classifier trained on the data's labels (GenLab's stand-in for
Inception): conv 3x3 stride 2 -> ReLU -> conv 3x3 stride 2 -> ReLU -> linear -> ReLU,
whose 64 outputs are the features. Features are divided by the reference's mean
per-feature standard deviation before the distances, as GenLab does.
"""

import argparse
import json
import os
import struct
import sys
import zlib

import numpy as np

PR_K = 3  # neighbours that set each sample's ball in precision / recall


def load_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    tensors = {}
    for name, t in header.items():
        if t["dtype"] != "F32":
            raise ValueError(f"{path}: {name} is {t['dtype']}, expected F32")
        start, end = t["data_offsets"]
        tensors[name] = np.frombuffer(raw[base + start : base + end], dtype="<f4").reshape(t["shape"])
    return tensors, meta


def decode_png(path):
    """An 8-bit PNG as an (h, w, 3) float array in [0, 1]."""
    try:
        from PIL import Image  # optional

        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"), dtype=np.float64) / 255.0
    except ImportError:
        pass
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path}: not a PNG file")
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = ihdr
    planes = {0: 1, 2: 3, 4: 2, 6: 4}.get(colour)
    if depth != 8 or planes is None or interlace != 0:
        raise ValueError(f"{path}: only 8-bit grey/RGB(A) non-interlaced PNGs (or install Pillow)")
    raw = zlib.decompress(idat)
    stride = width * planes
    out = np.zeros((height, stride), dtype=np.int64)
    prev = np.zeros(stride, dtype=np.int64)
    for y in range(height):
        row = raw[y * (stride + 1) : (y + 1) * (stride + 1)]
        kind, line = row[0], np.frombuffer(row[1:], dtype=np.uint8).astype(np.int64)
        if kind == 0:
            cur = line
        elif kind == 2:
            cur = (line + prev) & 0xFF
        else:
            cur = np.zeros(stride, dtype=np.int64)
        for x in range(stride if kind in (1, 3, 4) else 0):
            a = cur[x - planes] if x >= planes else 0
            b = prev[x]
            c = prev[x - planes] if x >= planes else 0
            if kind == 0:
                pred = 0
            elif kind == 1:
                pred = a
            elif kind == 2:
                pred = b
            elif kind == 3:
                pred = (a + b) // 2
            else:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            cur[x] = (line[x] + pred) & 0xFF
        out[y] = cur
        prev = cur
    img = out.reshape(height, width, planes)
    rgb = np.repeat(img[:, :, :1], 3, axis=2) if planes <= 2 else img[:, :, :3]
    return rgb.astype(np.float64) / 255.0


def read_folder(folder, channels, side):
    """The folder's PNGs, sorted by name, as (n, channels, side, side) in [0, 1]."""
    names = sorted(f for f in os.listdir(folder) if f.lower().endswith(".png"))
    if len(names) < 2:
        raise SystemExit(f"{folder}: {len(names)} PNG files; scoring needs at least 2")
    images = []
    for name in names:
        rgb = decode_png(os.path.join(folder, name)).astype(np.float32)
        if rgb.shape[:2] != (side, side):
            raise SystemExit(f"{folder}/{name}: {rgb.shape[1]}x{rgb.shape[0]}, expected {side}x{side}")
        if channels == 1:
            # The mean of red, green and blue, summed in f32 as GenLab does.
            images.append(((rgb[:, :, 0] + rgb[:, :, 1] + rgb[:, :, 2]) / np.float32(3.0))[None])
        else:
            images.append(rgb.transpose(2, 0, 1)[:channels])
    return np.stack(images).astype(np.float32)


def conv3x3_stride2(x, weight, bias):
    """x (n, c, h, w) with padding 1 -> (n, out, h/2, w/2)."""
    n, c, h, w = x.shape
    ho, wo = (h + 2 - 3) // 2 + 1, (w + 2 - 3) // 2 + 1
    padded = np.zeros((n, c, h + 2, w + 2), dtype=np.float64)
    padded[:, :, 1:-1, 1:-1] = x
    cols = np.empty((n, c, 3, 3, ho, wo), dtype=np.float64)
    for i in range(3):
        for j in range(3):
            cols[:, :, i, j] = padded[:, :, i : i + 2 * ho : 2, j : j + 2 * wo : 2]
    out = np.einsum("ncijhw,ocij->nohw", cols, weight.astype(np.float64))
    return out + bias.astype(np.float64)[None, :, None, None]


def features(images, t):
    x = (images.astype(np.float64) - 0.5) * 2.0
    x = np.maximum(conv3x3_stride2(x, t["conv1.weight"], t["conv1.bias"]), 0.0)
    x = np.maximum(conv3x3_stride2(x, t["conv2.weight"], t["conv2.bias"]), 0.0)
    x = x.reshape(len(x), -1)
    return np.maximum(x @ t["features.weight"].T.astype(np.float64) + t["features.bias"], 0.0)


def classes_covered(unscaled_features, t):
    """Classes (by the evaluator's prediction) holding at least a quarter of a fair share."""
    logits = unscaled_features @ t["classes.weight"].T.astype(np.float64) + t["classes.bias"]
    classes = t["classes.weight"].shape[0]
    counts = np.bincount(logits.argmax(1), minlength=classes)
    floor = len(logits) / classes / 4.0
    return float(((counts > 0) & (counts >= floor)).sum())


def spread(f):
    return float(np.mean(np.std(f, axis=0)))


def sqrt_psd(m):
    values, vectors = np.linalg.eigh(m)
    return (vectors * np.sqrt(np.maximum(values, 0.0))) @ vectors.T


def frechet_distance(a, b):
    ma, mb = a.mean(0), b.mean(0)
    sa, sb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = sqrt_psd(sa)
    inner = root @ sb @ root
    inner = (inner + inner.T) / 2
    tr_root = np.sqrt(np.maximum(np.linalg.eigvalsh(inner), 0.0)).sum()
    return max(float(((ma - mb) ** 2).sum() + np.trace(sa) + np.trace(sb) - 2 * tr_root), 0.0)


def kernel_distance(a, b):
    dim = a.shape[1]
    k = lambda x, y: (x @ y.T / dim + 1.0) ** 3
    m, n = len(a), len(b)
    kaa, kbb = k(a, a), k(b, b)
    within_a = (kaa.sum() - np.trace(kaa)) / (m * (m - 1))
    within_b = (kbb.sum() - np.trace(kbb)) / (n * (n - 1))
    return float(within_a + within_b - 2 * k(a, b).mean())


def coverage(manifold, queries, k=PR_K):
    d_mm = ((manifold[:, None, :] - manifold[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d_mm, np.inf)
    radii = np.sort(d_mm, axis=1)[:, k - 1]
    d_qm = ((queries[:, None, :] - manifold[None, :, :]) ** 2).sum(-1)
    return float((d_qm <= radii[None, :]).any(axis=1).mean())


def scores(reference, fake, classes):
    return {
        "fd": frechet_distance(reference, fake),
        "kid": kernel_distance(reference, fake),
        "precision": coverage(reference, fake),
        "recall": coverage(fake, reference),
        "diversity": spread(fake) / max(spread(reference), 1e-12),
        "classes_covered": classes,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--export", required=True, help="the folder `genlab score PRESET --export` wrote")
    ap.add_argument("--samples", required=True, help="folder of PNG images, one per file")
    ap.add_argument("--json", action="store_true", help="print the scores as JSON")
    args = ap.parse_args()

    t, meta = load_safetensors(os.path.join(args.export, "evaluator.safetensors"))
    channels, side, n_ref = int(meta["channels"]), int(meta["side"]), int(meta["reference_images"])
    real = features(read_folder(os.path.join(args.export, "real"), channels, side), t)
    if len(real) < 2 * n_ref:
        raise SystemExit(f"{args.export}/real: {len(real)} images, expected {2 * n_ref}")
    fake = features(read_folder(args.samples, channels, side), t)
    scale = 1.0 / max(spread(real[:n_ref]), 1e-12)
    second = real[n_ref : 2 * n_ref]
    result = {
        "images": len(fake),
        "samples": scores(real[:n_ref] * scale, fake * scale, classes_covered(fake, t)),
        "floor": scores(real[:n_ref] * scale, second * scale, classes_covered(second, t)),
    }
    if args.json:
        json.dump(result, sys.stdout, indent=1)
        print()
        return
    print(f"{'metric':<16} {str(len(fake)) + ' samples':>14} {'real vs real':>16}")
    for name, value in result["samples"].items():
        print(f"{name:<16} {value:>14.4f} {result['floor'][name]:>16.4f}")


if __name__ == "__main__":
    main()
