"""Test images written with the Python standard library only: PNG (lossless, so a decoder must
give back exactly these bytes) from raw RGB, and the shared perceptual-hash vectors
(Tests/PerceptualHashTests/Vectors/phash-vectors.json) that the Swift tests check."""
import base64
import json
import pathlib
import struct
import zlib

VECTORS = pathlib.Path(__file__).resolve().parents[1] / "PerceptualHashTests/Vectors/phash-vectors.json"


def vectors():
    """[{name, width, height, rgb (bytes), phash}] from the shared file."""
    out = []
    for v in json.loads(VECTORS.read_text())["vectors"]:
        out.append({"name": v["name"], "width": v["width"], "height": v["height"],
                    "rgb": base64.b64decode(v["rgb_base64"]), "phash": v["phash"]})
    return out


def png_bytes(width, height, rgb):
    """An 8-bit RGB PNG of `rgb` (row-major, 3 bytes a pixel), no filtering."""
    assert len(rgb) == width * height * 3
    raw = b"".join(b"\0" + rgb[y * width * 3:(y + 1) * width * 3] for y in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def write_png(path, width, height, rgb):
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png_bytes(width, height, rgb))
    return path


def scaled_rgb(width, height, rgb, factor):
    """`rgb` scaled by an integer `factor` (each pixel repeated factor x factor times): a larger
    copy whose area average back to the original size is exact."""
    out = bytearray()
    for y in range(height):
        row = b"".join(rgb[(y * width + x) * 3:(y * width + x) * 3 + 3] * factor for x in range(width))
        out += row * factor
    return width * factor, height * factor, bytes(out)


def hamming(a, b):
    return bin(int(a, 16) ^ int(b, 16)).count("1")


def with_exif_orientation(jpeg, orientation):
    """`jpeg` with an EXIF APP1 segment holding only Orientation (1-8), after the JFIF APP0."""
    import struct as s
    assert jpeg[:2] == b"\xff\xd8"
    tiff = b"MM\x00*" + s.pack(">I", 8) + s.pack(">H", 1) + s.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + s.pack(">I", 0)
    payload = b"Exif\x00\x00" + tiff
    app1 = b"\xff\xe1" + s.pack(">H", len(payload) + 2) + payload
    at = 2
    if jpeg[2:4] == b"\xff\xe0":  # keep JFIF first
        at = 4 + s.unpack(">H", jpeg[4:6])[0]
    return jpeg[:at] + app1 + jpeg[at:]
