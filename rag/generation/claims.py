"""A model's draft as claims: sentences, the ``[n]`` markers after them, and what they are.

Besides factual claims a draft holds *declines* ("The passages don't say how
much profit …") and *lead-ins* ("The jobs at risk are:"), which state no fact
of their own; ``kind_of`` tells them apart. ``looks_like_instructions`` finds
passage sentences that address the model (prompt injection).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.sentences import split_sentences

_MARKER = re.compile(
    r"\s*[\[【]\s*(?:(?:passages?|quellen?|sources?|doc(?:ument)?s?)\s*)?"
    r"(\d{1,3}(?:\s*(?:,|;|-|–|and|und|&)\s*\d{1,3})*)\s*[\]】]",
    re.IGNORECASE,
)
_BULLET = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+")
_INSTRUCTIONS = re.compile(
    r"\b(?:ignore|disregard|forget|override|ignoriere|vergiss|missachte)\b.{0,60}"
    r"\b(?:instructions?|prompts?|rules|guidelines|anweisungen|regeln|vorgaben)\b"
    r"|\b(?:reply|respond|answer|output|antworte|gib)\b.{0,30}\b(?:only|nur|ausschließlich)\b"
    r"|\btell the user\b|\bsystem prompt\b|\byou are now\b|\bas an ai\b"
    r"|\bsag(?:e)? (?:dem|den) (?:nutzer|benutzer)|\bdu bist (?:jetzt|nun)\b",
    re.IGNORECASE,
)
_SOURCE = r"(?:passages?|articles?|texts?|context|sources?|documents?|artikeln?|passagen|texten?|quellen?|dokumenten?)"
_DECLINE = re.compile(
    rf"\b(?:the|these|those|provided|given|die|den|diesen|vorliegenden)?\s*{_SOURCE}\b.{{0,40}}?"
    r"\b(?:do(?:es)?\s*n[o']t|did\s*n[o']t|never|don't|doesn't|contain no|make no|give no|provide no|"
    r"enthalten\s+(?:keine|nichts)|nennen\s+(?:keine|nichts)|sagen\s+nichts|geben\s+(?:keine|nichts)|"
    r"erwähnen\s+(?:keine|nichts|nicht)|machen\s+keine)"
    r"|\b(?:no|keine)\s+(?:information|informationen|details?|angaben?|mention|data|daten|figures?|zahlen)\b"
    r"|\bnot\s+(?:mentioned|stated|specified|provided|given|included|covered|available|said|found)\b"
    r"|\bnicht\s+(?:erwähnt|angegeben|genannt|enthalten|beschrieben|beantwortet|bekannt)\b"
    r"|\b(?:i|we)\s+(?:cannot|can't|could\s*n[o']t|am unable to)\s+(?:find|answer|determine|tell)\b"
    r"|\bunable to (?:find|answer|determine)\b|\bdazu steht nichts\b|\bnichts (?:darüber|dazu)\b"
    r"|\bdoes(?:n't| not) (?:say|mention|state|specify)\b",
    re.IGNORECASE,
)


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


def looks_like_instructions(sentence: str) -> bool:
    """True for a passage sentence that addresses the model (a prompt injection).

    Such sentences stay in the prompt as data but never count as support.
    """
    return bool(_INSTRUCTIONS.search(sentence))


def is_decline(sentence: str) -> bool:
    """True for a sentence saying the passages don't answer (it states no fact of its own)."""
    return bool(_DECLINE.search(sentence))


def is_lead_in(claim: Claim) -> bool:
    """True for a sentence that only introduces a list ("The jobs at risk are:")."""
    return claim.text.rstrip().endswith(":")


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
    """Sentences of ``line``, each running up to the next one, so the markers written
    after its full stop stay with it. Markers are blanked for the splitter, which then
    sees "faster.    Next" and cuts there."""
    masked = _MARKER.sub(lambda m: " " * len(m.group(0)), line)
    starts = [s for s, _ in split_sentences(masked)]
    if not starts:
        return [line] if line.strip() else []
    bounds = [0, *starts[1:], len(line)]
    return [line[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if line[a:b].strip()]
