"""The shape of the code: layers that import one way, no cycles, small modules.

Layers, lowest first; a module may import its own layer or a lower one:

    0 shared      rag.types, rag.text, rag.sentences, rag.errors, rag.config
    1 ingest      files -> passages with metadata
    2 retrieval   rag.retrieval: embeddings, store, keyword index, lexicon, fusion
    3 answering   rag.answering: question analysis, spans, extractive answers, citations
    4 generation  rag.generation: chat models, prompts, claim check, fallback
    5 facade      rag (the package), rag.assistant, rag.lcel, rag.evaluate, rag.claim_eval
    6 front-ends  ui (the CLI among them), bench

Imports inside functions are for optional extras and heavy loads only, and say why
in a comment on the line, or above (or on the ``try:`` of) their block.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("rag", "ingest", "ui", "bench")
MAX_LINES = 400

SHARED = {"rag.types", "rag.text", "rag.sentences", "rag.errors", "rag.config"}
FACADE = {"rag", "rag.assistant", "rag.lcel", "rag.evaluate", "rag.claim_eval"}
STAGES = (
    ("ingest", 1), ("rag.retrieval", 2), ("rag.answering", 3), ("rag.generation", 4), ("ui", 6), ("bench", 6),
)


def layer(module: str) -> int:
    if module in SHARED:
        return 0
    if module in FACADE:
        return 5
    for prefix, n in STAGES:
        if module == prefix or module.startswith(prefix + "."):
            return n
    raise AssertionError(f"{module} is in no layer: add it to tests/test_layering.py")


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(path: Path, known: set[str]) -> list[tuple[str, int, bool]]:
    """``(module, line, inside a function)`` for each import of a project module.

    Imports under ``if TYPE_CHECKING:`` are for type hints only and never run.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nested = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
              for n in ast.walk(f) if n is not f}
    typing_only = {id(n) for f in ast.walk(tree)
                   if isinstance(f, ast.If) and "TYPE_CHECKING" in ast.unparse(f.test)
                   for n in ast.walk(f) if n is not f}
    out = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # "from rag.answering import about" imports the module rag.answering.about
            targets = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known else node.module
                       for a in node.names]
        else:
            continue
        for target in targets:
            if target.split(".")[0] in PACKAGES:
                out.append((target, node.lineno, id(node) in nested))
    return out


def graph() -> dict[str, set[str]]:
    found = modules()
    return {m: {t for t, _, _ in imports(p, set(found)) if t != m} for m, p in found.items()}


def test_every_import_points_to_the_same_layer_or_below():
    upward = [f"{m} (layer {layer(m)}) imports {t} (layer {layer(t)})"
              for m, targets in graph().items() for t in sorted(targets) if layer(t) > layer(m)]
    assert upward == []


def test_no_import_cycles():
    edges = graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for t in sorted(edges.get(m, ())):
            if state.get(t) == 1:
                cycles.append([*path[path.index(t):], t])
            elif t not in state:
                visit(t, [*path, t])
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m, [m])
    assert cycles == [], " | ".join(" -> ".join(c) for c in cycles)


def test_imports_inside_functions_say_why():
    silent = []
    for path in modules().values():
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for f in ast.walk(ast.parse(text)):
            if not isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(f):
                if isinstance(node, (ast.Import, ast.ImportFrom)) and not _says_why(lines, node.lineno - 1):
                    silent.append(f"{path.relative_to(ROOT)}:{node.lineno}: {lines[node.lineno - 1].strip()}")
    assert silent == []


def _says_why(lines: list[str], i: int) -> bool:
    """A comment on the import's line, or on the line that opens its block of imports
    (a comment line, or the ``try:`` around them)."""
    if "#" in lines[i]:
        return True
    while i > 0 and lines[i - 1].strip().startswith(("from ", "import ")):
        i -= 1
    above = lines[i - 1].strip() if i > 0 else ""
    return above.startswith("#") or (above.startswith("try:") and "#" in above)


def test_modules_stay_small():
    long = {str(p.relative_to(ROOT)): n for p in modules().values()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) >= MAX_LINES}
    assert long == {}


def test_the_layering_test_sees_an_upward_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n\ndef f():\n    from ui.cli import main\n", encoding="utf-8")
    assert imports(bad, {"ui.cli"}) == [("ui.cli", 4, True)]
    assert layer("ui.cli") > layer("rag.retrieval.store")
