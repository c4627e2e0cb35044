"""What an article says about itself: title, outlet, author and publication date.

Read from the places articles state them: labelled lines ("Veröffentlicht am:",
"Autor:", "By …", "Quelle: … | Outlet"), a date standing alone in the first
lines, Markdown front matter or a heading, and HTML ``<title>`` and meta tags.
Each field is optional; nothing is guessed from outside the file.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from html.parser import HTMLParser

from rag.text import STOPWORDS

HEAD_LINES = 12
MAX_TITLE_CHARS = 110

MONTHS = {  # month names and abbreviations, German and English -> 1..12
    "januar": 1, "jänner": 1, "january": 1, "jan": 1, "februar": 2, "february": 2, "feb": 2,
    "märz": 3, "maerz": 3, "march": 3, "mar": 3, "april": 4, "apr": 4, "mai": 5, "may": 5,
    "juni": 6, "june": 6, "jun": 6, "juli": 7, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9, "oktober": 10, "october": 10, "oct": 10, "okt": 10,
    "november": 11, "nov": 11, "dezember": 12, "december": 12, "dec": 12, "dez": 12,
}
_MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
DATE = re.compile(
    rf"\b(?P<d1>[0-3]?\d)\.\s?(?P<mname>{_MONTH_NAMES})\.?\s+(?P<y1>(?:19|20)\d\d)\b"
    rf"|\b(?P<mname2>{_MONTH_NAMES})\.?\s+(?P<d2>[0-3]?\d)(?:st|nd|rd|th)?,?\s+(?P<y2>(?:19|20)\d\d)\b"
    r"|\b(?P<d3>[0-3]?\d)[./](?P<m3>[01]?\d)[./](?P<y3>(?:19|20)\d\d)"
    r"|\b(?P<y4>(?:19|20)\d\d)-(?P<m4>[01]\d)-(?P<d4>[0-3]\d)(?!\d)",
    re.IGNORECASE,
)
_DATE_LABEL = re.compile(r"^\s*(veröffentlicht|publiziert|erschienen|published|posted|datum|date|stand)\b[^:\n]{0,20}:?", re.I)
_AUTHOR_LABEL = re.compile(r"^\s*(autor(?:in)?|author|verfasst von|text|von|by)\s*:?\s+(?P<rest>.+)$", re.I)
_SOURCE_LABEL = re.compile(r"^\s*(quelle|source|via)\s*:\s*(?P<rest>.*)$", re.I)
_CAPTION = re.compile(r"\b(bild|foto|photo|image|credit|grafik)\s*:", re.I)
_NAME = re.compile(r"^[A-ZÄÖÜ][\w'’.-]+(?:\s+[A-ZÄÖÜ][\w'’.-]+){0,3}$")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class ArticleMeta:
    """Fields an article states about itself; empty when it doesn't."""

    title: str = ""
    outlet: str = ""
    author: str = ""
    published: str = ""
    """ISO date, ``2025-07-18``."""

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def iso_date(text: str) -> str:
    """The first date in ``text`` as ``YYYY-MM-DD``, or ``""``."""
    for m in DATE.finditer(text):
        g = m.groupdict()
        if g["y1"]:
            y, mo, d = g["y1"], MONTHS[g["mname"].lower()], g["d1"]
        elif g["y2"]:
            y, mo, d = g["y2"], MONTHS[g["mname2"].lower()], g["d2"]
        elif g["y3"]:
            y, mo, d = g["y3"], int(g["m3"]), g["d3"]
        else:
            y, mo, d = g["y4"], int(g["m4"]), g["d4"]
        if 1 <= int(mo) <= 12 and 1 <= int(d) <= 31:
            return f"{int(y):04d}-{int(mo):02d}-{int(d):02d}"
    return ""


def extract(text: str, markup: str | None = None) -> ArticleMeta:
    """The metadata ``text`` states (``markup``: the raw HTML, for its head)."""
    head = _html_head(markup) if markup else {}
    front, body = _front_matter(text)
    lines = [line.strip() for line in body.splitlines()]
    title = head.get("title") or front.get("title") or ""
    outlet = head.get("outlet") or front.get("outlet") or ""
    author = head.get("author") or front.get("author") or ""
    published = iso_date(head.get("date") or front.get("date") or "")

    first = [line for line in lines if line][:HEAD_LINES]
    for line in first:
        if _DATE_LABEL.match(line) and iso_date(line):
            published = published or iso_date(line)
            continue
        m = _AUTHOR_LABEL.match(line)
        if m and len(line) < 120 and _looks_like_byline(m.group("rest")):
            name, _, rest = m.group("rest").partition(",")
            author = author or name.strip()
            outlet = outlet or rest.strip().split(",")[0].strip()
    # Trailing "Quelle: <title> | Outlet" (the original an article retells).
    for i, line in enumerate(lines):
        m = _SOURCE_LABEL.match(line)
        if not m:
            continue
        rest = m.group("rest") or next((x for x in lines[i + 1 : i + 4] if x), "")
        if "|" in rest and not outlet:
            outlet = rest.rsplit("|", 1)[1].strip()
    found_title, found_date = _title_and_date(first, body)
    return ArticleMeta(
        title=_shorten(title or found_title),
        outlet=outlet[:60],
        author=author[:80],
        published=published or found_date,
    )


def _title_and_date(first: list[str], body: str) -> tuple[str, str]:
    """The title line (or first clause) and a date standing alone among the first lines.

    A heading that isn't about the article (a teaser of another one) is
    skipped, and so is the date printed under it.
    """
    title = date = ""
    after_teaser = False
    for line in first:
        if _CAPTION.search(line) or _AUTHOR_LABEL.match(line) or _DATE_LABEL.match(line):
            continue
        if _is_date_line(line):
            if not after_teaser and not date:
                date = iso_date(line)
            after_teaser = False
            if title or not _strip_leading_date(line) or len(line.split()) <= 4:
                continue
            line = _strip_leading_date(line)
        elif not date and (m := DATE.match(line)):
            date = iso_date(m.group(0))  # a dateline run into the article's first sentence
        after_teaser = False
        if title:
            continue
        if _is_heading(line):
            if not _on_topic(line, _topic_words(body.replace(line, " "))):
                after_teaser = True
                continue
            if len(_WORD.findall(line)) >= 4:
                title = line.lstrip("#").strip()
            continue
        title = _first_clause(_strip_leading_date(line))
    return title, date


def _is_heading(line: str) -> bool:
    if line.startswith("#"):
        return True
    words = len(line.split())
    return 0 < words <= 14 and not re.search(r"[.!?:;,]$", line) and len(line) <= 140


def _is_date_line(line: str) -> bool:
    m = DATE.search(line)
    return bool(m) and m.start() <= 2 and len(re.findall(r"[^\W\d_]{2,}", DATE.sub(" ", line))) <= 3


def _strip_leading_date(line: str) -> str:
    m = DATE.match(line)
    return line[m.end() :].lstrip(" ,–-") if m else line


def _first_clause(line: str) -> str:
    m = re.search(r"[.!?:](\s|$)", line)
    sentence = line[: m.start()] if m else line
    if len(sentence) > MAX_TITLE_CHARS and "," in sentence[:MAX_TITLE_CHARS]:
        sentence = sentence[: sentence.rindex(",", 0, MAX_TITLE_CHARS)]
    return sentence


def _shorten(title: str) -> str:
    title = " ".join(title.split()).strip(" -–|")
    if len(title) <= MAX_TITLE_CHARS:
        return title
    return title[: title.rfind(" ", 0, MAX_TITLE_CHARS)].rstrip(",;:") + " …"


def _topic_words(text: str) -> set[str]:
    """Words used three or more times: what the article is about."""
    counts: dict[str, int] = {}
    for w in _WORD.findall(text.lower()):
        if len(w) > 3:
            counts[w] = counts.get(w, 0) + 1
    return {w for w, c in counts.items() if c >= 3}


def _on_topic(line: str, topic: set[str]) -> bool:
    return not topic or any(w in topic for w in _WORD.findall(line.lower()) if len(w) > 3 and w not in STOPWORDS)


def _looks_like_byline(rest: str) -> bool:
    name = rest.split(",")[0].strip()
    return bool(_NAME.match(name)) and len(name.split()) <= 4


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    """YAML-style ``key: value`` front matter between ``---`` lines, and the text after it."""
    if not text.startswith("---"):
        return {}, text
    end = text.find("\n---", 3)
    if end < 0:
        return {}, text
    fields: dict[str, str] = {}
    aliases = {"site": "outlet", "source": "outlet", "publication": "outlet", "publisher": "outlet",
               "by": "author", "authors": "author", "published": "date", "pubdate": "date"}
    for line in text[3:end].splitlines():
        key, sep, value = line.partition(":")
        if sep:
            key = key.strip().lower()
            fields[aliases.get(key, key)] = value.strip().strip("\"'")
    return fields, text[end + 4 :]


class _HeadParser(HTMLParser):
    FIELDS = {
        "og:title": "title", "twitter:title": "title",
        "og:site_name": "outlet", "application-name": "outlet", "publisher": "outlet",
        "author": "author", "article:author": "author", "dc.creator": "author",
        "article:published_time": "date", "date": "date", "dc.date": "date", "pubdate": "date",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: dict[str, str] = {}
        self._in_title = False
        self._title: list[str] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "title":
            self._in_title = True
        elif tag == "meta":
            key = (a.get("property") or a.get("name") or "").lower()
            field = self.FIELDS.get(key)
            if field and a.get("content") and field not in self.found:
                self.found[field] = a["content"].strip()

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self._title.append(data)


def _html_head(markup: str) -> dict[str, str]:
    parser = _HeadParser()
    try:
        parser.feed(markup[:200_000])
        parser.close()
    except Exception:  # noqa: BLE001 - a broken head only means no metadata from it
        return {}
    found = dict(parser.found)
    title = " ".join("".join(parser._title).split())
    if title and "title" not in found:
        found["title"] = title
    return found
