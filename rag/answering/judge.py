"""The evidence judge: does this sentence answer this question?

The one place that decides what to quote and when to decline. For every
retrieved sentence it computes a few features of the question and the sentence
(meaning, shared words, an answer of the expected type that the question doesn't
already hold, the question's years, quarters and names, heading or link lines),
and three parts fitted on the project's written question sets combine them
(``rag fit-judge``; weights in ``judge_weights.json``):

- a ranking model, a conditional logit over one question's candidates, orders
  the sentences (which one to quote);
- a scope cut on the best retrieval score says whether anything retrieved is
  about the question at all;
- an answerability model, a logistic regression, gives each candidate the
  probability that it answers. The best candidate answers when the question is
  in scope and that probability reaches the fitted cut; otherwise the bot declines.

Rules (``rag.answering.rules``) stand before the model: a sentence without a value
of the asked kind (``rag.answering.values``) doesn't answer "how many", "when" or "how
long"; an article that names none of the question's names can't answer it; a person in
another role, a date of another event or a figure of another measure doesn't answer.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rag.answering.question import QuestionAnalysis, analyze
from rag.answering.rules import ruled_out
from rag.answering.values import typed_values
from rag.errors import ConfigError
from rag.retrieval.retriever import Hits, SentenceHit
from rag.retrieval.scoring import is_heading, is_source_line
from rag.text import fold

WEIGHTS_PATH = Path(__file__).with_name("judge_weights.json")

RANKING = (
    "similarity", "lexical", "similarity_gap", "typed_value", "typed_missing", "reason_cue", "list_cue",
    "heading", "asks", "source_line", "rank", "length", "quoted_before", "follows_quote",
    "asked_similarity_gap", "asked_lexical",
)
TURN_FEATURES = ("quoted_before", "follows_quote", "asked_similarity_gap", "asked_lexical")
"""Zero outside follow-ups, so not standardised over all candidates (that lets them run away):
the two flags keep their raw scale, the own-word scores are scaled over the follow-ups alone."""
ANSWERABILITY = (
    "best_retrieval_score", "ranking_score", "margin", "constraints_in_sentence",
    "constraints_in_passage", "names_in_passage",
)

_REASON_CUE = re.compile(
    r"\b(weil|denn|deshalb|daher|darum|deswegen|grund|because|since|therefore|dank|aufgrund|wegen|ermöglicht"
    r"|damit|um\b.{1,60}\bzu)\b",
    re.I,
)
_LIST_CUE = re.compile(r"(,.*(,| und | and | sowie | oder ))|:\s*$|^\s*[-•*]", re.I)
FOLLOW_GAP = 3
"""Characters between two sentences of one text (a space, a line break)."""
_QUARTER_WORDS = {"1": "erste", "2": "zweite", "3": "dritte", "4": "vierte"}
_QUARTER_EN = {"1": "first", "2": "second", "3": "third", "4": "fourth"}


@dataclass(frozen=True)
class Model:
    """Standardised linear weights: ``intercept + sum(coef * (x - mean) / scale)``."""

    names: tuple[str, ...]
    coef: tuple[float, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    intercept: float = 0.0

    def score(self, features: dict[str, float]) -> float:
        return self.intercept + sum(
            c * (features[n] - m) / s for n, c, m, s in zip(self.names, self.coef, self.mean, self.scale, strict=True)
        )

    def to_dict(self) -> dict:
        return {"features": list(self.names), "coef": [round(c, 6) for c in self.coef],
                "mean": [round(m, 6) for m in self.mean], "scale": [round(s, 6) for s in self.scale],
                "intercept": round(self.intercept, 6)}

    @classmethod
    def from_dict(cls, data: dict) -> Model:
        return cls(tuple(data["features"]), tuple(data["coef"]), tuple(data["mean"]), tuple(data["scale"]),
                   data.get("intercept", 0.0))


@dataclass(frozen=True)
class Weights:
    """The judge's fitted models and cuts (``rag fit-judge`` writes them)."""

    ranking: Model
    answerability: Model
    threshold: float
    """Probability from which the best candidate answers."""
    second_quote: float
    """A second sentence is quoted when its ranking score is within this of the best's."""
    fitted_on: dict = field(default_factory=dict)
    scope: float = 0.0
    """Below this best retrieval score nothing retrieved is about the question."""

    @classmethod
    def load(cls, path: Path = WEIGHTS_PATH) -> Weights:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            weights = cls(Model.from_dict(data["ranking"]), Model.from_dict(data["answerability"]),
                          data["threshold"], data["second_quote"], data.get("fitted_on", {}), data["scope"])
        except (OSError, ValueError, KeyError, TypeError) as e:
            msg = f"The evidence judge's weights at {path} can't be read ({e}). Refit them with `rag fit-judge`."
            raise ConfigError(msg) from None
        if weights.ranking.names != RANKING or weights.answerability.names != ANSWERABILITY:
            msg = f"The evidence judge's weights at {path} are for other features. Refit them with `rag fit-judge`."
            raise ConfigError(msg)
        return weights

    def save(self, path: Path = WEIGHTS_PATH) -> None:
        data = {"ranking": self.ranking.to_dict(), "answerability": self.answerability.to_dict(),
                "scope": round(self.scope, 4), "threshold": round(self.threshold, 4),
                "second_quote": round(self.second_quote, 4),
                "fitted_on": self.fitted_on}
        Path(path).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


@functools.lru_cache(maxsize=1)
def default_weights() -> Weights:
    return Weights.load()


@dataclass(frozen=True)
class Judgement:
    """The judge's view of one candidate sentence."""

    sentence: SentenceHit
    score: float
    """Ranking score: higher is a better sentence to quote for this question."""
    probability: float
    """Probability that the sentence answers the question."""
    verdict: str
    """``"answers"``, ``"partly"`` or ``"doesn't"``."""
    reasons: tuple[str, ...]
    features: dict[str, float] = field(default_factory=dict, compare=False, repr=False)

    @property
    def answers(self) -> bool:
        return self.verdict == "answers"


def judge(
    question: str,
    hits: Hits,
    weights: Weights | None = None,
    threshold: float | None = None,
    previous: str | None = None,
) -> list[Judgement]:
    """Every retrieved sentence judged against ``question``, the best to quote first.

    ``previous`` is the bot's answer to the turn before, when ``question`` is a follow-up
    resolved from it: a follow-up often asks about what that answer quoted, or what comes next.

    Only the first can have the verdict ``"answers"``: when it hasn't, the bot declines.
    A later one that reaches the cut is ``"partly"`` (it answers, but less well).
    ``threshold`` overrides the fitted answer cut (``RAG_MIN_SCORE``).
    """
    weights = weights or default_weights()
    cut = weights.threshold if threshold is None else threshold
    if not hits.sentences:
        return []
    q = analyze(question)
    rows = candidate_features(q, hits.sentences, previous)
    scores = [weights.ranking.score(f) for f, _ in rows]
    order = sorted(range(len(rows)), key=lambda i: scores[i], reverse=True)
    best_retrieval = max(x.score for x in hits.sentences)
    # A follow-up (searched with the user's own words too) is about what the conversation was about.
    in_scope = best_retrieval >= weights.scope or any(x.asked_similarity is not None for x in hits.sentences)
    out = []
    rules = ruled_out(q, hits)
    for pos, i in enumerate(order):
        f, reasons = rows[i]
        rival = scores[order[1]] if pos == 0 and len(order) > 1 else scores[order[0]]
        a, more = answerability_features(q, hits.sentences[i], f, scores[i], rival, best_retrieval)
        p = _sigmoid(weights.answerability.score(a))
        if not in_scope:
            p, more = 0.0, [*more, f"nothing retrieved is about the question (best score {best_retrieval:.2f})"]
        elif (rule := rules(hits.sentences[i], f)) is not None:
            p, more = 0.0, [*more, *([rule] if rule else [])]
        verdict = ("answers" if pos == 0 else "partly") if p >= cut else "doesn't"
        out.append(Judgement(hits.sentences[i], scores[i], p, verdict, (*reasons, *more), {**f, **a}))
    return out


def candidate_features(
    q: QuestionAnalysis, sentences: Sequence[SentenceHit], previous: str | None = None
) -> list[tuple[dict[str, float], list[str]]]:
    """The ranking features of every candidate of one question, with the reasons worth telling."""
    if not sentences:
        return []
    context = conversation_context(sentences, previous)
    best = max(x.similarity for x in sentences)
    asked = [x.asked_similarity for x in sentences if x.asked_similarity is not None]
    best_asked = max(asked) if asked else None
    return [ranking_features(q, s, best, best_asked, context.get(id(s), (False, False))) for s in sentences]


def ranking_features(
    q: QuestionAnalysis, s: SentenceHit, best: float, best_asked: float | None, turn: tuple[bool, bool]
) -> tuple[dict[str, float], list[str]]:
    """What the ranking model sees of one candidate, and the reasons worth telling.

    ``best`` and ``best_asked``: the highest similarity among the candidates, to the question
    and to a follow-up's own words. ``turn``: whether the previous answer quoted the sentence,
    and whether the sentence comes right after one it quoted.
    """
    text = s.text.strip()
    reasons = [f"meaning {s.similarity:.2f}, shared words {s.lexical:.2f}"]
    found = typed_values(q, text)
    if q.typed:
        reasons.append(f"has a {q.kind}: {found[0].text}" if found else f"holds no {q.kind} that the question doesn't")
    heading, source = is_heading(text), is_source_line(text)
    if heading:
        reasons.append("a heading or caption")
    if source:
        reasons.append("a source or byline line")
    f = {
        "similarity": s.similarity,
        "lexical": s.lexical,
        "similarity_gap": s.similarity - best,
        "typed_value": float(q.typed and bool(found)),
        "typed_missing": float(q.typed and not found),
        "reason_cue": float(q.kind == "reason" and bool(_REASON_CUE.search(text))),
        "list_cue": float(q.kind == "list" and bool(_LIST_CUE.search(text))),
        "heading": float(heading),
        "asks": float(text.endswith("?")),
        "source_line": float(source),
        "rank": 1.0 / (1 + s.rank),
        "length": min(len(text.split()), 60) / 60,
        "quoted_before": float(turn[0]),
        "follows_quote": float(turn[1]),
        "asked_similarity_gap": s.asked_similarity - best_asked if s.asked_similarity is not None else 0.0,
        "asked_lexical": s.asked_lexical or 0.0,
    }
    if turn[1]:
        reasons.append("comes right after the previous answer's quote")
    return f, reasons


def conversation_context(sentences: Sequence[SentenceHit], previous: str | None) -> dict[int, tuple[bool, bool]]:
    """For each candidate (by ``id``): quoted in ``previous``, and right after a sentence that was."""
    if not previous:
        return {}
    said = fold(previous)
    quoted = {(s.passage.file, s.char_start) for s in sentences if len(s.text) > 20 and fold(s.text) in said}
    ends = {(s.passage.file, s.char_end) for s in sentences if (s.passage.file, s.char_start) in quoted}
    out = {}
    for s in sentences:
        before = (s.passage.file, s.char_start) in quoted
        after = any(f == s.passage.file and 0 <= s.char_start - end <= FOLLOW_GAP for f, end in ends)
        if before or after:
            out[id(s)] = (before, after and not before)
    return out


def answerability_features(
    q: QuestionAnalysis, s: SentenceHit, ranking: dict[str, float], score: float, rival: float,
    best_retrieval: float,
) -> tuple[dict[str, float], list[str]]:
    """What the answerability model sees: how well anything retrieved matches the question
    (``best_retrieval``, the top retrieval score), how well the candidate ranks, and whether
    it and its passage meet the question's constraints (years, quarters) and name its names."""
    sentence, passage = fold(s.text), fold(s.passage.text)
    constraints = [*q.years, *q.quarters]
    missing = [c for c in constraints if not _mentions(passage, c)]
    names = [n for n in q.names if len(n) > 2]
    unnamed = [n for n in names if not all(fold(w)[:5] in passage for w in re.split(r"[\s-]+", n) if w)]
    reasons = [f"the passage doesn't mention {c}" for c in missing] + [f"the passage doesn't name {n}" for n in unnamed]
    f = {
        "best_retrieval_score": best_retrieval,
        "ranking_score": score,
        "margin": score - rival,
        "constraints_in_sentence": _share([_mentions(sentence, c) for c in constraints]),
        "constraints_in_passage": _share([c not in missing for c in constraints]),
        "names_in_passage": _share([n not in unnamed for n in names]),
    }
    return f, reasons


def _mentions(folded: str, constraint: str) -> bool:
    if re.fullmatch(r"q[1-4]", constraint):
        n = constraint[1]
        return bool(re.search(rf"\bq{n}\b|\b{_QUARTER_WORDS[n]}\w* quartal|\b{n}\. quartal|\b{_QUARTER_EN[n]} quarter",
                              folded))
    if re.fullmatch(r"h[12]", constraint):
        return constraint in folded or "halbjahr" in folded or "half" in folded or "halfte" in folded
    return constraint in folded


def _share(checks: list[bool]) -> float:
    return sum(checks) / len(checks) if checks else 1.0


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
