"""The test suite's own shape: every test can fail, none skips silently, none times itself.

Each rule reads the test files with ``ast`` (nothing is imported or run) and fails
naming the file and line of every offence:

* ``pytest.raises(Exception)`` (or ``BaseException``): any error at all would pass,
  including the bug being tested for. Name the error the code is meant to raise.
* ``pytest.importorskip`` of a package the ``dev`` extra installs, ``pytest.skip`` and
  ``skipif``: on a ``scripts/setup dev`` install they hide a broken install or an
  untested path. Import the package, or fail saying how to fix the set-up.
* ``assert`` on a wall-clock duration (a ``time.perf_counter``, ``time.monotonic`` or
  ``time.time`` reading, or a name holding one, such as ``t0`` or ``duration``): it
  depends on the machine and its load. Check the behaviour (the timeout fired, the fallback is
  there) and leave timing to ``bench/``. Helpers may still wait with a deadline.
* ``assert`` on a value that no code under test produced, such as a literal or
  ``json.dumps({...})``: it always passes.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Iterator
from importlib.metadata import packages_distributions
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
CLOCKS = {"perf_counter", "monotonic", "time", "perf_counter_ns", "monotonic_ns", "time_ns", "process_time"}
DURATION_NAMES = re.compile(r"elaps|duration|took|seconds_taken", re.IGNORECASE)


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(spec: str) -> tuple[str, list[str]]:
    """``"rag-articles[st,ui]"`` -> ("rag-articles", ["st", "ui"]); ``"pytest>=8"`` -> ("pytest", [])."""
    m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?", spec)
    assert m, spec
    extras = [e.strip() for e in (m.group(2) or "").split(",") if e.strip()]
    return _norm(m.group(1)), extras


def dev_packages(root: Path = ROOT) -> set[str]:
    """Normalised names of every distribution ``pip install -e '.[dev]'`` asks for (extras resolved)."""
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    me, extras = _norm(project["name"]), project["optional-dependencies"]
    names = {_requirement_name(r)[0] for r in project["dependencies"]}
    todo, seen = ["dev"], set()
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for spec in extras[extra]:
            name, sub = _requirement_name(spec)
            if name == me:
                todo.extend(sub)
            else:
                names.add(name)
    return names


def _module_is_declared(module: str, declared: set[str]) -> bool:
    top = module.split(".")[0]
    dists = {_norm(d) for d in packages_distributions().get(top, [])}
    return bool(dists & declared) or _norm(top) in declared


def _parsed(files: list[Path] | None = None) -> Iterator[tuple[str, ast.Module]]:
    """Every Python file under tests/ (or ``files``), parsed."""
    for path in files if files is not None else sorted(TESTS.rglob("*.py")):
        rel = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
        yield str(rel), ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _dotted(node: ast.AST) -> str:
    """``pytest.mark.skipif`` for an Attribute chain, ``raises`` for a Name, '' otherwise."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


def _is_clock_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    name = _dotted(node.func)
    return name.split(".")[-1] in CLOCKS and (name.startswith("time.") or name in CLOCKS - {"time"})


def _reads_clock(expr: ast.AST, clocked: set[str]) -> bool:
    """Whether ``expr``'s value is a clock reading or arithmetic on one (``t1 - t0``, ``duration``).

    Arguments of other calls don't count: a ``time.time`` reading passed as ``sign(body,
    timestamp=...)`` is a timestamp handed to the code, not a duration.
    """
    if isinstance(expr, ast.Call):
        return _is_clock_call(expr)
    if isinstance(expr, ast.Name):
        return expr.id in clocked or bool(DURATION_NAMES.search(expr.id))
    if isinstance(expr, ast.Attribute):
        return bool(DURATION_NAMES.search(expr.attr)) or _reads_clock(expr.value, clocked)
    if isinstance(expr, ast.BinOp):
        return _reads_clock(expr.left, clocked) or _reads_clock(expr.right, clocked)
    if isinstance(expr, ast.UnaryOp):
        return _reads_clock(expr.operand, clocked)
    return False


def _clock_names(tree: ast.AST) -> set[str]:
    """Names assigned a clock reading (``t0 = <clock>()``, ``took = <clock>() - t0``)."""
    names: set[str] = set()
    for _ in range(3):  # names built from names built from the clock
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign) and node.value is not None:
                if _reads_clock(node.value, names):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def raises_exception(files: list[Path] | None = None) -> list[str]:
    offences = []
    for rel, tree in _parsed(files):
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _dotted(node.func) in {"pytest.raises", "raises"} and node.args:
                kinds = node.args[0].elts if isinstance(node.args[0], ast.Tuple) else [node.args[0]]
                if any(_dotted(k) in {"Exception", "BaseException"} for k in kinds):
                    offences.append(f"{rel}:{node.lineno}: pytest.raises({ast.unparse(node.args[0])})")
    return offences


def silent_skips(files: list[Path] | None = None) -> list[str]:
    declared = dev_packages()
    offences = []
    for rel, tree in _parsed(files):
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = _dotted(node.func)
                if isinstance(node.func, ast.Attribute) and not name:  # __import__("pytest").skip(...)
                    name = "pytest." + node.func.attr
                if name.endswith("importorskip"):
                    module = node.args[0].value if node.args and isinstance(node.args[0], ast.Constant) else "?"
                    if module == "?" or _module_is_declared(module, declared):
                        offences.append(f"{rel}:{node.lineno}: importorskip({module!r}) of a dev dependency")
                elif name in {"pytest.skip", "skip"}:
                    offences.append(f"{rel}:{node.lineno}: pytest.skip(...)")
            if isinstance(node, ast.Attribute) and _dotted(node) in {"pytest.mark.skipif", "pytest.mark.skip"}:
                offences.append(f"{rel}:{node.lineno}: {_dotted(node)}")
    return offences


def clock_asserts(files: list[Path] | None = None) -> list[str]:
    offences = set()
    for rel, tree in _parsed(files):
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            clocked = _clock_names(func)
            for node in ast.walk(func):
                if not isinstance(node, ast.Assert):
                    continue
                compares = [p for p in ast.walk(node.test) if isinstance(p, ast.Compare)]
                if any(_reads_clock(o, clocked) for c in compares for o in [c.left, *c.comparators]):
                    offences.add(f"{rel}:{node.lineno}: assert {ast.unparse(node.test)[:100]}")
    return sorted(offences)


_LITERAL = (ast.Constant, ast.Dict, ast.List, ast.Tuple, ast.Set, ast.keyword, ast.Load)


def _is_stdlib_call_on_literals(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    root = _dotted(node.func).split(".")[0]
    args = [*node.args, *(k.value for k in node.keywords)]
    return root in sys.stdlib_module_names and all(
        all(isinstance(n, _LITERAL) for n in ast.walk(a)) for a in args
    )


def constant_asserts(files: list[Path] | None = None) -> list[str]:
    offences = []
    for rel, tree in _parsed(files):
        for node in ast.walk(tree):
            if isinstance(node, ast.Assert):
                test = node.test
                if isinstance(test, ast.Constant | ast.JoinedStr | ast.Dict | ast.List | ast.Tuple | ast.Set) or (
                    _is_stdlib_call_on_literals(test)
                ):
                    offences.append(f"{rel}:{node.lineno}: assert {ast.unparse(test)[:100]}")
    return offences


# -- the rules, on the suite -----------------------------------------------------------


def test_no_pytest_raises_exception() -> None:
    offences = raises_exception()
    assert not offences, "Name the error the code should raise:\n" + "\n".join(offences)


def test_no_silent_skips() -> None:
    offences = silent_skips()
    assert not offences, (
        "A dev install runs every test: import the package (it is declared), "
        "or fail saying how to fix the set-up:\n" + "\n".join(offences)
    )


def test_no_assert_on_wall_clock_time() -> None:
    offences = clock_asserts()
    assert not offences, "Check the behaviour, not the time it took (time belongs in bench/):\n" + "\n".join(
        offences
    )


def test_no_assert_on_a_value_no_code_produced() -> None:
    offences = constant_asserts()
    assert not offences, "These asserts always pass:\n" + "\n".join(offences)


# -- the rules themselves can fail -------------------------------------------------------

# Spelled apart, so that grepping tests/ for clock reads finds the waiting helpers only.
CLOCK, STAMP = "time.perf_counter", "time.time"


def _check(rule, source: str, tmp_path: Path) -> list[str]:
    path = tmp_path / "test_sample.py"
    path.write_text(source, encoding="utf-8")
    return rule([path])


def test_the_rules_catch_what_they_are_for(tmp_path: Path) -> None:
    bad = {
        raises_exception: "import pytest\ndef test_x():\n    with pytest.raises(Exception):\n        pass\n",
        silent_skips: "import pytest\ngr = pytest.importorskip('gradio')\nyaml = __import__('pytest').importorskip('yaml')\n",
        clock_asserts: f"import time\ndef test_x():\n    t0 = {CLOCK}()\n    assert {CLOCK}() - t0 < 1\n",
        constant_asserts: "import json\ndef test_x():\n    assert json.dumps({'ok': True})\n",
    }
    for rule, source in bad.items():
        assert len(_check(rule, source, tmp_path)) == (2 if rule is silent_skips else 1), (rule.__name__, source)
    assert _check(clock_asserts, "def test_x(duration):\n    assert duration < 5\n", tmp_path)
    assert _check(silent_skips, "import pytest\n@pytest.mark.skipif(True, reason='x')\ndef test_x(): ...\n", tmp_path)
    assert _check(silent_skips, "import pytest\ndef test_x():\n    pytest.skip('later')\n", tmp_path)


def test_the_rules_leave_sound_tests_alone(tmp_path: Path) -> None:
    fine = (
        "import time\nimport pytest\n"
        "def test_x(f):\n"
        "    with pytest.raises(ValueError, match='bad'):\n        f()\n"
        f"    deadline = {CLOCK}() + 5\n"
        f"    while {CLOCK}() < deadline:\n        break\n"
        "    assert f(None) is None\n"
        "    assert f('x') == {'ok': True}\n"
        "    pytest.importorskip('a_package_nobody_declared')\n"
        f"    status = f(timestamp=int({STAMP}()) - 600)\n"
        "    assert status == 401\n"
    )
    for rule in (raises_exception, silent_skips, clock_asserts, constant_asserts):
        assert _check(rule, fine, tmp_path) == [], rule.__name__


def test_the_dev_extra_is_read_with_its_extras() -> None:
    declared = dev_packages()
    assert {"gradio", "slack-bolt", "playwright", "pyyaml", "pytest", "chromadb", "sentence-transformers"} <= declared
    assert _module_is_declared("playwright.sync_api", declared) and _module_is_declared("yaml", declared)
