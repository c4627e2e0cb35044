"""Fit the evidence judge's weights from written question sets (``rag fit-judge``).

Each question brings its retrieved sentences; a sentence is a right one when it
holds one of the question's answer strings.

- Ranking: a conditional logit (softmax over one question's candidates, L2
  penalty, Newton steps) fitted so that the right sentences rank first.
- Scope: the cut on the best retrieval score that best separates answerable
  questions from unanswerable ones (what the articles never mention falls below it).
- Answerability: a logistic regression on the best candidate of every question
  above that cut, answerable against unanswerable ones (near misses). The answer
  cut is the probability that declines at most ``MAX_DECLINED`` of the answerable
  training questions.
- The second-quote margin is the one that gets the most training questions right.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.answering.judge import (
    ANSWERABILITY,
    RANKING,
    TURN_FEATURES,
    Model,
    Weights,
    answerability_features,
    candidate_features,
)
from rag.answering.question import analyze
from rag.answering.rules import ruled_out
from rag.retrieval.retriever import Hits
from rag.text import contains

L2 = 1.0
MAX_DECLINED = 0.02  # of the answerable training questions (the trade-off: docs/answer-quality.md)
SCOPE_MAX_DECLINED = 0.01  # of them, below the scope cut
SPREAD_SCALED = ("asked_similarity_gap", "asked_lexical")
MARGINS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0)
WRONG_QUOTE = 1.0
"""What a quote without the answer costs against 2 for an answer found: a second quote is
worth showing when it holds the answer at least a third of the times it is added."""


@dataclass(frozen=True)
class Example:
    question: str
    hits: Hits
    answers: tuple[str, ...]
    answerable: bool
    previous: str | None = None
    """The bot's answer to the turn before, for a follow-up."""
    asked: bool = False
    """A follow-up, written out from the conversation before it was searched."""


def fit(examples: Sequence[Example], sources: Sequence[Path] = ()) -> Weights:
    """Weights fitted on ``examples`` (``sources`` are recorded with them)."""
    prepared = []
    for ex in examples:
        q = analyze(ex.question)
        rows = [f for f, _ in candidate_features(q, ex.hits.sentences, ex.previous)]
        labels = np.asarray([ex.answerable and any(contains(s.text, a) for a in ex.answers if a) for s in ex.hits.sentences], dtype=float)
        prepared.append((ex, q, rows, labels))

    x_rank = np.asarray([[f[n] for n in RANKING] for _, _, rows, _ in prepared for f in rows])
    mean, scale = _standardise(x_rank)
    turns = np.asarray([[f[n] for n in TURN_FEATURES] for ex, _, rows, _ in prepared if ex.asked for f in rows])
    for j, name in enumerate(TURN_FEATURES):
        # Zero outside follow-ups: scaled by their spread over the follow-ups' candidates.
        spread = float(turns[:, j].std()) if len(turns) and name in SPREAD_SCALED else 1.0
        mean[RANKING.index(name)], scale[RANKING.index(name)] = 0.0, spread or 1.0
    groups = [((np.asarray([[f[n] for n in RANKING] for f in rows]) - mean) / scale, y / y.sum())
              for _, _, rows, y in prepared if rows and y.sum() > 0]
    ranking = Model(RANKING, tuple(_conditional_logit(groups)), tuple(mean), tuple(scale))

    x_ans, y_ans, best_right, asked = [], [], [], []
    for ex, q, rows, labels in prepared:
        if not rows:
            continue
        scores = [ranking.score(f) for f in rows]
        order = np.argsort(scores)[::-1]
        best = int(order[0])
        best_right.append((ex, scores, labels))
        if ruled_out(q, ex.hits)(ex.hits.sentences[best], rows[best]) is not None:
            continue  # a rule declines it, whatever the model says
        rival = scores[order[1]] if len(order) > 1 else scores[best]
        top = max(x.score for x in ex.hits.sentences)
        a, _ = answerability_features(q, ex.hits.sentences[best], rows[best], scores[best], rival, top)
        x_ans.append([a[n] for n in ANSWERABILITY])
        y_ans.append(float(ex.answerable))
        asked.append(ex.asked)
    xa = np.asarray(x_ans)
    ya = np.asarray(y_ans)
    best_score = xa[:, ANSWERABILITY.index("best_retrieval_score")]
    # The scope cut declines what the articles never mention; it may cost few answerable questions.
    # A follow-up is about what the conversation was about: the cut is fitted on, and applies to, the others.
    alone = ~np.asarray(asked, dtype=bool)
    first, yf = best_score[alone], ya[alone]
    scope = min(_fewest_errors(first, yf), float(np.quantile(first[yf == 1], SCOPE_MAX_DECLINED)))
    inside = (best_score >= scope) | ~alone
    xa, ya = xa[inside], ya[inside]
    a_mean, a_scale = _standardise(xa)
    coef, intercept = _logistic((xa - a_mean) / a_scale, ya)
    answerability = Model(ANSWERABILITY, tuple(coef), tuple(a_mean), tuple(a_scale), intercept)
    p = 1 / (1 + np.exp(-(((xa - a_mean) / a_scale) @ coef + intercept)))
    threshold = float(np.quantile(p[ya == 1], MAX_DECLINED)) if (ya == 1).any() else 0.5

    margin = max(MARGINS, key=lambda m: (_right_with_margin(best_right, m), -m))
    digest = hashlib.sha256(b"".join(Path(f).read_bytes() for f in sources)).hexdigest()[:16] if sources else ""
    fitted_on = {"files": [Path(f).name for f in sources], "sha256": digest, "questions": len(examples),
                 "answerable": int(ya.sum()), "candidates": len(x_rank)}
    return Weights(ranking, answerability, threshold, margin, fitted_on, scope)


def _fewest_errors(score: np.ndarray, answerable: np.ndarray) -> float:
    """The score cut with the fewest errors (answerable below it, unanswerable above), the
    middle of the widest gap among equals."""
    values = np.unique(score)
    cuts = np.concatenate([[values[0] - 0.01], (values[1:] + values[:-1]) / 2, [values[-1] + 0.01]])
    errors = np.asarray([np.sum((score < c) & (answerable == 1)) + np.sum((score >= c) & (answerable == 0)) for c in cuts])
    best = cuts[errors == errors.min()]
    gaps = [np.min(np.abs(values - c)) for c in best]
    return float(best[int(np.argmax(gaps))])


def _right_with_margin(rows, margin: float) -> int:
    """Answerable questions whose one or two quotes hold an answer, minus quotes that don't."""
    total = 0
    for ex, scores, labels in rows:
        if not ex.answerable:
            continue
        order = np.argsort(scores)[::-1]
        chosen = [int(order[0])] + [int(i) for i in order[1:2] if scores[order[0]] - scores[i] <= margin]
        hit = any(labels[i] for i in chosen)
        total += 2 * hit - sum(1 for i in chosen if not labels[i]) * WRONG_QUOTE
    return total


def _standardise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    return mean, scale


def _conditional_logit(groups: list[tuple[np.ndarray, np.ndarray]], l2: float = L2) -> np.ndarray:
    """Weights maximising the softmax likelihood of each group's target distribution
    (penalised; Newton steps, halved until the penalised loss falls)."""

    def loss(w: np.ndarray) -> float:
        total = 0.5 * l2 * float(w @ w)
        for z, target in groups:
            s = z @ w
            top = s.max()
            total -= float(target @ (s - top - np.log(np.exp(s - top).sum())))
        return total

    w = np.zeros(groups[0][0].shape[1])
    current = loss(w)
    for _ in range(100):
        grad = l2 * w
        hess = l2 * np.eye(len(w))
        for z, target in groups:
            s = z @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            grad -= z.T @ (target - p)
            hess += z.T @ (z * p[:, None]) - np.outer(z.T @ p, z.T @ p)
        step = np.linalg.solve(hess, grad)
        for _ in range(30):
            trial = loss(w - step)
            if trial <= current:
                break
            step = step / 2
        w, current = w - step, min(current, trial)
        if np.abs(step).max() < 1e-8:
            break
    return w


def _logistic(z: np.ndarray, y: np.ndarray, l2: float = L2) -> tuple[np.ndarray, float]:
    b = np.zeros(z.shape[1] + 1)
    design = np.hstack([np.ones((len(z), 1)), z])
    penalty = np.full(len(b), l2)
    penalty[0] = 0.0
    for _ in range(100):
        p = 1 / (1 + np.exp(-np.clip(design @ b, -30, 30)))
        grad = design.T @ (p - y) + penalty * b
        hess = (design * (p * (1 - p))[:, None]).T @ design + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        b -= step
        if np.abs(step).max() < 1e-8:
            break
    return b[1:], float(b[0])
