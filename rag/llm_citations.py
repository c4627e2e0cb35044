"""Checking an LLM's draft against the passages it was given.

A draft is split into sentences, each with the ``[n]`` markers written after it.
Markers pointing outside the given passages are dropped (the sentence then
counts as uncited). Each remaining marker is kept only if its passage supports
the sentence: every number in the sentence must occur in the passage (digits or
number words, English or German), most of its names must too, and a score
mixing cross-lingual embedding similarity with word overlap must pass a
threshold. Sentences left with no supporting passage are removed, except that
an uncited sentence strongly supported by one passage is kept and cited to it.
The quote for a kept marker is the passage sentence that supports the claim
best.

Everything here is pure: the embedding function and the sentence splitter are
passed in, so the rules can be tested with small fakes.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rag.text import terms
from rag.types import Passage

EmbedFn = Callable[[list[str]], list[list[float]]]
SplitFn = Callable[[str], list[tuple[int, int]]]

# Calibrated on the bundled articles with multilingual USE (English claims vs German text).
SUPPORT_THRESHOLD = 0.30
UNCITED_MARGIN = 0.06
NAME_BONUS, NAME_BONUS_CAP = 0.06, 0.18
NUMBER_BONUS, NUMBER_BONUS_CAP = 0.06, 0.12
NAME_PENALTY, NAME_PENALTY_CAP = 0.10, 0.30
OVERLAP_WEIGHT = 0.35

_MARKER = re.compile(
    r"\s*[\[【]\s*(?:(?:passages?|quellen?|sources?|doc(?:ument)?s?)\s*)?"
    r"(\d{1,3}(?:\s*(?:,|;|-|–|and|und|&)\s*\d{1,3})*)\s*[\]】]",
    re.IGNORECASE,
)
_BULLET = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+")
_END = re.compile(r"[.!?…]+[\"'”“»«)\]]*")
_ABBREV = {
    "z",
    "b",
    "d",
    "h",
    "u",
    "a",
    "s",
    "e",
    "g",
    "i",
    "ca",
    "bzw",
    "dr",
    "mr",
    "mrs",
    "ms",
    "nr",
    "vs",
    "st",
    "mio",
    "mrd",
    "inkl",
    "ggf",
    "evtl",
    "usw",
    "co",
    "jr",
    "sr",
    "prof",
    "vgl",
}

_INSTRUCTIONS = re.compile(
    r"\b(?:ignore|disregard|forget|override|ignoriere|vergiss|missachte)\b.{0,60}"
    r"\b(?:instructions?|prompts?|rules|guidelines|anweisungen|regeln|vorgaben)\b"
    r"|\b(?:reply|respond|answer|output|antworte|gib)\b.{0,30}\b(?:only|nur|ausschließlich)\b"
    r"|\btell the user\b|\bsystem prompt\b|\byou are now\b|\bas an ai\b"
    r"|\bsag(?:e)? (?:dem|den) (?:nutzer|benutzer)|\bdu bist (?:jetzt|nun)\b",
    re.IGNORECASE,
)
MIN_CLAIM_TERMS = 2
_NUMBER_WORDS = {
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "hundred": 100,
    "thousand": 1000,
    "dozen": 12,
    "twice": 2,
    "double": 2,
    "zwei": 2,
    "drei": 3,
    "vier": 4,
    "fünf": 5,
    "sechs": 6,
    "sieben": 7,
    "acht": 8,
    "neun": 9,
    "zehn": 10,
    "elf": 11,
    "zwölf": 12,
    "fünfzehn": 15,
    "zwanzig": 20,
    "dreißig": 30,
    "vierzig": 40,
    "fünfzig": 50,
    "hundert": 100,
    "tausend": 1000,
    "doppelt": 2,
    "zweimal": 2,
}
_NUMBER_SUFFIXES = ("fach", "mal", "fold", "x")
_NAME_STOP = {
    "ai",
    "ki",
    "the",
    "a",
    "an",
    "in",
    "on",
    "at",
    "and",
    "but",
    "it",
    "its",
    "this",
    "that",
    "these",
    "according",
    "however",
    "also",
    "yes",
    "no",
    "der",
    "die",
    "das",
    "ein",
    "eine",
    "laut",
    "und",
    "aber",
    "auch",
    "ja",
    "nein",
    "netflix's",
    "he",
    "she",
    "they",
    "we",
    "mit",
    "im",
    "am",
    "es",
}


def looks_like_instructions(sentence: str) -> bool:
    """True for a passage sentence that addresses the model (a prompt injection).

    Such sentences stay in the prompt as data but never count as support.
    """
    return bool(_INSTRUCTIONS.search(sentence))


@dataclass
class Claim:
    """One sentence of the draft.

    Attributes:
        text: The sentence with its markers removed.
        markers: Passage numbers as written after it (1-based, in order, unique).
        line: Index of the draft line (paragraph or bullet) it came from.
        bullet: The bullet prefix of that line (``"-"``, ``"2."``), if any.
    """

    text: str
    markers: list[int]
    line: int = 0
    bullet: str = ""


@dataclass
class Support:
    """Evidence that passage ``index`` (0-based) supports a claim."""

    index: int
    score: float
    sentence: tuple[int, int]  # span in passage.text
    numbers_ok: bool = True
    supported: bool = False


@dataclass
class CheckedClaim:
    """A claim after checking: which citations it keeps and why others went."""

    claim: Claim
    kept: list[Support] = field(default_factory=list)
    invalid_markers: list[int] = field(default_factory=list)
    rejected_markers: list[int] = field(default_factory=list)
    auto_cited: bool = False

    @property
    def removed(self) -> bool:
        return not self.kept


@dataclass
class CheckResult:
    """The outcome of ``check_draft``."""

    claims: list[CheckedClaim]

    @property
    def kept(self) -> list[CheckedClaim]:
        return [c for c in self.claims if not c.removed]

    @property
    def removed(self) -> list[CheckedClaim]:
        return [c for c in self.claims if c.removed]

    @property
    def invalid_markers(self) -> list[int]:
        return [m for c in self.claims for m in c.invalid_markers]


@dataclass(frozen=True)
class CitedSpan:
    """A numbered citation to ``passages[index].text[start:end]``."""

    n: int
    index: int
    start: int
    end: int
    score: float


# -- parsing the draft ---------------------------------------------------------------


def parse_markers(text: str) -> list[int]:
    """Passage numbers in ``[n]``-style markers, in order, without repeats.

    Understands ``[1]``, ``[1, 3]``, ``[1-2]``, ``[Passage 2]`` and ``【1】``.
    """
    found: list[int] = []
    for m in _MARKER.finditer(text):
        body = m.group(1)
        for a, b in re.findall(r"(\d+)\s*[-–]\s*(\d+)", body):
            if int(a) <= int(b) <= int(a) + 10:
                body = body.replace(f"{a}-{b}", ",".join(map(str, range(int(a), int(b) + 1))))
                body = body.replace(f"{a}–{b}", ",".join(map(str, range(int(a), int(b) + 1))))
        for num in re.findall(r"\d+", body):
            if int(num) not in found:
                found.append(int(num))
    return found


def strip_markers(text: str) -> str:
    """``text`` without citation markers, whitespace tidied."""
    out = _MARKER.sub("", text)
    out = re.sub(r"\s+([.,;:!?…])", r"\1", out)
    return " ".join(out.split())


def split_claims(draft: str) -> list[Claim]:
    """Split a draft into sentences, each carrying the markers that follow it.

    A marker written after the full stop (``"… faster.[1] Next …"``) belongs to
    the sentence before it. Lines (paragraphs, bullets) always end a sentence.
    """
    claims: list[Claim] = []
    line_no = -1
    for raw_line in draft.splitlines():
        if not raw_line.strip():
            continue
        line_no += 1
        bullet_m = _BULLET.match(raw_line)
        bullet = bullet_m.group(0).strip() if bullet_m else ""
        line = raw_line[bullet_m.end() :] if bullet_m else raw_line
        for piece in _split_line(line):
            markers = parse_markers(piece)
            text = strip_markers(piece)
            if not re.search(r"\w", text):
                if claims and markers:
                    claims[-1].markers.extend(m for m in markers if m not in claims[-1].markers)
                continue
            claims.append(Claim(text=text, markers=markers, line=line_no, bullet=bullet))
    return claims


def _split_line(line: str) -> list[str]:
    pieces: list[str] = []
    start = 0
    for m in _END.finditer(line):
        end = m.end()
        trailing = _MARKER.match(line, end)
        while trailing:
            end = trailing.end()
            trailing = _MARKER.match(line, end)
        if end < len(line) and not line[end].isspace():
            continue
        word = re.search(r"(\w+)$", line[start : m.start()])
        if m.group(0).startswith(".") and len(m.group(0)) == 1 and word:
            w = word.group(1).lower()
            nxt = line[end:].lstrip()[:1]
            if w in _ABBREV or (w.isdigit() and nxt[:1].islower()):
                continue
        pieces.append(line[start:end])
        start = end
    if line[start:].strip():
        pieces.append(line[start:])
    return pieces


# -- lexical evidence ------------------------------------------------------------


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return text.replace("\u00ad", "").replace("‑", "-").replace("–", "-")


def _digit_values(token: str) -> set[float]:
    values: set[float] = set()
    plain = re.sub(r"[.,\u202f\u00a0 ']", "", token)
    if plain.isdigit():
        values.add(float(plain))
    seps = re.findall(r"[.,]", token)
    if len(seps) == 1:
        values.add(float(token.replace(",", ".")))
    return values


def number_values(text: str) -> list[set[float]]:
    """Each number in ``text`` as the set of values it may stand for.

    ``"11,08"`` may be 11.08 or 1108, ``"1.000"`` 1.0 or 1000; number words in
    English and German count too (``"ten times"``, ``"zehnmal"``). "One"/"ein"
    and ordinals are left out: they are too often not numbers.
    """
    folded = _fold(text)
    found: list[set[float]] = []
    for m in re.finditer(r"(?<![\w])\d+(?:[.,\u202f\u00a0]\d+)*", folded):
        values = _digit_values(m.group(0))
        if values:
            found.append(values)
    for word in re.findall(r"[a-zäöüß]+", folded):
        value = _NUMBER_WORDS.get(word)
        if value is None:
            for suffix in _NUMBER_SUFFIXES:
                if word.endswith(suffix) and word[: -len(suffix)] in _NUMBER_WORDS:
                    value = _NUMBER_WORDS[word[: -len(suffix)]]
                    break
        if value is not None:
            found.append({float(value)})
    return found


def names_in(sentence: str) -> list[str]:
    """Capitalised words and acronyms that a supporting passage should contain.

    The first word of the sentence counts only when it is an acronym or has an
    inner capital, so "The" and ordinary sentence starts are skipped.
    """
    names: list[str] = []
    words = re.findall(r"[\w][\w'’\-]*", sentence)
    for i, word in enumerate(words):
        core = word.strip("-'’")
        if len(core) < 3 or not core[0].isupper() or core.lower() in _NAME_STOP or core.isdigit():
            continue
        if core.endswith(("'s", "’s")):
            core = core[:-2]
        if i == 0 and not (core.isupper() or any(c.isupper() for c in core[1:])):
            continue
        if core not in names:
            names.append(core)
    return names


def _spelling(text: str) -> str:
    # English and German spell shared names differently: California/Kalifornien, Photo/Foto.
    return text.replace("ph", "f").replace("th", "t").replace("c", "k").replace("y", "i")


def _name_in(name: str, folded_text: str) -> bool:
    stem = _fold(name)
    stem = stem[: max(4, min(len(stem) - 1, 6))] if len(stem) > 4 else stem
    return stem in folded_text or _spelling(stem) in _spelling(folded_text)


def _content_stems(text: str) -> set[str]:
    return {t[:5] for t in terms(text) if len(t) >= 4 and not t.isdigit()}


# -- scoring ---------------------------------------------------------------------


def _normalize(vectors: list[list[float]]) -> list[list[float]]:
    out = []
    for v in vectors:
        norm = math.sqrt(sum(x * x for x in v)) or 1.0
        out.append([x / norm for x in v])
    return out


def _dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=False))


class SupportChecker:
    """Checks draft sentences against the passages they cite.

    Args:
        embed: Texts to vectors, e.g. ``embeddings.embed_documents``.
        split_sentences: Text to sentence spans, e.g.
            ``ingest.chunking.split_sentences``.
        threshold: Minimum support score for a cited passage.
    """

    def __init__(
        self, embed: EmbedFn, split_sentences: SplitFn, threshold: float = SUPPORT_THRESHOLD
    ) -> None:
        self.embed = embed
        self.split_sentences = split_sentences
        self.threshold = threshold

    def check(self, draft: str, passages: Sequence[Passage]) -> CheckResult:
        """Check every sentence of ``draft`` against ``passages`` (``[n]`` = ``passages[n-1]``).

        Returns:
            A ``CheckResult``; claims with no kept support are to be removed.
        """
        claims = split_claims(draft)
        if not claims or not passages:
            return CheckResult([CheckedClaim(c, invalid_markers=list(c.markers)) for c in claims])
        spans = [self._sentences(p.text) for p in passages]
        texts = [c.text for c in claims] + [
            p.text[s:e] for p, sp in zip(passages, spans, strict=True) for s, e in sp
        ]
        vectors = _normalize(self.embed(texts))
        claim_vecs = vectors[: len(claims)]
        sent_vecs: list[list[list[float]]] = []
        pos = len(claims)
        for sp in spans:
            sent_vecs.append(vectors[pos : pos + len(sp)])
            pos += len(sp)
        folded = [_fold(p.text) for p in passages]
        numbers = [set().union(*number_values(p.text)) if number_values(p.text) else set() for p in passages]

        results = []
        for claim, cvec in zip(claims, claim_vecs, strict=True):
            checked = CheckedClaim(claim)
            valid = []
            for m in claim.markers:
                (valid if 1 <= m <= len(passages) else checked.invalid_markers).append(m)
            scored = {
                i: self._support(
                    i, claim.text, cvec, passages[i], spans[i], sent_vecs[i], folded[i], numbers[i]
                )
                for i in range(len(passages))
            }
            if valid:
                for m in valid:
                    support = scored[m - 1]
                    if support.supported:
                        checked.kept.append(support)
                    else:
                        checked.rejected_markers.append(m)
            else:
                best = max(scored.values(), key=lambda s: s.score)
                if best.supported and best.score >= self.threshold + UNCITED_MARGIN:
                    checked.kept.append(best)
                    checked.auto_cited = True
            results.append(checked)
        return CheckResult(results)

    def _sentences(self, text: str) -> list[tuple[int, int]]:
        spans = [(s, e) for s, e in self.split_sentences(text) if text[s:e].strip()] or [(0, len(text))]
        return [(s, e) for s, e in spans if not looks_like_instructions(text[s:e])]

    def _support(
        self,
        index: int,
        claim: str,
        cvec: list[float],
        passage: Passage,
        spans: list[tuple[int, int]],
        svecs: list[list[float]],
        folded: str,
        passage_numbers: set[float],
    ) -> Support:
        if not spans or len(_content_stems(claim)) < MIN_CLAIM_TERMS:
            return Support(index, 0.0, (0, 0), supported=False)
        claim_numbers = number_values(claim)
        numbers_ok = all(values & passage_numbers for values in claim_numbers)
        names = names_in(claim)
        matched = [n for n in names if _name_in(n, folded)]
        unmatched = len(names) - len(matched)
        stems = _content_stems(claim)

        best_i, best_local = 0, -1.0
        best_cos = -1.0
        for i, ((s, e), v) in enumerate(zip(spans, svecs, strict=True)):
            cos = _dot(cvec, v)
            sentence = passage.text[s:e]
            sfold = _fold(sentence)
            hits = sum(1 for n in matched if _name_in(n, sfold))
            hits += sum(
                1 for values in claim_numbers if values & set().union(*number_values(sentence) or [set()])
            )
            overlap = len(stems & _content_stems(sentence)) / len(stems) if stems else 0.0
            local = cos + 0.08 * hits + OVERLAP_WEIGHT * overlap
            if local > best_local:
                best_i, best_local = i, local
            best_cos = max(best_cos, cos + OVERLAP_WEIGHT * overlap)
        score = (
            best_cos
            + min(NUMBER_BONUS * len(claim_numbers), NUMBER_BONUS_CAP) * numbers_ok
            + min(NAME_BONUS * len(matched), NAME_BONUS_CAP)
            - min(NAME_PENALTY * unmatched, NAME_PENALTY_CAP)
        )
        # Mostly unknown names mean a claim about something else, however close in topic.
        names_ok = unmatched < 2 or unmatched <= len(matched)
        supported = numbers_ok and names_ok and score >= self.threshold
        return Support(index, round(score, 4), spans[best_i], numbers_ok, supported)


# -- assembling the checked answer --------------------------------------------------


def render(result: CheckResult) -> tuple[str, list[CitedSpan]]:
    """The checked answer text with markers renumbered from 1, and its citations.

    Markers follow each sentence, as in extractive answers. Two claims
    citing the same sentence of the same passage share one number.

    Returns:
        ``(text, cited_spans)``; every ``[n]`` in ``text`` has one ``CitedSpan``.
    """
    numbers: dict[tuple[int, int, int], CitedSpan] = {}
    lines: dict[int, list[str]] = {}
    for checked in result.kept:
        marks = []
        for s in checked.kept:
            key = (s.index, *s.sentence)
            if key not in numbers:
                numbers[key] = CitedSpan(len(numbers) + 1, s.index, s.sentence[0], s.sentence[1], s.score)
            mark = f"[{numbers[key].n}]"
            if mark not in marks:
                marks.append(mark)
        sentence = f"{checked.claim.text} {''.join(marks)}"
        if checked.claim.bullet and checked.claim.line not in lines:
            sentence = f"{checked.claim.bullet} {sentence}"
        lines.setdefault(checked.claim.line, []).append(sentence)
    text = "\n".join(" ".join(parts) for _, parts in sorted(lines.items()))
    return text, list(numbers.values())
