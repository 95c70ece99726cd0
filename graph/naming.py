"""File naming rules shared by both backends: safe names, "… (2).docx" on a clash, and QuickXorHash.

QuickXorHash is the content hash SharePoint and OneDrive for Business report for every file; comparing it lets
an upload that hits "name already exists" tell "an earlier attempt of ours got through" (same bytes: reuse it)
from "a different file has this name" (pick the next name).
"""

from __future__ import annotations

import base64
import re

MAX_RENAMES = 99
# Characters SharePoint / OneDrive refuse in names, plus control characters.
_FORBIDDEN = re.compile(r'["*:<>?/\\|#%\x00-\x1f]')
_SPACES = re.compile(r"\s+")
_RESERVED = (
    {"con", "prn", "aux", "nul", "desktop.ini", ".lock", "_vti_"}
    | {f"com{i}" for i in range(10)}
    | {f"lpt{i}" for i in range(10)}
)


def safe_name(name: str, *, max_len: int = 200) -> str:
    """A file or folder name SharePoint accepts: no forbidden characters, no leading/trailing dots or spaces."""
    n = _SPACES.sub(" ", _FORBIDDEN.sub("-", name or "")).strip(" .")
    if not n or n.lower() in _RESERVED or n.startswith("~$"):
        n = f"file-{n.strip('~$') or 'unnamed'}"
    if len(n) > max_len:
        stem, dot, ext = n.rpartition(".")
        n = (stem[: max_len - len(ext) - 1] + "." + ext) if dot and len(ext) <= 10 else n[:max_len]
    return n


def safe_path(path: str | None) -> list[str]:
    """A subfolder path as safe segments ("a/b" → ["a", "b"]); "..", "." and empty segments are dropped."""
    if not path:
        return []
    return [safe_name(p) for p in re.split(r"[/\\]+", path) if p.strip(" .")]


def numbered(name: str, n: int) -> str:
    """ "Record.docx", 2 → "Record (2).docx"; a name without an extension gets the number at the end."""
    if n <= 1:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        return f"{name} ({n})"
    return f"{stem} ({n}).{ext}"


def candidates(name: str, limit: int = MAX_RENAMES):
    """The names to try in order: the name itself, then "… (2)", "… (3)" …"""
    for n in range(1, limit + 1):
        yield numbered(name, n)


def quickxor_hash(data: bytes) -> str:
    """Microsoft's QuickXorHash, base64: bytes XOR-ed into a 160-bit value, each shifted 11 bits further
    (circularly) than the last, then the length XOR-ed into the last 64 bits (little-endian)."""
    width = 160
    # Fold the input into 160 lanes first (lane k = XOR of every byte at a position ≡ k mod 160): a byte's
    # shift depends only on its position mod 160, so this is exact, and it keeps the Python loop short.
    lanes = bytearray(width)
    view = memoryview(data)
    block = width * 512
    for off in range(0, len(data), block):
        chunk = view[off : off + block]
        acc = 0
        for i in range(0, len(chunk), width):
            part = bytes(chunk[i : i + width])
            acc ^= int.from_bytes(part.ljust(width, b"\0"), "little")
        folded = acc.to_bytes(width, "little")
        # lane k of this block is at byte k because block offsets are multiples of 160.
        for k in range(width):
            lanes[k] ^= folded[k]
    mask = (1 << width) - 1
    h = 0
    for k, b in enumerate(lanes):
        if b:
            s = (k * 11) % width
            h ^= ((b << s) | (b >> (width - s))) & mask
    out = bytearray(h.to_bytes(20, "little"))
    for i, lb in enumerate(len(data).to_bytes(8, "little")):
        out[12 + i] ^= lb
    return base64.b64encode(bytes(out)).decode()
