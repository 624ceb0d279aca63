"""Uploaded outlines read as text: .txt and .md as UTF-8, .docx through python-docx."""
from __future__ import annotations

import io
import unicodedata
import zipfile
from pathlib import Path

import docx  # python-docx; its XML parser does not resolve entities
from docx.table import Table

MAX_DOCUMENT_BYTES = 2 * 1024 * 1024
# A .docx is a zip: refuse archives that would inflate past this (zip bombs).
MAX_DOCX_UNPACKED_BYTES = 40 * 1024 * 1024
DOCUMENT_SUFFIXES = (".txt", ".md", ".docx")


class DocumentError(ValueError):
    """An uploaded outline that cannot be read (type, encoding, size, broken .docx)."""

def read_document(content: bytes, filename: str) -> str:
    """The text of an uploaded outline: .txt and .md as UTF-8 (a BOM is allowed), .docx
    through python-docx with paragraphs (and table rows, cells joined by ': ') one per
    line. Raises DocumentError for another type, text that is not UTF-8, a file over
    MAX_DOCUMENT_BYTES or a broken .docx. Nothing in the file is ever executed."""
    name = Path(filename or "").name
    suffix = Path(name).suffix.lower()
    if len(content) > MAX_DOCUMENT_BYTES:
        raise DocumentError(f"{name}: the file is larger than "
                            f"{MAX_DOCUMENT_BYTES // (1024 * 1024)} MB")
    if suffix in (".txt", ".md"):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DocumentError(f"{name}: not UTF-8 text (invalid byte at position {exc.start}); "
                                "save the file as UTF-8") from None
    elif suffix == ".docx":
        text = _read_docx(content, name)
    else:
        raise DocumentError(f"{name}: unsupported file type '{suffix or name}'; "
                            f"use {', '.join(DOCUMENT_SUFFIXES)}")
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    return text.replace("\x00", "")


def _read_docx(content: bytes, name: str) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_DOCX_UNPACKED_BYTES:
                raise DocumentError(f"{name}: the document unpacks to more than "
                                    f"{MAX_DOCX_UNPACKED_BYTES // (1024 * 1024)} MB")
            if "word/document.xml" not in archive.namelist():
                raise DocumentError(f"{name}: not a Word document (no word/document.xml)")
    except zipfile.BadZipFile:
        raise DocumentError(f"{name}: not a .docx file (not a zip archive)") from None
    try:
        document = docx.Document(io.BytesIO(content))
        lines: list[str] = []
        numbered = 0
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                for row in block.rows:
                    cells = [c.text.strip() for c in row.cells]
                    # merged cells repeat their text; keep one copy
                    unique = [c for i, c in enumerate(cells) if c and c not in cells[:i]]
                    if unique:
                        lines.append(": ".join(unique))
                lines.append("")
                continue
            text = block.text.strip()
            style = (block.style.name if block.style is not None else "") or ""
            # Word's automatic numbering is not part of the paragraph text: give list
            # paragraphs the markers a typed outline would have.
            if style.startswith("List Bullet") and text:
                text = "- " + text
            elif (style.startswith("List Number") or _has_numbering(block)) and text:
                numbered += 1
                text = f"({numbered}) {text}"
            if not style.startswith("List Number") and not _has_numbering(block):
                numbered = 0
            lines.append(text)
        return "\n".join(lines)
    except DocumentError:
        raise
    except Exception as exc:  # python-docx/lxml raise many types for a broken file
        raise DocumentError(f"{name}: cannot read the Word document ({exc.__class__.__name__})") from None


def _has_numbering(paragraph) -> bool:
    ppr = paragraph._p.pPr
    return ppr is not None and ppr.numPr is not None and not paragraph.style.name.startswith("List Bullet")

