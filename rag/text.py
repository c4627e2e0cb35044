"""Text normalisation and tokens shared by keyword search, answers and eval."""

from __future__ import annotations

import functools
import re
import unicodedata

_HYPHENS = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u00ad"), "-")
_SPACES = dict.fromkeys(map(ord, "\u00a0\u2007\u202f\u2009\u200a\u2002\u2003\u205f\u3000"), " ")
_TOKEN = re.compile(r"\w+", re.UNICODE)

STOPWORDS = frozenset(
    """
    a an and are as at be been but by can could did do does for from had has have how i if in into is it its
    many much of on or that the their there these this to was were what when where which who whom why will
    with would you your about than then they them he she his her we our also not no yes so such more most
    der die das den dem des ein eine einen einem einer eines und oder aber ist sind war waren wird werden
    wurde wurden hat haben hatte mit von vom zu zur zum im in am an auf aus bei für über unter nach vor
    wie was wer wen wem wann wo warum welche welcher welches sich es er sie wir ihr ich du nicht auch noch
    nur als dass daß so sehr mehr um durch bis gegen ohne sein seine ihre ihren ihrem dieser diese dieses
    man kann können soll sollen viel viele wieviel
    """.split()
)


def normalize(text: str) -> str:
    """Lower-case, NFKC, typographic hyphens and spaces made plain, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text).translate(_HYPHENS).translate(_SPACES)
    return " ".join(text.lower().split())


@functools.lru_cache(maxsize=200_000)
def fold(text: str) -> str:
    """``normalize`` plus umlauts and accents folded (ä -> a), for matching words."""
    text = normalize(text).replace("ß", "ss")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def cognate(folded: str) -> str:
    """English and German spellings of one folded word aligned ("california" ~ "kalifornien",
    "creativity" ~ "kreativität"), letter for letter, so positions stay the same."""
    return folded.translate(_COGNATE)


_COGNATE = str.maketrans("cy", "ki")

_STEMMER = None


@functools.lru_cache(maxsize=500_000)
def stem(token: str) -> str:
    """The Snowball (German) stem of a folded token; it also joins most English inflections."""
    global _STEMMER
    if token.isdigit() or len(token) <= 3:
        return token
    if _STEMMER is None:
        import Stemmer  # lazy: the C extension loads on the first stem, not on `import rag`

        _STEMMER = Stemmer.Stemmer("german")
    return _STEMMER.stemWord(token)


def words_and_terms(text: str) -> list[tuple[str, str]]:
    """``(folded word, term)`` pairs; the term is the stemmed form keyword search uses."""
    out = []
    for tok in _TOKEN.findall(fold(text).replace("-", " ")):
        if tok in STOPWORDS or (len(tok) < 2 and not tok.isdigit()):
            continue
        out.append((tok, stem(tok)))
    return out


def terms(text: str) -> list[str]:
    """Keyword terms: folded words without stopwords, stemmed; hyphenated compounds also split."""
    return [t for _, t in words_and_terms(text)]


_TABLE_RULE = re.compile(r"^\|?[\s:|-]+\|?$")
_LIST_MARK = re.compile(r"^\s*(?:[-•*·▪]|\d{1,2}[.)])\s+")


def for_embedding(text: str) -> str:
    """Text as the embedding model should see it: table pipes and list marks removed.

    Only the vectors see this; quotes and offsets always use the original text.
    """
    lines = []
    for line in text.splitlines():
        if _TABLE_RULE.match(line.strip()):
            continue
        line = _LIST_MARK.sub("", line)
        if "|" in line:
            line = "; ".join(cell.strip() for cell in line.strip().strip("|").split("|") if cell.strip())
        lines.append(line)
    return "\n".join(lines).strip() or text


def contains(haystack: str, needle: str) -> bool:
    """Case- and typography-insensitive substring test, as the eval compares. A needle of up
    to four characters must start a word: "ten" is not in "ersten", "no" not in
    "technologischer"; "zehn" is in "zehnmonatige"."""
    needle, haystack = normalize(needle), normalize(haystack)
    if len(needle) <= SHORT_NEEDLE:
        return re.search(rf"(?<!\w){re.escape(needle)}", haystack) is not None
    return needle in haystack


SHORT_NEEDLE = 4
