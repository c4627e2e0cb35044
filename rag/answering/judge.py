"""The evidence judge: does this sentence answer this question (or support this claim)?

Every decision about evidence asks this module: which sentence to quote,
whether to decline, and whether an LLM's claim is supported. Features of the
question and the candidate (meaning, coverage of the focus terms and
constraints, an answer of the expected type that the question doesn't already
hold) are combined by a logistic regression fitted on written question sets
(``rag fit-judge``; weights in ``judge_weights.json``).
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rag.answering import spans as spans_
from rag.answering.question import QuestionAnalysis
from rag.answering.terms import Words, match
from rag.text import fold, stem

WEIGHTS_PATH = Path(__file__).with_name("judge_weights.json")
FEATURES = (
    "similarity",
    "focus",
    "focus_context",
    "missing",
    "constraints",
    "typed",
    "typed_focus",
    "novel",
    "heading",
    "asks",
    "rank",
    "metadata",
    "similarity_gap",
)
VERDICTS = ("answers", "partly", "doesn't")

_REASON_CUE = re.compile(r"\b(weil|da |denn|deshalb|daher|darum|deswegen|um .{1,60} zu|grund|because|since|so that|"
                         r"therefore|reason|dank|aufgrund|wegen|ermöglicht|damit)\b", re.I)
_LIST_CUE = re.compile(r"(,.*(,| und | and | sowie | or | oder ))|:\s*$|^\s*[-•*]", re.I)
_YESNO_CUE = re.compile(r".")
_AUTHOR_LINE = re.compile(r"^\s*(autor(?:in)?|author|von|by|verfasst von)\s*:?\s+[A-ZÄÖÜ]", re.I)
_DATE_LINE = re.compile(r"^\s*(veröffentlicht|published|erschienen|datum|date)\b|^\s*\d{1,2}[./]\d{1,2}[./]\d{4}", re.I)
_SOURCE_LINE = re.compile(r"^\s*(quelle|source)\b|\|\s*\w+\s*$", re.I)


@dataclass(frozen=True)
class Candidate:
    """A sentence that might answer, inside the passage it comes from."""

    text: str
    context: str
    """The passage (or neighbouring sentences) around it."""
    similarity: float
    """Cosine similarity of question and sentence vectors."""
    rank: int = 0
    """Position of its passage in retrieval."""
    best_similarity: float = 0.0
    """The highest similarity among all candidates for the question."""


@dataclass(frozen=True)
class Judgement:
    """The judge's view of one candidate."""

    score: float
    """Probability that the candidate answers (0..1)."""
    verdict: str
    """``"answers"``, ``"partly"`` or ``"doesn't"``."""
    reasons: tuple[str, ...]
    span: spans_.Span | None = None
    """The answer itself inside the candidate, for typed questions."""
    features: dict[str, float] = field(default_factory=dict, compare=False)

    @property
    def answers(self) -> bool:
        return self.verdict == "answers"


@dataclass(frozen=True)
class Weights:
    names: tuple[str, ...]
    coef: tuple[float, ...]
    intercept: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    threshold: float
    """Score from which a candidate answers; fitted to the fewest wrong answers and declines."""
    partly: float
    fitted_on: dict = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = WEIGHTS_PATH) -> Weights:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(tuple(data["features"]), tuple(data["coef"]), data["intercept"], tuple(data["mean"]),
                   tuple(data["scale"]), data["threshold"], data["partly"], data.get("fitted_on", {}))

    def save(self, path: Path = WEIGHTS_PATH) -> None:
        data = {"features": list(self.names), "coef": [round(c, 6) for c in self.coef],
                "intercept": round(self.intercept, 6), "mean": [round(m, 6) for m in self.mean],
                "scale": [round(s, 6) for s in self.scale], "threshold": round(self.threshold, 4),
                "partly": round(self.partly, 4), "fitted_on": self.fitted_on}
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    def probability(self, x: Sequence[float]) -> float:
        z = self.intercept + sum(c * (v - m) / s for c, v, m, s in zip(self.coef, x, self.mean, self.scale, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@functools.lru_cache(maxsize=1)
def default_weights() -> Weights:
    return Weights.load()


class Judge:
    """Judges candidates against one question.

    Args:
        question: The analysed question (``rag.answering.question.analyze``).
        idf: Inverse document frequency of a keyword term (``rag.text.terms``).
        translations: Corpus terms, with how sure, for question words the corpus never uses.
        max_idf: The weight of a word the corpus has never seen.
        weights: Fitted weights; the shipped ones by default.
    """

    def __init__(
        self,
        question: QuestionAnalysis,
        idf: Callable[[str], float | None],
        translations: dict[str, tuple[tuple[str, float], ...]] | None = None,
        max_idf: float = 10.0,
        weights: Weights | None = None,
    ) -> None:
        self.q = question
        self.weights = weights or default_weights()
        self.translations = translations or {}
        self.max_idf = max_idf
        self.terms = [
            (t, self._weight(t, idf), self.translations.get(t, ())) for t in question.focus
        ]
        self._question_words = Words.of(question.text)

    def _weight(self, term: str, idf: Callable[[str], float | None]) -> float:
        found = idf(stem(term))
        if found is not None:
            return found
        alts = self.translations.get(term, ())
        known = [idf(a) for a, _ in alts if idf(a) is not None]
        return max(known) if known else self.max_idf

    def features(self, c: Candidate) -> tuple[dict[str, float], spans_.Span | None, list[str]]:
        words, ctx = Words.of(c.text), Words.of(c.context)
        total = sum(w for _, w, _ in self.terms) or 1.0
        in_sentence = in_context = 0.0
        missing = 0.0
        reasons: list[str] = []
        for term, weight, alts in self.terms:
            m = match(term, words, alts)
            mc = max(m, match(term, ctx, alts) * 0.9)
            in_sentence += weight * m
            in_context += weight * mc
            missing = max(missing, weight * (1.0 - mc) / self.max_idf)
            if mc < 0.5:
                reasons.append(f"doesn't mention '{term}'")
        constraints = self._constraints(c, words, ctx, reasons)
        span = self._span(c.text)
        typed = self._typed(c.text, span)
        if self.q.typed:
            reasons.append(f"has a {self.q.kind}: {span.text}" if span else f"has no {self.q.kind}")
        sentence_stems = {s for s in words.stems if not s.isdigit() and len(s) > 2}
        novel = len(sentence_stems - self._question_words.stems) / max(len(sentence_stems), 1)
        text = c.text.strip()
        meta = 1.0 if self.q.about and _metadata_kind(text) == self.q.about else 0.0
        f = {
            "similarity": c.similarity,
            "focus": in_sentence / total,
            "focus_context": in_context / total,
            "missing": missing,
            "constraints": constraints,
            "typed": typed,
            "typed_focus": typed * in_context / total,
            "novel": novel,
            "heading": 1.0 if _is_heading(text) and not _metadata_kind(text) else 0.0,
            "asks": 1.0 if text.endswith("?") else 0.0,
            "rank": 1.0 / (1.0 + c.rank),
            "metadata": meta,
            "similarity_gap": c.similarity - max(c.best_similarity, c.similarity),
        }
        return f, span, reasons

    def judge(self, c: Candidate) -> Judgement:
        f, span, reasons = self.features(c)
        p = self.weights.probability([f[n] for n in self.weights.names])
        verdict = "answers" if p >= self.weights.threshold else "partly" if p >= self.weights.partly else "doesn't"
        return Judgement(round(p, 4), verdict, tuple(reasons), span, f)

    def _constraints(self, c: Candidate, words: Words, ctx: Words, reasons: list[str]) -> float:
        checks: list[bool] = []
        for value in (*self.q.years, *self.q.quarters, *self.q.numbers):
            ok = fold(value) in words.words or value in c.text
            checks.append(ok)
            if not ok:
                reasons.append(f"not about {value}")
        for name in self.q.names:
            parts = [fold(p) for p in re.findall(r"\w+", name)]
            ok = all(match(p, ctx, self.translations.get(p, ())) >= 0.8 for p in parts)
            checks.append(ok)
            if not ok:
                reasons.append(f"doesn't name {name}")
        return sum(checks) / len(checks) if checks else 1.0

    def _span(self, text: str) -> spans_.Span | None:
        if not self.q.typed:
            return None
        found = [s for s in spans_.find(text, self.q.kind) if not self._in_question(s)]
        if not found:
            return None
        if len(found) == 1:
            return found[0]
        # The value nearest to the words the question asks about.
        anchors = [m.start() for t, _, _ in self.terms for m in re.finditer(re.escape(t[:5]), fold(text))]
        if not anchors:
            return found[0]
        return min(found, key=lambda s: min(abs((s.start + s.end) / 2 - a) for a in anchors))

    def _in_question(self, span: spans_.Span) -> bool:
        q = fold(self.q.text)
        return fold(span.text) in q or fold(span.normalized) in q

    def _typed(self, text: str, span: spans_.Span | None) -> float:
        kind = self.q.kind
        if self.q.typed:
            return 1.0 if span else 0.0
        if kind == "reason":
            return 1.0 if _REASON_CUE.search(text) else 0.5
        if kind == "list":
            return 1.0 if _LIST_CUE.search(text) else 0.5
        return 1.0


def _is_heading(text: str) -> bool:
    """A title, caption or label: short, no closing punctuation and no figures."""
    words = len(text.split())
    if text.startswith("|") or re.search(r"\d", text):
        return False
    return words < 12 and not re.search(r"[.!:;\"“”»)]$", text)


def _metadata_kind(text: str) -> str | None:
    if _AUTHOR_LINE.match(text):
        return "author"
    if _DATE_LINE.match(text):
        return "date"
    if _SOURCE_LINE.search(text):
        return "outlet"
    return None
