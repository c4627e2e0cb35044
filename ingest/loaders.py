"""Read article files into text, rejecting what isn't readable text.

The text returned is what citations point into: character offsets and line
numbers of a citation refer to this decoded text, which for ``.txt`` and
``.md`` is the file itself.
"""

from __future__ import annotations

import codecs
import html
import io
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from ingest.metadata import ArticleMeta, extract
from rag.errors import FileRejected

SUPPORTED = {".txt", ".md", ".markdown", ".html", ".htm", ".pdf"}
MAX_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Document:
    """A readable article: its name (as cited), its text and the encoding used."""

    name: str
    text: str
    encoding: str
    meta: ArticleMeta = ArticleMeta()


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
    if not path.is_file():  # a FIFO or device named .txt would block or never end
        msg = f"{name}: not a regular file"
        raise FileRejected(msg)
    size = path.stat().st_size
    if size == 0:
        msg = f"{name}: the file is empty"
        raise FileRejected(msg)
    if size > MAX_BYTES:
        msg = f"{name}: the file is {size / 1e6:.0f} MB; files over {MAX_BYTES // 1_000_000} MB are not ingested"
        raise FileRejected(msg)
    with path.open("rb") as fh:  # the file may grow after stat(): never read past the limit
        data = fh.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        msg = f"{name}: the file grew past {MAX_BYTES // 1_000_000} MB while being read; it is not ingested"
        raise FileRejected(msg)
    markup = None
    if suffix == ".pdf":
        text, encoding = _pdf_text(data, name), "pdf"
    else:
        text, encoding = decode(data, name)
        if suffix in {".html", ".htm"}:
            markup, text = text, html_to_text(text)
    if not text.strip():
        msg = f"{name}: the file has no text"
        raise FileRejected(msg)
    return Document(name=name, text=text, encoding=encoding, meta=extract(text, markup))


# Byte-order marks, longest first: a UTF-32-LE mark begins with the UTF-16-LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)


def decode(data: bytes, name: str) -> tuple[str, str]:
    """Decode bytes: by their byte-order mark, else UTF-8, else Western European, else detected.

    Binary data (NUL bytes, or mostly control characters) is rejected rather
    than decoded into garbage. The text returned never contains the BOM.
    """
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:
                msg = f"{name}: starts with a {label} byte-order mark but isn't valid {label}; save it as UTF-8"
                raise FileRejected(msg) from None
            return _check_text(text.removeprefix("\ufeff"), name), label.lower()
    # Without a BOM, NUL bytes anywhere mean binary: no text encoding in use here produces them.
    if b"\x00" in data:
        msg = f"{name}: looks binary (contains NUL bytes), not text"
        raise FileRejected(msg)
    try:
        return _check_text(data.decode("utf-8"), name), "utf-8"
    except UnicodeDecodeError:
        pass
    # Western European text that isn't UTF-8 is almost always cp1252/latin-1;
    # charset detectors often misname it on short German texts.
    for candidate in ("cp1252", "latin-1"):
        try:
            text = data.decode(candidate)
        except UnicodeDecodeError:
            continue
        if _looks_western(text):
            return _check_text(text, name), candidate
    from charset_normalizer import from_bytes  # lazy: only for files that aren't UTF-8 or cp1252

    best = from_bytes(data).best()
    if best is None:
        msg = f"{name}: can't be decoded as text (not UTF-8 and no known encoding fits); save it as UTF-8"
        raise FileRejected(msg)
    return _check_text(str(best), name), best.encoding


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_WORD = re.compile(r"[^\W\d_]+")
# Three accented Latin-1 letters in a row ("Ïðèâåò") is what Cyrillic, Greek or
# Hebrew text looks like when wrongly read as cp1252; no Western language does it.
_MOJIBAKE_RUN = re.compile(r"[\xc0-\xd6\xd8-\xf6\xf8-\xff]{3,}")


def _check_text(text: str, name: str) -> str:
    sample = text[:20000]
    if sample and len(_CONTROL.findall(sample)) > max(8, len(sample) // 100):
        msg = f"{name}: looks binary (many control characters), not text"
        raise FileRejected(msg)
    return text


def _looks_western(text: str) -> bool:
    letters = sum(ch.isalpha() for ch in text)
    odd = sum(1 for ch in text if ord(ch) > 0x17F and ch not in "€‚„…†‡ˆ‰‹‘’“”•–—˜™›")
    if letters == 0 or odd / letters >= 0.01:
        return False
    words = len(_WORD.findall(text))
    return len(_MOJIBAKE_RUN.findall(text)) <= 0.05 * words


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
    try:  # lazy: pypdf only for PDF files
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except Exception as e:  # pypdf raises many types on damaged files
        msg = f"{name}: can't read the PDF ({type(e).__name__}: {e})"
        raise FileRejected(msg) from None
    return "\n".join(pages)
