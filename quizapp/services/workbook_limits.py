"""What an uploaded .xlsx will cost, measured before openpyxl reads it (the roster import
and the bank's Excel import share it).

openpyxl reads every sheet once when it opens a workbook in normal mode and spends tens
of microseconds on each cell, wherever the cell is; a few kilobytes of zip can declare
gigabytes. So the zip's directory is checked first (number of members, declared unpacked
size: Python's zipfile never inflates a member past the size its directory declares, so
the declared sizes bound the reading below), then the rows, cells and shared strings are
counted in the raw XML of the worksheets, an upper bound (markup inside comments counts
too), at C speed.
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

_CELL_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c[\s/>]")
_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s/>]")
_SHARED_STRING_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?si[\s/>]")
# Errors a damaged or hostile zip raises while its directory or a member is read.
ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError,
              NotImplementedError, KeyError)


class NotAWorkbook(Exception):
    """The content is not a readable zip (so not an .xlsx)."""


@dataclass(frozen=True)
class WorkbookSize:
    members: int
    unpacked_bytes: int
    rows: int = 0       # in all worksheets (0 when the directory was already too large)
    cells: int = 0
    shared_strings: int = 0
    counted: bool = False

    def too_large(self, max_members: int, max_unpacked_bytes: int) -> bool:
        return self.members > max_members or self.unpacked_bytes > max_unpacked_bytes


def measure(content: bytes, max_members: int, max_unpacked_bytes: int) -> WorkbookSize:
    """The size of a workbook. The worksheets are read and counted only when the zip's
    directory is within `max_members` and `max_unpacked_bytes` (otherwise `counted` is
    False and the caller refuses the file). Raises NotAWorkbook for a damaged zip."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
            unpacked = sum(m.file_size for m in members)
            if len(members) > max_members or unpacked > max_unpacked_bytes:
                return WorkbookSize(len(members), unpacked)
            cells = strings = rows = 0
            for member in members:
                name = member.filename.lower()
                if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                    xml = archive.read(member)
                    cells += len(_CELL_TAG.findall(xml))
                    rows += len(_ROW_TAG.findall(xml))
                elif name == "xl/sharedstrings.xml":
                    strings += len(_SHARED_STRING_TAG.findall(archive.read(member)))
    except ZIP_ERRORS as exc:
        raise NotAWorkbook(str(exc)) from None
    return WorkbookSize(len(members), unpacked, rows, cells, strings, counted=True)
