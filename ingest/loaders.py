"""Read article files into text, rejecting what isn't readable text.

The text returned is what citations point into: character offsets and line
numbers of a citation refer to this decoded text, which for ``.txt`` and
``.md`` is the file itself.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from rag.errors import FileRejected

SUPPORTED = {".txt", ".md", ".markdown", ".html", ".htm", ".pdf"}
MAX_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Document:
    """A readable article: its name (as cited), its text and the encoding used."""

    name: str
    text: str
    encoding: str


def load(path: Path, name: str | None = None) -> Document:
    """Load one file.

    Raises:
        FileRejected: The file is empty, binary, too large, undecodable or of
            an unsupported type; the message names the file and the reason.
    """
    name = name or path.name
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        msg = f"{name}: unsupported file type '{suffix or '(none)'}' (supported: {', '.join(sorted(SUPPORTED))})"
        raise FileRejected(msg)
    size = path.stat().st_size
    if size == 0:
        msg = f"{name}: the file is empty"
        raise FileRejected(msg)
    if size > MAX_BYTES:
        msg = f"{name}: the file is {size / 1e6:.0f} MB; files over {MAX_BYTES // 1_000_000} MB are not ingested"
        raise FileRejected(msg)
    data = path.read_bytes()
    if suffix == ".pdf":
        text, encoding = _pdf_text(data, name), "pdf"
    else:
        text, encoding = decode(data, name)
        if suffix in {".html", ".htm"}:
            text = html_to_text(text)
    if not text.strip():
        msg = f"{name}: the file has no text"
        raise FileRejected(msg)
    return Document(name=name, text=text, encoding=encoding)


def decode(data: bytes, name: str) -> tuple[str, str]:
    """Decode bytes as UTF-8, else as the detected legacy encoding.

    Binary data (NUL bytes, or mostly control characters) is rejected rather
    than decoded into garbage.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\x00" in data[:8192]:
        msg = f"{name}: looks binary (contains NUL bytes), not text"
        raise FileRejected(msg)
    try:
        return _check_text(data.decode("utf-8"), name), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        msg = f"{name}: can't be decoded as text (not UTF-8 and no known encoding fits); save it as UTF-8"
        raise FileRejected(msg)
    encoding = best.encoding
    # Western European text that isn't UTF-8 is almost always cp1252/latin-1;
    # charset detectors often misname it on short German texts.
    for candidate in ("cp1252", "latin-1"):
        try:
            text = data.decode(candidate)
        except UnicodeDecodeError:
            continue
        if _looks_western(text):
            return _check_text(text, name), candidate
    return _check_text(str(best), name), encoding


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _check_text(text: str, name: str) -> str:
    sample = text[:20000]
    if sample and len(_CONTROL.findall(sample)) > max(8, len(sample) // 100):
        msg = f"{name}: looks binary (many control characters), not text"
        raise FileRejected(msg)
    return text


def _looks_western(text: str) -> bool:
    letters = sum(ch.isalpha() for ch in text)
    odd = sum(1 for ch in text if ord(ch) > 0x17F and ch not in "€‚„…†‡ˆ‰‹‘’“”•–—˜™›")
    return letters > 0 and odd / max(letters, 1) < 0.01


class _TextExtractor(HTMLParser):
    SKIP = {"script", "style", "noscript", "template", "head"}
    BLOCK = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section", "article", "blockquote"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in self.SKIP:
            self._skip += 1
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Visible text of an HTML page; scripts and styles are dropped, never run."""
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    text = html.unescape("".join(parser.parts))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line).strip() + "\n"


def _pdf_text(data: bytes, name: str) -> str:
    import io

    try:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except Exception as e:  # pypdf raises many types on damaged files
        msg = f"{name}: can't read the PDF ({type(e).__name__}: {e})"
        raise FileRejected(msg) from None
    return "\n".join(pages)
