#!/usr/bin/env python3
"""Check (and optionally re-split) the own evaluation question sets.

Files checked (all under eval/):
  qa_train.jsonl, qa_test.jsonl           answerable ("qa-*") and near-miss ("nm-*") questions
  qa_more_train.jsonl, qa_more_test.jsonl  a second such set ("qm-*", "nx-*")
  followups_train.jsonl, followups_test.jsonl   two-turn follow-up conversations ("fu-*")

Checks
  * required fields, allowed values (lang, type), ids unique across all four files;
  * every evidence string occurs verbatim (character for character) in some article
    under data/articles/ and, for QA items, in the article named by "file";
  * at least one answer string (case-insensitive) occurs near the evidence in the
    article text, so the expected answer really is in the evidence sentence;
  * near-miss items carry abstain=true and empty evidence/answer lists;
  * no question repeats a question of eval/calibration.jsonl or the shared dev set.
Then prints counts per split, lang, type and file.

Usage
  python eval/check_questions.py            # check only; exit 1 on any error
  python eval/check_questions.py --split [--qa-source F] [--fu-source F]
      re-split deterministically and write the four split files, then check.
      Sources default to eval/qa_all.jsonl / eval/followups.jsonl when present,
      otherwise to the union of the existing split files (so re-running is stable).
"""
from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "eval"
ARTICLES = ROOT / "data" / "articles"
SHARED_DEV = Path("/work/shared/eval/dev_questions.jsonl")
OTHER_SETS = [EVAL / "calibration.jsonl", SHARED_DEV]

QA_SPLITS = {"train": EVAL / "qa_train.jsonl", "test": EVAL / "qa_test.jsonl"}
MORE_SPLITS = {"more_train": EVAL / "qa_more_train.jsonl", "more_test": EVAL / "qa_more_test.jsonl"}
"""A second set ("qm-*", "nx-*"), written later, split the same way; not re-split."""
FU_SPLITS = {"train": EVAL / "followups_train.jsonl", "test": EVAL / "followups_test.jsonl"}

LANGS = {"en", "de"}
TYPES = {"description", "person", "organisation", "place", "date", "number", "duration", "reason", "yesno", "list"}
TRAIN_SHARE_QA = 0.55
TRAIN_SHARE_FU = 0.5
MAX_EVIDENCE_WORDS = 8   # brief asks for 2-6; allow a little slack for compounds
NEAR = 250               # answer must occur within this many chars of the evidence


def load_jsonl(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise SystemExit(f"{path}:{n}: invalid JSON: {exc}")
    return rows


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")


def load_articles() -> dict[str, str]:
    arts = {p.name: p.read_text(encoding="utf-8") for p in sorted(ARTICLES.glob("*.txt"))}
    if not arts:
        raise SystemExit(f"no articles under {ARTICLES}")
    return arts


# ---------------------------------------------------------------- splitting

def _assign(items: list[dict], share: float, start: int = 0) -> tuple[list[dict], list[dict]]:
    """Spread items evenly: item i goes to train when floor((i+1)*share) > floor(i*share).

    ``start`` continues the counter from the previous stratum, so odd-sized strata
    do not all give their extra item to the same split."""
    train, test = [], []
    for i, it in enumerate(items, start):
        (train if math.floor((i + 1) * share) > math.floor(i * share) else test).append(it)
    return train, test


def split_qa(rows: list[dict]) -> tuple[list[dict], list[dict]]:
    strata: dict[tuple, list[dict]] = {}
    for r in rows:
        strata.setdefault((r["lang"], bool(r.get("abstain"))), []).append(r)
    train, test = [], []
    for key in sorted(strata):
        # sort by type and file inside a stratum so every type/file lands in both splits
        items = sorted(strata[key], key=lambda r: (r.get("type", ""), r.get("file", ""), r["id"]))
        a, b = _assign(items, TRAIN_SHARE_QA, len(train) + len(test))
        train += a
        test += b
    return sorted(train, key=lambda r: r["id"]), sorted(test, key=lambda r: r["id"])


def split_fu(rows: list[dict]) -> tuple[list[dict], list[dict]]:
    strata: dict[tuple, list[dict]] = {}
    for r in rows:
        strata.setdefault((r["lang"], bool(r.get("switch"))), []).append(r)
    train, test = [], []
    for key in sorted(strata):
        a, b = _assign(sorted(strata[key], key=lambda r: r["id"]), TRAIN_SHARE_FU, len(train) + len(test))
        train += a
        test += b
    return sorted(train, key=lambda r: r["id"]), sorted(test, key=lambda r: r["id"])


def do_split(qa_source: Path | None, fu_source: Path | None) -> None:
    def source_rows(src: Path | None, default: Path, splits: dict[str, Path]) -> list[dict]:
        if src is None and default.exists():
            src = default
        if src is not None:
            return load_jsonl(src)
        rows = []
        for p in splits.values():
            if p.exists():
                rows += load_jsonl(p)
        return rows

    qa = source_rows(qa_source, EVAL / "qa_all.jsonl", QA_SPLITS)
    fu = source_rows(fu_source, EVAL / "followups.jsonl", FU_SPLITS)
    if qa:
        tr, te = split_qa(qa)
        write_jsonl(QA_SPLITS["train"], tr)
        write_jsonl(QA_SPLITS["test"], te)
    if fu:
        tr, te = split_fu(fu)
        write_jsonl(FU_SPLITS["train"], tr)
        write_jsonl(FU_SPLITS["test"], te)


# ---------------------------------------------------------------- checking

def _norm_q(q: str) -> list[str]:
    return re.findall(r"\w+", q.lower())


def _similar(a: str, b: str) -> float:
    ta, tb = set(_norm_q(a)), set(_norm_q(b))
    if not ta or not tb:
        return 0.0
    return len(ta & tb) / len(ta | tb)


def _answer_near_evidence(text: str, evidence: list[str], answers: list[str]) -> bool:
    low = text.lower()
    for ev in evidence:
        start = text.find(ev)
        while start != -1:
            lo = max(0, start - NEAR)
            hi = min(len(text), start + len(ev) + NEAR)
            # stay inside the line (paragraph / table row) that holds the evidence, or the next
            # (a headline's date, a label's link)
            line_lo = text.rfind("\n", 0, start) + 1
            line_hi = text.find("\n", start + len(ev))
            line_hi = len(text) if line_hi == -1 else line_hi
            following = text.find("\n", line_hi + 1)
            line_hi = len(text) if following == -1 else following
            window = low[max(lo, line_lo):min(hi, line_hi)]
            if any(a.lower() in window for a in answers):
                return True
            start = text.find(ev, start + 1)
    return False


def check_evidence(item: dict, arts: dict[str, str], errors: list[str], named: str | None) -> None:
    iid = item["id"]
    ev = item.get("evidence")
    ans = item.get("answer")
    if not isinstance(ev, list) or not 1 <= len(ev) <= 2 or not all(isinstance(e, str) and e.strip() for e in ev):
        errors.append(f"{iid}: evidence must be a list of 1-2 non-empty strings")
        return
    if not isinstance(ans, list) or not ans or not all(isinstance(a, str) and a.strip() for a in ans):
        errors.append(f"{iid}: answer must be a non-empty list of strings")
        return
    for e in ev:
        if len(e.split()) > MAX_EVIDENCE_WORDS:
            errors.append(f"{iid}: evidence too long ({len(e.split())} words): {e!r}")
        hits = [name for name, t in arts.items() if e in t]
        if not hits:
            errors.append(f"{iid}: evidence not verbatim in any article: {e!r}")
        elif named is not None and named not in hits:
            errors.append(f"{iid}: evidence {e!r} not in named file {named} (found in {hits})")
    files = [named] if named is not None else [n for n, t in arts.items() if any(e in t for e in ev)]
    if files and not any(_answer_near_evidence(arts[f], ev, ans) for f in files if f in arts):
        errors.append(f"{iid}: no answer string {ans!r} occurs near the evidence {ev!r}")


def check_question_text(item: dict, field: str, errors: list[str]) -> None:
    q = item.get(field)
    if not isinstance(q, str) or not q.strip():
        errors.append(f"{item.get('id')}: missing {field}")
    elif not re.search(r"[^\W_]", q):
        errors.append(f"{item.get('id')}: {field} has no letter or digit")


def check_qa(item: dict, arts: dict[str, str], errors: list[str]) -> None:
    iid = item.get("id")
    for f in ("id", "question", "lang", "evidence", "answer"):
        if f not in item:
            errors.append(f"{iid}: missing field {f}")
    check_question_text(item, "question", errors)
    if item.get("lang") not in LANGS:
        errors.append(f"{iid}: lang must be one of {sorted(LANGS)}")
    if item.get("abstain"):
        if item["abstain"] is not True:
            errors.append(f"{iid}: abstain must be true")
        if not str(iid).startswith(("nm-", "nx-")):
            errors.append(f"{iid}: near-miss ids start with nm- (nx- in the second set)")
        if item.get("evidence") != [] or item.get("answer") != []:
            errors.append(f"{iid}: near-miss needs empty evidence and answer")
        return
    if not str(iid).startswith(("qa-", "qm-")):
        errors.append(f"{iid}: answerable ids start with qa- (qm- in the second set)")
    if item.get("type") not in TYPES:
        errors.append(f"{iid}: type must be one of {sorted(TYPES)}, got {item.get('type')!r}")
    fname = item.get("file")
    if fname not in arts:
        errors.append(f"{iid}: file {fname!r} is not an article under data/articles")
        fname = None
    check_evidence(item, arts, errors, fname)


def check_fu(item: dict, arts: dict[str, str], errors: list[str]) -> None:
    iid = item.get("id")
    for f in ("id", "lang", "turns", "question", "switch", "resolved", "evidence", "answer"):
        if f not in item:
            errors.append(f"{iid}: missing field {f}")
    if not str(iid).startswith("fu-"):
        errors.append(f"{iid}: follow-up ids start with fu-")
    if item.get("lang") not in LANGS:
        errors.append(f"{iid}: lang must be one of {sorted(LANGS)}")
    turns = item.get("turns")
    if not isinstance(turns, list) or not turns or not all(isinstance(t, str) and t.strip() for t in turns):
        errors.append(f"{iid}: turns must be a non-empty list of strings")
    if not isinstance(item.get("switch"), bool):
        errors.append(f"{iid}: switch must be true or false")
    check_question_text(item, "question", errors)
    check_question_text(item, "resolved", errors)
    if item.get("switch") is True and item.get("resolved") != item.get("question"):
        errors.append(f"{iid}: a topic switch stands alone, so resolved should equal question")
    if item.get("switch") is False and item.get("resolved") == item.get("question"):
        errors.append(f"{iid}: a real follow-up needs a rewritten resolved question")
    check_evidence(item, arts, errors, None)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", action="store_true", help="re-split sources and write the split files first")
    ap.add_argument("--qa-source", type=Path)
    ap.add_argument("--fu-source", type=Path)
    args = ap.parse_args()

    if args.split:
        do_split(args.qa_source, args.fu_source)

    arts = load_articles()
    errors: list[str] = []
    seen: dict[str, str] = {}
    qa_by_split: dict[str, list[dict]] = {}
    fu_by_split: dict[str, list[dict]] = {}

    for split, path in {**QA_SPLITS, **MORE_SPLITS}.items():
        if not path.exists():
            errors.append(f"missing {path.relative_to(ROOT)}")
            qa_by_split[split] = []
            continue
        qa_by_split[split] = load_jsonl(path)
    for split, path in FU_SPLITS.items():
        if not path.exists():
            errors.append(f"missing {path.relative_to(ROOT)}")
            fu_by_split[split] = []
            continue
        fu_by_split[split] = load_jsonl(path)

    for kind, groups in (("qa", qa_by_split), ("followups", fu_by_split)):
        for split, rows in groups.items():
            for r in rows:
                iid = r.get("id")
                if not isinstance(iid, str) or not iid:
                    errors.append(f"{kind}_{split}: item without id: {r}")
                    continue
                if iid in seen:
                    errors.append(f"{iid}: duplicate id ({seen[iid]} and {kind}_{split})")
                seen[iid] = f"{kind}_{split}"
                (check_qa if kind == "qa" else check_fu)(r, arts, errors)

    # no question repeated from the calibration / shared dev sets
    others = []
    for p in OTHER_SETS:
        if p.exists():
            others += [(p.name, o.get("question", "")) for o in load_jsonl(p)]
    mine = [(r["id"], r.get("question", "")) for rows in qa_by_split.values() for r in rows]
    mine += [(r["id"] + "/turn", t) for rows in fu_by_split.values() for r in rows for t in r.get("turns", [])]
    mine += [(r["id"] + "/" + f, r.get(f, "")) for rows in fu_by_split.values() for r in rows
             for f in ("question", "resolved")]
    for iid, q in mine:
        for src, oq in others:
            if _similar(q, oq) >= 0.6:
                errors.append(f"{iid}: question too close to {src}: {q!r} ~ {oq!r}")

    # ------------------------------------------------------------ counts
    all_qa = [r for rows in qa_by_split.values() for r in rows]
    print("QA questions")
    for split, rows in qa_by_split.items():
        ans = [r for r in rows if not r.get("abstain")]
        nm = [r for r in rows if r.get("abstain")]
        print(f"  {split:5s}: {len(rows):3d} total | answerable {len(ans)} "
              f"(en {sum(r['lang'] == 'en' for r in ans)}, de {sum(r['lang'] == 'de' for r in ans)}) | "
              f"near-miss {len(nm)} (en {sum(r['lang'] == 'en' for r in nm)}, de {sum(r['lang'] == 'de' for r in nm)})")
    ans_all = [r for r in all_qa if not r.get("abstain")]
    nm_all = [r for r in all_qa if r.get("abstain")]
    print(f"  all  : {len(all_qa):3d} total | answerable {len(ans_all)} | near-miss {len(nm_all)}")
    for split, rows in list(qa_by_split.items()) + [("all", all_qa)]:
        ans = [r for r in rows if not r.get("abstain")]
        print(f"  [{split}] per type: " + ", ".join(f"{k} {v}" for k, v in sorted(Counter(r.get('type') for r in ans).items())))
        print(f"  [{split}] per file: " + ", ".join(f"{k[:3]} {v}" for k, v in sorted(Counter(r.get('file') for r in ans).items())))
        print(f"  [{split}] per lang: " + ", ".join(f"{k} {v}" for k, v in sorted(Counter(r.get('lang') for r in rows).items())))

    all_fu = [r for rows in fu_by_split.values() for r in rows]
    print("Follow-ups")
    for split, rows in list(fu_by_split.items()) + [("all", all_fu)]:
        print(f"  {split:5s}: {len(rows):3d} total | en {sum(r.get('lang') == 'en' for r in rows)}, "
              f"de {sum(r.get('lang') == 'de' for r in rows)} | switch {sum(r.get('switch') is True for r in rows)}")

    # ------------------------------------------------------------ coverage (brief's minimums)
    if len(ans_all) < 66:
        errors.append(f"only {len(ans_all)} answerable questions (need >= 66)")
    if len(nm_all) < 34:
        errors.append(f"only {len(nm_all)} near-miss questions (need >= 34)")
    for t in sorted(TYPES):
        n = sum(r.get("type") == t for r in ans_all)
        if n < 3:
            errors.append(f"type {t}: only {n} answerable questions (need >= 3)")
    for name in arts:
        n = sum(r.get("file") == name for r in ans_all)
        if n < 8:
            errors.append(f"file {name}: only {n} answerable questions (need >= 8)")
    if len(all_fu) < 24:
        errors.append(f"only {len(all_fu)} follow-ups (need >= 24)")
    if sum(r.get("switch") is True for r in all_fu) < 7:
        errors.append("fewer than 7 topic switches among follow-ups")
    for split, rows in fu_by_split.items():
        if not any(r.get("switch") is True for r in rows):
            errors.append(f"followups_{split}: no topic switch")

    if errors:
        print(f"\n{len(errors)} problem(s):")
        for e in errors:
            print("  - " + e)
        return 1
    print("\nOK: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
