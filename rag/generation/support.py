"""Does one unit of a passage support one claim? The relation and its arguments, together.

A *unit* is one passage sentence, two adjacent ones, or a sentence ending in
":" with the list lines it introduces. ``judge`` decides, with reasons, whether
a unit supports a claim:

- **values**: every number in the claim (digits or number words, English or
  German) occurs in the unit, and it measures the same thing there: a claim
  word next to the number may not sit, in the unit, only beside another number;
- **names**: every name in the claim occurs in the unit itself (not merely
  somewhere in the passage);
- **roles**: "A over/than/gegenüber B" is not reversed in the unit;
- **list items**: each item of an enumeration in the claim is matched in the unit;
- **relation**: most of the claim's other content words are matched in the
  unit (same word or stem, a German compound part, or a translation by word
  vector), and the claim is close in meaning to the unit (sentence vectors).

An elliptic claim ("Buenos Aires.") asserts the question's relation, so the
question's focus words are checked with it.

``judge`` is the one place that decides support: a fitted evidence judge can
replace it (``SupportChecker(judge=...)``) as long as it returns a ``Verdict``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from rag.answering import spans
from rag.answering.question import language
from rag.answering.roles import EVENTS, MEASURES, ROLES, states_role
from rag.generation.claim_text import (
    EARLIER,
    GENERIC,
    GERMAN_NOUN,
    PERIOD_WORDS,
    RANKING,
    VALUE_WORDS,
    Token,
    View,
    WordSim,
    aligned,
    content_words,
    name_in,
    names_in,
    view,
)
from rag.generation.cuts import Cuts, default_cuts
from rag.text import STOPWORDS, fold

FRAGMENT_WORDS = 2  # a claim with fewer content words than this is elliptic
_COMPARE = re.compile(r"\b(over|than|rather than|instead of|gegenuber|statt|anstelle|versus|vs)\b")
_ROLES = tuple(r for r in ROLES if r.name != "head")
"""Who someone is: a claim that names someone in a role needs a unit that says it (not "was created in the 1950s")."""
_ENUM_CONJ = re.compile(r"\s(?:and|und|or|oder|sowie|as well as)\s")


@dataclass
class Verdict:
    """Whether a unit supports a claim; ``reasons`` says what failed (empty when supported)."""

    supported: bool
    score: float
    reasons: list[str] = field(default_factory=list)


def judge(
    claim: View,
    unit: View,
    *,
    sim: WordSim,
    parts: dict[str, list[str]] | None = None,
    focus: Sequence[Token] = (),
    known: frozenset[str] = frozenset(),
    cuts: Cuts | None = None,
) -> Verdict:
    """Decide whether ``unit`` supports ``claim``.

    Args:
        claim, unit: From ``view``; ``vector`` set on both (normalised sentence vectors).
        sim: Cosine of two words' vectors (by ``Token.form``).
        parts: Compound parts of unit words (``"umsatzwachstum" -> ["umsatz", "wachstum"]``).
        focus: The question's focus words (``view(question)`` tokens), checked with an elliptic claim.
        known: Folded words written capitalised inside the passages' sentences (names, in English);
            a claim's capitalised first word among them is a name too.
        cuts: The fitted cuts (``default_cuts()`` when not given).

    Returns:
        A ``Verdict``; ``reasons`` lists every failed condition.
    """
    parts = parts or {}
    cuts = cuts or default_cuts()
    copied = claim.folded.rstrip(" .!?…")
    if len(copied) >= 20 and copied in unit.folded:
        return Verdict(True, 2.0)  # a verbatim quote of the unit
    reasons: list[str] = []
    names = names_in(claim.text)
    first = re.match(r"\W*([A-ZÄÖÜ]\w+)", claim.text)
    lead = fold(first.group(1)) if first else ""
    if lead and lead not in GENERIC and (lead in known or any(t.word == lead for t in unit.words)):
        names = [*names, first.group(1)]  # "Netflix revenue grew …": a capitalised first word that is a name

    # Values and names: each is in the unit itself ...
    unit_numbers = unit.numbers
    claim_de, unit_de = language(claim.text) == "de", language(unit.text) == "de"
    for n in claim.numbers:
        found = [u for u in unit_numbers if n.values & u.values]
        if not found:
            reasons.append(f"number '{n.word}' not in the unit")
        elif (scale := _scale(claim, n, claim_de)) and all(_scale(unit, u, unit_de) != scale for u in found):
            reasons.append(f"'{n.word}' has another scale in the unit (million, billion …)")
    for name in names:
        if not name_in(name, unit.folded):
            reasons.append(f"name '{name}' not in the unit")

    words = content_words(claim, names)
    threshold = cuts.strong_match if len(words) <= 1 else cuts.word_match
    where = {t.word: aligned(t, unit, sim, parts, threshold) for t in words}
    matched = [t for t in words if where[t.word]]
    fragment = not words or (len(words) < FRAGMENT_WORDS and len(claim.tokens) <= 4)
    if fragment:
        # "Buenos Aires." asserts the question's relation: its own words must all match, and its focus in part.
        asked = [
            t
            for t in focus
            if t.word not in where
            and t.word not in GENERIC
            and len(t.word) > 2
            and not any(name_in(n, t.word) for n in names)
        ]
        hits = [t for t in asked if aligned(t, unit, sim, parts, threshold)]
        if len(matched) < len(words) or (asked and len(hits) * 3 < len(asked)):
            reasons.append("the question's relation not supported")
        coverage = (len(matched) + len(hits)) / max(1, len(words) + len(asked))
    else:
        coverage = len(matched) / len(words)
        if coverage < cuts.min_coverage:
            missing = ", ".join(t.word for t in words if not where[t.word])
            reasons.append(f"relation not supported (unmatched: {missing})")

    # "the forecast *before* it was raised" is another forecast than the one raised
    reasons += [f"'{t.word}' is not said in the unit" for t in words
                if t.word in EARLIER | RANKING and not aligned(t, unit, sim, parts, cuts.earlier_match)]
    reasons += [f"the unit doesn't say it is a {act.name}" for act in (*EVENTS, *(_ROLES if names else ()))
                if act.asked.search(claim.folded) and not states_role(act, unit.text)]
    # ... and measures the same thing there.
    reasons += _attachment(claim, unit, matched, where, names)
    reasons += _measured(claim, unit)
    reasons += _roles(claim, unit, names)
    reasons += _someone_else(claim, unit, names, sim, parts, cuts.word_match)
    reasons += _list_items(claim, unit, sim, parts, names, cuts.word_match)

    similarity = (
        float(claim.vector @ unit.vector) if claim.vector is not None and unit.vector is not None else 0.0
    )
    if similarity < cuts.min_similarity and not (fragment and names and not reasons):
        reasons.append(f"meaning too far from the unit ({similarity:.2f})")
    score = similarity + 0.3 * coverage + 0.05 * len(claim.numbers) - 0.1 * len(reasons)
    return Verdict(not reasons, round(score, 4), reasons)


WINDOW = 5  # tokens on either side of a number that say what it measures


def _measured(claim: View, unit: View) -> list[str]:
    """A claimed revenue, profit, margin, share price or spending is said so next to the figure in
    the unit ("investiert 11,5 Milliarden" is not "11,5 Milliarden Dollar Umsatz … meldete")."""
    reasons = []
    for act in MEASURES:
        if not claim.numbers or not act.asked.search(claim.folded):
            continue
        near = [" ".join(t.word for t in unit.tokens[max(0, u.pos - WINDOW) : u.pos + WINDOW + 1])
                for n in claim.numbers for u in unit.numbers if n.values & u.values and not _is_year(u)]
        if near and not any(act.stated.search(words) for words in near):
            reasons.append(f"the unit's figure is no {act.name}")
    return reasons


def _attachment(
    claim: View, unit: View, matched: list[Token], where: dict[str, list[int]], names: list[str]
) -> list[str]:
    """The words around a claimed number must stand, in the unit, around that number, not another one.

    Each word near the number in the claim (a matched relation word or a name)
    votes: +1 when the unit has it near the same number, in its clause; -1 when only
    near another number ("Gewinnsprung von 45 %" for a claimed profit of 16 %); a
    name votes only for. A sum of 0 or less, with some word found in the unit,
    means the number measures something else there (or nothing said of it).
    Distances count content words only.
    """
    reasons = []
    ccount, ucount = _content_positions(claim), _content_positions(unit)
    name_heads = {fold(re.split(r"[\s\-]+", n)[0])[:5] for n in names}
    for n in claim.numbers:
        before = [t.word for t in claim.tokens[max(0, n.pos - 2) : n.pos]]
        if before[-1:] in (["q"], ["h"]) or (_is_year(n) and before[:1] in (["q"], ["h"])):
            continue  # "Q3 2025" dates the claim; it measures nothing
        near = [
            t
            for t in matched
            if t.pos >= 0
            and t.word not in VALUE_WORDS
            and t.word not in PERIOD_WORDS
            and abs(ccount[t.pos] - ccount[n.pos]) <= WINDOW
        ]
        positions = [(where[t.word], False) for t in near]
        for t in claim.words:
            if abs(ccount[t.pos] - ccount[n.pos]) <= WINDOW and len(t.word) >= 3 and t.word[:5] in name_heads:
                positions.append(([u.pos for u in unit.words if u.word.startswith(t.word[:5])], True))
        same = [u for u in unit.numbers if n.values & u.values]
        other = [u for u in unit.numbers if not (n.values & u.values) and not _is_year(u)]
        votes, located = 0, False
        for found, is_name in positions:
            if not found:
                continue
            located = True  # a word or a name of the claim's is in the unit: it must stand by the number

            def near(numbers: list[Token], found: list[int] = found) -> bool:
                return any(
                    unit.tokens[p].clause in _home(unit, q) and abs(ucount[p] - ucount[q.pos]) <= WINDOW
                    for p in found
                    for q in numbers
                )

            if near(same):
                votes += 1
            elif near(other) and not is_name:  # a name may be the subject of the whole sentence
                votes -= 1
        if located and votes <= 0:
            reasons.append(f"'{n.word}' measures something else in the unit")
    return reasons


_SCALES = {"thousand": 3, "tausend": 3, "million": 6, "millionen": 6, "milliarde": 9, "milliarden": 9,
           "billionen": 12, "trillion": 12, "trillions": 12, "millions": 6, "billions": 9}


def _scale(v: View, number: Token, german: bool) -> int:
    """The power of ten written after a number ("11,5 Milliarden" -> 9); 0 if none."""
    after = v.tokens[number.pos + 1].word if number.pos + 1 < len(v.tokens) else ""
    if after == "billion":
        return 12 if german else 9  # a German Billion is a thousand Milliarden
    return _SCALES.get(after, 0)


def _home(unit: View, number: Token) -> set[int]:
    """The clauses a number speaks of: its own, and the one before for "1/3 davon" (of which)."""
    after = unit.tokens[number.pos + 1].word if number.pos + 1 < len(unit.tokens) else ""
    return {number.clause, number.clause - 1} if after in ("davon", "thereof", "dabei") else {number.clause}


def _is_year(t: Token) -> bool:
    return any(1900 <= v <= 2100 and v == int(v) for v in t.values) and t.word.isdigit()


def _content_positions(v: View) -> dict[int, int]:
    out, count = {}, 0
    for t in v.tokens:
        out[t.pos] = count
        if t.values or t.word not in STOPWORDS:
            count += 1
    return out


_ANAPHOR = re.compile(
    r"^\W*(?:er|sie|es|he|she|it|they|this|these|that|dies|diese[rsmn]?|das unternehmen|der konzern|"
    r"der streaming\S*|die firma|the company|the streamer|die serie|the series|die szene|the scene|"
    r"die sequenz|der film|the film)\b",
    re.I,
)


def _someone_else(
    claim: View, unit: View, names: list[str], sim: WordSim, parts: dict[str, list[str]], match: float
) -> list[str]:
    """In two sentences, the one stating the relation must name the claim's subject, or refer back to it.

    "Taplin called AI video revolutionary" is not supported by "Bergquist calls it
    revolutionary. Taplin, on the other hand, warns …"; "The company partners with
    Eyeline" after a sentence about Netflix is.
    """
    if len(unit.pieces) < 2 or not names:
        return []
    words = content_words(claim, names)
    counts = [sum(1 for t in words if aligned(t, piece, sim, parts, match)) for piece in unit.pieces]
    at = counts.index(max(counts))
    main = unit.pieces[at]
    missing = [n for n in names if not name_in(n, main.folded)]
    if not missing or not words:
        return []
    mine = {fold(p) for n in names for p in re.split(r"[\s\-]+", n)}
    others = [
        x.normalized
        for x in spans.find(main.text, "person")
        if not ({fold(p) for p in x.normalized.split()} & mine)
    ]
    if others:
        return [f"the unit says that of '{others[0]}', not '{missing[0]}'"]
    if at > 0 and (_ANAPHOR.match(main.text) or unit.pieces[at - 1].text.rstrip().endswith(":")):
        return []
    strangers = [
        n
        for n in names_in(main.text)
        if not ({fold(p) for p in re.split(r"[\s\-]+", n)} & mine)
        and not ("-" in n and GERMAN_NOUN.search(fold(n.rsplit("-", 1)[1])))
    ]  # "Pro-Nutzer"
    if at > 0 and not strangers:
        return []  # it goes on about the same subject ("OpenAIs Sora … Nutzer berichten …")
    return [f"the sentence stating it doesn't name '{missing[0]}'"]


def _roles(claim: View, unit: View, names: list[str]) -> list[str]:
    """ "A over B" in the claim but "B over A" in the unit."""
    m = _COMPARE.search(claim.folded)
    if not m or len(names) < 2:
        return []
    before = [n for n in names if (i := claim.folded.find(fold(n).split()[0])) != -1 and i < m.start()]
    after = [n for n in names if (i := claim.folded.find(fold(n).split()[0], m.end())) != -1]
    um = _COMPARE.search(unit.folded)
    if not before or not after or not um:
        return []
    a, b = fold(before[-1]).split()[0][:5], fold(after[0]).split()[0][:5]
    ia, ib = unit.folded.find(a), unit.folded.find(b)
    if ia != -1 and ib != -1 and ib < um.start() < ia:
        return [f"roles swapped ('{before[-1]}' and '{after[0]}')"]
    return []


_COPULA = re.compile(
    r"\b(?:are|is|were|was|include|includes|included|sind|ist|waren|war|werden|gelten|zählen|"
    r"gehören|umfassen|wie|such as|like|namely|nämlich)\b|:",
    re.I,
)


def _list_items(
    claim: View, unit: View, sim: WordSim, parts: dict[str, list[str]], names: list[str], match: float
) -> list[str]:
    """Each item of an enumeration ("A, B and C") must be matched in the unit."""
    text = claim.text.rstrip(".!?… ")
    segments = [x for s in re.split(r",\s*|;\s*", text) for x in _ENUM_CONJ.split(f" {s} ") if x.strip()]
    if len(segments) < 2:
        return []
    items = []
    for i, seg in enumerate(segments):
        seg = seg.strip()
        if i == 0:
            cut = list(_COPULA.finditer(seg))
            seg = seg[cut[-1].end() :] if cut else seg
        elif i == len(segments) - 1:
            cut = _COPULA.search(seg)
            seg = seg[: cut.start()] if cut else seg
        items.append(seg.strip())
    reasons = []
    for item in items:
        v = view(item)
        if not v.tokens or len(v.tokens) > 4:
            continue
        item_names = [n for n in names if fold(n) in v.folded]
        if item_names and all(name_in(n, unit.folded) for n in item_names):
            continue
        words = content_words(v, item_names)
        if item_names or (words and not all(aligned(t, unit, sim, parts, match) for t in words[:2])):
            reasons.append(f"list item '{item}' not in the unit")
    return reasons
