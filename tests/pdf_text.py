"""Reading PDFs back as a person's tools would: their text page by page (pdftotext) and their page sizes
(pdfinfo), from Debian's poppler-utils, which make test installs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is needed (Debian package poppler-utils): make test installs it")
    return found


def pages_text(path: Path) -> list[str]:
    """The text of each page (pdftotext ends each page with a form feed)."""
    text = subprocess.run([_tool("pdftotext"), str(path), "-"], check=True, capture_output=True).stdout.decode()
    return text.split("\f")[:-1]


def page_sizes(path: Path) -> list[str]:
    """Each page's size as pdfinfo says it: `595.276 x 841.89 pts (A4)`, the width first."""
    info = subprocess.run([_tool("pdfinfo"), "-f", "1", "-l", "999", str(path)], check=True, capture_output=True)
    lines = info.stdout.decode().splitlines()
    return [line.split(":", 1)[1].strip() for line in lines if line.startswith("Page ") and " size:" in line]


def is_landscape(size: str) -> bool:
    width, _, height = size.split()[:3]
    return float(width) > float(height)
