"""Fit the evidence judge's weights from question sets (``rag fit-judge``).

Every retrieved sentence of every question becomes one example: positive
when the question is answerable and the sentence holds one of its answer
strings, negative otherwise (all sentences of an unanswerable question are
negatives). A logistic regression with an L2 penalty is fitted by Newton's
method; then the answer threshold is chosen on the same questions as the cut
with the fewest wrong outcomes: a wrong answer, an answer to a question the
articles don't cover, or a decline of one they do.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import numpy as np

from rag.answering.judge import FEATURES, WEIGHTS_PATH, Candidate, Judge, Weights
from rag.answering.question import analyze
from rag.text import normalize

L2 = 1.0


def examples(bot, questions: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features, labels and question index of every candidate sentence."""
    from rag.answering.extractive import CONTEXT_SENTENCES

    xs, ys, groups = [], [], []
    for qi, row in enumerate(questions):
        question = bot.resolve(row["question"], row.get("turns") or [])
        hits = bot.retriever.search(question)
        judge = Judge(analyze(question), hits.idf, hits.translations, hits.max_idf)
        answers = [re.compile(rf"(?<!\w){re.escape(normalize(a))}") for a in (row.get("answer") or []) if a]
        top_similarity = max((s.similarity for s in hits.sentences), default=0.0)
        by_passage: dict[str, list] = {}
        for s in hits.sentences:
            by_passage.setdefault(s.passage.id, []).append(s)
        for group in by_passage.values():
            group.sort(key=lambda s: s.char_start)
            for i, s in enumerate(group):
                context = " ".join(x.text for x in group[max(0, i - CONTEXT_SENTENCES) : i + CONTEXT_SENTENCES + 1])
                f, _, _ = judge.features(Candidate(s.text, context, s.similarity, s.rank, top_similarity))
                xs.append([f[n] for n in FEATURES])
                text = normalize(s.text)
                ys.append(float(not row.get("abstain") and any(a.search(text) for a in answers)))
                groups.append(qi)
    return np.asarray(xs, dtype=np.float64), np.asarray(ys), np.asarray(groups)


def logistic(x: np.ndarray, y: np.ndarray, l2: float = L2) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """Coefficients and intercept on standardised features, with the means and scales used."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = np.hstack([np.ones((len(x), 1)), (x - mean) / scale])
    w = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[0] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(z @ w, -30, 30)))
        grad = z.T @ (p - y) + penalty * w
        hess = (z * (p * (1 - p))[:, None]).T @ z + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[1:], float(w[0]), mean, scale


def best_threshold(scores: np.ndarray, labels: np.ndarray, groups: np.ndarray, answerable: np.ndarray) -> float:
    """The answer threshold with the fewest wrong outcomes over the questions."""
    tops = []
    for qi in range(len(answerable)):
        mine = groups == qi
        if not mine.any():
            tops.append((0.0, False))
            continue
        best = int(np.argmax(np.where(mine, scores, -1)))
        tops.append((float(scores[best]), bool(labels[best])))

    def errors(cut: float) -> int:
        wrong = 0
        for (score, right), can in zip(tops, answerable, strict=True):
            if score >= cut:
                wrong += not right
            else:
                wrong += bool(can)
        return wrong

    values = sorted({s for s, _ in tops})
    cuts = [(a + b) / 2 for a, b in zip(values, values[1:], strict=False)] + [values[-1] + 1e-6]
    least = min(errors(c) for c in cuts)
    good = [c for c in cuts if errors(c) == least]
    return float(np.median(good))


def fit(bot, files: list[Path], out: Path = WEIGHTS_PATH) -> dict[str, Any]:
    from rag.evaluate import load_questions

    questions = [q for f in files for q in load_questions(f)]
    x, y, groups = examples(bot, questions)
    coef, intercept, mean, scale = logistic(x, y)
    weights = Weights(FEATURES, tuple(coef), intercept, tuple(mean), tuple(scale), 0.5, 0.25)
    scores = np.asarray([weights.probability(row) for row in x])
    answerable = np.asarray([not q.get("abstain") for q in questions])
    threshold = best_threshold(scores, y, groups, answerable)
    digest = hashlib.sha256(b"".join(Path(f).read_bytes() for f in files)).hexdigest()[:16]
    weights = Weights(FEATURES, tuple(coef), intercept, tuple(mean), tuple(scale), threshold, threshold / 2,
                      {"files": [Path(f).name for f in files], "sha256": digest, "questions": len(questions),
                       "examples": int(len(y)), "positives": int(y.sum())})
    weights.save(out)
    return {"threshold": round(threshold, 4), "questions": len(questions), "examples": int(len(y)),
            "positives": int(y.sum()), "coef": dict(zip(FEATURES, np.round(coef, 3).tolist(), strict=True))}
