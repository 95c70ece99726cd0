"""Opening and saving python-docx documents so that their memory is given back as soon as they are done with.

A python-docx document is a web of reference cycles (the package and its parts point at each other through their
relationships; the document and its body too), so it is freed only by Python's cyclic garbage collector. That
collector sees about a hundred small Python objects per document and cannot see what they hold: the parsed XML of
every part (libxml2's memory, outside Python's heap) and the template's zip blobs, some 4–5 MB a document. A full
collection is rare in a long-running process, so a burst of group records kept dozens of dead documents, tens of
megabytes, alive at once (bench/load.py; bench/README.md "Load"). `release` cuts the cycles once a document is
finished with, and plain reference counting frees it at once.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager


def release(doc) -> None:
    """Cut the reference cycles of a python-docx document so its XML is freed now. The document (and every part of
    it) cannot be used afterwards; what was read from it (strings, numbers) is unaffected."""
    package = doc.part.package
    for part in list(package.iter_parts()):
        vars(part).clear()
    vars(package).clear()
    vars(doc).clear()


def save(doc) -> bytes:
    """The document as .docx bytes; the document is released (`release`) once written."""
    buf = io.BytesIO()
    doc.save(buf)
    release(doc)
    return buf.getvalue()


@contextmanager
def opened(content: bytes) -> Iterator:
    """A .docx read from bytes, released when the block ends (however it ends)."""
    from docx import Document

    doc = Document(io.BytesIO(content))
    try:
        yield doc
    finally:
        release(doc)
