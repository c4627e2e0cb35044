"""Checking an LLM's draft against the passages it was given.

A draft is split into sentences, each with the ``[n]`` markers written after it
(``rag.generation.claims``). Markers pointing outside the given passages are dropped (the
sentence then counts as uncited). Each remaining marker is kept only if one
*unit* of its passage — a sentence, two adjacent sentences, or a sentence
ending in ":" with the list it introduces — supports the claim's relation and
its arguments together (``rag.generation.support.judge``: numbers and what they measure,
names, roles, list items, the relation words). A claim left with no supporting
passage is removed; a claim uncited, or cited to passages that don't support
it, is kept if a unit of another given passage does, and cited to that one. The
quote for a kept marker is the supporting unit.

Declines ("The passages don't say …") and list lead-ins ("The jobs at risk
are:") state no fact: they are neither kept as claims nor counted as removed.

The embedding function and the sentence splitter are passed in, so the rules
can be tested with small fakes; word and sentence vectors are cached by content.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from rag.answering.question import analyze
from rag.generation.claim_text import Token, View, aligned, compound_parts, name_in, names_in, number_values, view
from rag.generation.claims import (
    Claim,
    is_decline,
    is_lead_in,
    looks_like_instructions,
    parse_markers,
    split_claims,
    strip_markers,
)
from rag.generation.cuts import Cuts, default_cuts
from rag.generation.support import Verdict, judge
from rag.text import fold
from rag.types import Passage

__all__ = [
    "CheckResult",
    "CheckedClaim",
    "CitedSpan",
    "Claim",
    "Support",
    "SupportChecker",
    "looks_like_instructions",
    "names_in",
    "number_values",
    "parse_markers",
    "render",
    "split_claims",
    "strip_markers",
]

EmbedFn = Callable[[list[str]], list[list[float]]]
SplitFn = Callable[[str], list[tuple[int, int]]]
JudgeFn = Callable[..., Verdict]
LIST_RUN = 6  # list lines a sentence ending in ":" may take with it
CACHE_LIMIT = 50_000


@dataclass
class Support:
    """Evidence that passage ``index`` (0-based) supports a claim."""

    index: int
    score: float
    sentence: tuple[int, int]  # span of the supporting unit in passage.text
    numbers_ok: bool = True
    supported: bool = False
    reasons: list[str] = field(default_factory=list)


@dataclass
class CheckedClaim:
    """A claim after checking: which citations it keeps and why others went.

    ``kind`` is ``"claim"``, ``"decline"`` or ``"lead-in"``; only claims are
    kept or removed. ``reasons`` says why the best unit did not support it.
    """

    claim: Claim
    kept: list[Support] = field(default_factory=list)
    invalid_markers: list[int] = field(default_factory=list)
    rejected_markers: list[int] = field(default_factory=list)
    auto_cited: bool = False
    kind: str = "claim"
    reasons: list[str] = field(default_factory=list)

    @property
    def removed(self) -> bool:
        return self.kind == "claim" and not self.kept


@dataclass
class CheckResult:
    """The outcome of ``SupportChecker.check``."""

    claims: list[CheckedClaim]

    @property
    def kept(self) -> list[CheckedClaim]:
        return [c for c in self.claims if c.kind == "claim" and c.kept]

    @property
    def removed(self) -> list[CheckedClaim]:
        return [c for c in self.claims if c.removed]

    @property
    def invalid_markers(self) -> list[int]:
        return [m for c in self.claims for m in c.invalid_markers]

    @property
    def declined(self) -> bool:
        """The draft says the passages don't answer: it leads with a decline, or has one and nothing kept."""
        kinds = [c.kind for c in self.claims if c.kind != "lead-in"]
        return bool(kinds) and (kinds[0] == "decline" or ("decline" in kinds and not self.kept))


@dataclass(frozen=True)
class CitedSpan:
    """A numbered citation to ``passages[index].text[start:end]``."""

    n: int
    index: int
    start: int
    end: int
    score: float


@dataclass
class _Unit:
    span: tuple[int, int]
    view: View


def kind_of(claim: Claim, question: str | None = None) -> str:
    """``"decline"``, ``"lead-in"`` or ``"claim"``; a decline may repeat only the question's numbers."""
    asked = set().union(*number_values(question or "")) if question else set()
    if is_decline(claim.text) and all(v & asked for v in number_values(claim.text)):
        return "decline"
    if is_lead_in(claim) and not number_values(claim.text) and not names_in(claim.text):
        return "lead-in"
    return "claim"


class SupportChecker:
    """Checks draft sentences against the passages they cite.

    Args:
        embed: Texts to vectors, e.g. ``embeddings.embed_documents``.
        split_sentences: Text to sentence spans, e.g. ``rag.sentences.split_sentences``.
        judge: Decides whether one unit supports one claim (``rag.generation.support.judge``).
        cuts: The judge's cuts (the fitted ones when not given).
    """

    def __init__(self, embed: EmbedFn, split_sentences: SplitFn, judge: JudgeFn = judge, cuts: Cuts | None = None) -> None:
        self.embed = embed
        self.split_sentences = split_sentences
        self.judge = judge
        self.cuts = cuts
        self._vectors: dict[str, np.ndarray] = {}
        self._sims: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    # -- vectors -----------------------------------------------------------------------
    def _vecs(self, texts: Sequence[str]) -> list[np.ndarray]:
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            got = np.asarray(self.embed(missing), dtype=np.float32)
            norms = np.linalg.norm(got, axis=1, keepdims=True)
            got = got / np.where(norms == 0, 1.0, norms)
            with self._lock:
                if len(self._vectors) + len(missing) > CACHE_LIMIT:
                    self._vectors.clear()
                    self._sims.clear()
                self._vectors.update(zip(missing, got, strict=True))
        with self._lock:
            return [self._vectors[t] for t in texts]

    def sim(self, a: str, b: str) -> float:
        """Cosine of two words' vectors (both must have been embedded by ``prepare``)."""
        key = (a, b)
        value = self._sims.get(key)
        if value is None:
            va, vb = self._vectors.get(a), self._vectors.get(b)
            value = float(va @ vb) if va is not None and vb is not None else 0.0
            self._sims[key] = value
        return value

    # -- units -------------------------------------------------------------------------
    def units(self, passage: Passage) -> list[_Unit]:
        """A passage's sentences, adjacent pairs, and colon-introduced lists, without injected instructions."""
        text = passage.text
        spans = [(s, e) for s, e in self.split_sentences(text) if text[s:e].strip()] or [(0, len(text))]
        spans = [(s, e) for s, e in spans if not looks_like_instructions(text[s:e])]
        out: list[tuple[int, int]] = []
        for i, (s, e) in enumerate(spans):
            out.append((s, e))
            if i + 1 < len(spans):
                out.append((s, spans[i + 1][1]))
            if text[s:e].rstrip().endswith(":"):
                for j in range(i + 2, min(len(spans), i + 1 + LIST_RUN)):
                    out.append((s, spans[j][1]))
            if text[s:e].lstrip().startswith("|"):
                # A table row means what its header says: the first row of its table goes with it.
                head = i
                while head > 0 and text[spans[head - 1][0] : spans[head - 1][1]].lstrip().startswith("|"):
                    head -= 1
                if 1 < i - head <= LIST_RUN:
                    out.append((spans[head][0], e))
        units = []
        for sp in dict.fromkeys(out):
            v = view(text[sp[0] : sp[1]])
            if sp not in spans:
                v.pieces = [view(text[s:e]) for s, e in spans if sp[0] <= s and e <= sp[1]]
            units.append(_Unit(sp, v))
        return units

    def prepare(self, passages: Sequence[Passage]) -> list[list[_Unit]]:
        """Units of every passage with their sentence and word vectors (cached; safe to call ahead)."""
        units = [self.units(p) for p in passages]
        flat = [u for us in units for u in us]
        for u, vec in zip(flat, self._vecs([u.view.text for u in flat]), strict=True):
            u.view.vector = vec
        forms = {t.form for u in flat for t in u.view.words}
        self._vecs(sorted(forms | {p for f in forms for p in compound_parts(f)}))
        return units

    def _parts(self, units: list[list[_Unit]]) -> dict[str, list[str]]:
        forms = {t.form for us in units for u in us for t in u.view.words}
        return {f: ps for f in forms if (ps := compound_parts(f))}

    # -- checking ----------------------------------------------------------------------
    def check(self, draft: str, passages: Sequence[Passage], question: str | None = None) -> CheckResult:
        """Check every sentence of ``draft`` against ``passages`` (``[n]`` = ``passages[n-1]``).

        Args:
            draft: The model's answer, with ``[n]`` markers.
            passages: The passages it was given, in prompt order.
            question: The question, whose focus words an elliptic claim asserts.

        Returns:
            A ``CheckResult``; claims with no kept support are to be removed.
        """
        claims = split_claims(draft)
        if not claims or not passages:
            return CheckResult(
                [CheckedClaim(c, invalid_markers=list(c.markers), kind=kind_of(c, question)) for c in claims]
            )
        units = self.prepare(passages)
        parts = self._parts(units)
        known = frozenset(
            fold(m.group(1)) for p in passages for m in re.finditer(r"(?<=[\w,;] )([A-Z][\w]+)", p.text)
        )
        views = [view(c.text) for c in claims]
        for v, vec in zip(views, self._vecs([c.text for c in claims]), strict=True):
            v.vector = vec
        focus: tuple[Token, ...] = ()
        if question:
            asked = set(analyze(question).focus)
            focus = tuple({t.word: t for t in view(question).words if t.word in asked}.values())
        self._vecs(sorted({t.form for v in views for t in v.words} | {t.form for t in focus}))

        results = []
        for claim, cview in zip(claims, views, strict=True):
            checked = CheckedClaim(claim, kind=kind_of(claim, question))
            valid = []
            for m in claim.markers:
                (valid if 1 <= m <= len(passages) else checked.invalid_markers).append(m)
            if checked.kind != "claim":
                results.append(checked)
                continue
            targets = [m - 1 for m in valid] or list(range(len(passages)))
            best: Support | None = None
            for i in targets:
                support = self._support(i, cview, units[i], parts, focus, known)
                if support.supported and valid:
                    checked.kept.append(support)
                elif valid:
                    checked.rejected_markers.append(i + 1)
                if best is None or (support.supported, support.score) > (best.supported, best.score):
                    best = support
            if valid and not checked.kept:
                # A wrong number is corrected, not fatal: small models often cite the passage next door.
                for i in range(len(passages)):
                    if i not in targets:
                        support = self._support(i, cview, units[i], parts, focus, known)
                        if (support.supported, support.score) > (best.supported, best.score):
                            best = support
            if not checked.kept and best is not None and best.supported:
                checked.kept.append(best)
                checked.auto_cited = True
            if not checked.kept and best is not None:
                checked.reasons = best.reasons
            results.append(checked)
        return CheckResult(results)

    def addresses(self, question: str, result: CheckResult) -> float:
        """How much of the question the kept claims speak to: the share of its focus words they match.

        A number question also needs a number in them that the question doesn't hold.
        Returns 1.0 when the question has no focus words.
        """
        q = analyze(question)
        kept = " ".join(c.claim.text for c in result.kept)
        if not kept:
            return 0.0
        answer = view(kept)
        if q.kind in ("number", "duration") and not any(
            t.values - set().union(*(x.values for x in view(question).numbers)) for t in answer.numbers
        ):
            return 0.0
        focus = [t for t in view(question).words if t.word in set(q.focus)]
        if not focus:
            return 1.0
        self._vecs(sorted({t.form for t in focus} | {t.form for t in answer.words}))
        parts = {t.form: ps for t in answer.words if (ps := compound_parts(t.form))}
        self._vecs(sorted({p for ps in parts.values() for p in ps}))
        match = (self.cuts or default_cuts()).word_match
        found = [t for t in focus if aligned(t, answer, self.sim, parts, match) or name_in(t.form, answer.folded)]
        return len(found) / len(focus)

    def _support(
        self,
        index: int,
        claim: View,
        units: list[_Unit],
        parts: dict[str, list[str]],
        focus: tuple[Token, ...],
        known: frozenset[str] = frozenset(),
    ) -> Support:
        best: tuple[Verdict, _Unit, tuple[bool, bool, float]] | None = None
        for u in units:
            verdict = self.judge(claim, u.view, sim=self.sim, parts=parts, focus=focus, known=known, cuts=self.cuts)
            # A single sentence is the better quote when it supports the claim on its own.
            key = (verdict.supported, not u.view.pieces, verdict.score)
            if best is None or key > best[2]:
                best = (verdict, u, key)
        if best is None:
            return Support(index, 0.0, (0, 0), supported=False, reasons=["no sentence to check against"])
        verdict, u, _ = best
        numbers_ok = not any(r.startswith("number") for r in verdict.reasons)
        return Support(index, verdict.score, u.span, numbers_ok, verdict.supported, list(verdict.reasons))


# -- assembling the checked answer --------------------------------------------------


def render(result: CheckResult) -> tuple[str, list[CitedSpan]]:
    """The checked answer text with markers renumbered from 1, and its citations.

    Markers follow each sentence, as in extractive answers. Two claims citing
    the same unit of the same passage share one number. A list lead-in is
    shown when a claim after it is kept; declines are not shown.

    Returns:
        ``(text, cited_spans)``; every ``[n]`` in ``text`` has one ``CitedSpan``.
    """
    numbers: dict[tuple[int, int, int], CitedSpan] = {}
    lines: dict[int, list[str]] = {}
    claims = result.claims
    for pos, checked in enumerate(claims):
        if checked.kind == "lead-in":
            if any(c.kind == "claim" and c.kept for c in claims[pos + 1 :]):
                lines.setdefault(checked.claim.line, []).append(
                    _with_bullet(checked, checked.claim.text, lines)
                )
            continue
        if checked.kind != "claim" or not checked.kept:
            continue
        marks = []
        for s in checked.kept:
            key = (s.index, *s.sentence)
            if key not in numbers:
                numbers[key] = CitedSpan(len(numbers) + 1, s.index, s.sentence[0], s.sentence[1], s.score)
            mark = f"[{numbers[key].n}]"
            if mark not in marks:
                marks.append(mark)
        sentence = _with_bullet(checked, f"{checked.claim.text} {''.join(marks)}", lines)
        lines.setdefault(checked.claim.line, []).append(sentence)
    text = "\n".join(" ".join(parts) for _, parts in sorted(lines.items()))
    return re.sub(r"[ \t]+\n", "\n", text), list(numbers.values())


def _with_bullet(checked: CheckedClaim, sentence: str, lines: dict[int, list[str]]) -> str:
    if checked.claim.bullet and checked.claim.line not in lines:
        return f"{checked.claim.bullet} {sentence}"
    return sentence
