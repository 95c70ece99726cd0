"""Just enough PNG to check Teams icons without an imaging library: size, colour type and RGBA pixels.

Teams wants `color.png` 192×192 and `outline.png` 32×32, white on a transparent background. Reading the pixels
ourselves (zlib + the five PNG row filters) keeps Pillow out of the runtime and the test dependencies.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}  # greyscale, RGB, grey+alpha, RGBA (palette images are not read)


class PngError(ValueError):
    """Not a PNG this reader understands; the message says why."""


@dataclass(frozen=True)
class Png:
    width: int
    height: int
    bit_depth: int
    color_type: int
    pixels: tuple[tuple[int, int, int, int], ...]  # RGBA, row by row

    @property
    def has_alpha(self) -> bool:
        return self.color_type in (4, 6)


def read_png(data: bytes) -> Png:
    if data[:8] != SIGNATURE:
        raise PngError("not a PNG file (bad signature)")
    pos, ihdr, idat = 8, None, bytearray()
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if zlib.crc32(kind + body) & 0xFFFFFFFF != struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])[0]:
            raise PngError(f"corrupt {kind.decode('latin-1')} chunk (CRC mismatch)")
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
        pos += 12 + length
    if ihdr is None:
        raise PngError("no IHDR chunk")
    width, height, depth, ctype, _comp, _filter, interlace = ihdr
    if ctype not in _CHANNELS:
        raise PngError(f"colour type {ctype} (palette) is not supported here: save the icon as RGBA")
    if depth != 8 or interlace:
        raise PngError("only 8-bit, non-interlaced PNGs are read here: save the icon as 8-bit RGBA")
    bpp = _CHANNELS[ctype]
    raw = zlib.decompress(bytes(idat))
    stride = width * bpp
    if len(raw) != height * (stride + 1):
        raise PngError("image data does not match the header's size")
    rows, prev = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        ftype, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        _unfilter(ftype, line, prev, bpp)
        rows.append(line)
        prev = line
    pixels = []
    for line in rows:
        for x in range(width):
            px = line[x * bpp : (x + 1) * bpp]
            if ctype == 6:
                pixels.append((px[0], px[1], px[2], px[3]))
            elif ctype == 2:
                pixels.append((px[0], px[1], px[2], 255))
            elif ctype == 4:
                pixels.append((px[0], px[0], px[0], px[1]))
            else:
                pixels.append((px[0], px[0], px[0], 255))
    return Png(width, height, depth, ctype, tuple(pixels))


def _unfilter(ftype: int, line: bytearray, prev: bytearray, bpp: int) -> None:
    for i in range(len(line)):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if ftype == 0:
            continue
        if ftype == 1:
            line[i] = (line[i] + a) & 0xFF
        elif ftype == 2:
            line[i] = (line[i] + b) & 0xFF
        elif ftype == 3:
            line[i] = (line[i] + ((a + b) >> 1)) & 0xFF
        elif ftype == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            line[i] = (line[i] + pred) & 0xFF
        else:
            raise PngError(f"unknown PNG row filter {ftype}")


def write_png(width: int, height: int, pixels: list[tuple[int, int, int, int]]) -> bytes:
    """An 8-bit RGBA PNG (filter 0 on every row): used by tests to make bad icons."""
    raw = bytearray()
    for y in range(height):
        raw.append(0)
        for r, g, b, a in pixels[y * width : (y + 1) * width]:
            raw += bytes((r, g, b, a))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    return (
        SIGNATURE
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(bytes(raw)))
        + chunk(b"IEND", b"")
    )
