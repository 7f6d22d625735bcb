"""The import rules of docs/architecture.md, enforced by parsing every module's imports.

A *unit* is a first-level name under ``web4rl``: a subpackage (``web4rl.sim``) or a top-level
module (``web4rl.policy``). Every ``import`` / ``from ... import`` in every module counts,
function-level (lazy) ones included, ``if TYPE_CHECKING:`` blocks excepted (they load nothing
at run time). Dynamic imports by string (``importlib``) are not seen: keep those to entry
points such as ``web4rl.cli``.

To add a rule, add a row to ``RULES``; a unit without a row is only held to "no cycles".
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "web4rl"

# Units that load a model, a Trainer or run training: the simulator, judge, metrics and safety
# rules must stay importable (and fast) without them.
TORCH_HEAVY = frozenset({"algorithms", "policy", "generation", "rollout"})
TRAINING = frozenset({"callbacks", "cli", "cli_input", "cli_runtime", "annotate", "adapters"})
PURE_MATHS_MAY_NOT = TORCH_HEAVY | TRAINING | {"data", "sim", "judges", "metrics"}
ANY = frozenset({"*"})


@dataclass(frozen=True)
class Rule:
    """``sources`` never import ``forbidden`` (``ANY``: no other unit at all).

    ``transitive``: also not through other units (sim -> x -> policy breaks it too); otherwise
    only direct imports count (algorithms may reach sim through rollout, not by itself).
    """

    sources: frozenset[str]
    forbidden: frozenset[str]
    transitive: bool
    why: str


RULES: tuple[Rule, ...] = (
    Rule(frozenset({"sim", "judges", "metrics", "safety", "datagen"}), TORCH_HEAVY | TRAINING, True,
         "environment, judge, metrics, safety rules and the sample-data generator run without a "
         "model or a Trainer"),
    Rule(frozenset({"safety"}), frozenset({"sim", "judges"}), True,
         "sim and judges both import the safety rules, so the rules cannot depend on them"),
    Rule(frozenset({"chat"}), ANY, False,
         "chat rendering is the leaf everyone imports"),
    Rule(frozenset({"jsonl", "filetypes"}), ANY, False,
         "the one JSONL reader and the one code-extension table are leaves everyone imports"),
    Rule(frozenset({"sequence", "losses", "rl"}), PURE_MATHS_MAY_NOT, True,
         "losses and RL maths are pure tensor functions"),
    Rule(frozenset({"policy", "generation"}), frozenset({"data"}) | TRAINING, True,
         "the model layer does not depend on the input pipeline; render prompts with web4rl.chat"),
    Rule(frozenset({"data"}), TORCH_HEAVY | TRAINING, True,
         "DataModules sit beside the policy, below the algorithms; online data is web4rl.rollout"),
    Rule(frozenset({"algorithms"}), frozenset({"sim", "judges"}), False,
         "training reaches the simulator and the judge only through web4rl.rollout"),
)


@dataclass(frozen=True)
class Edge:
    source: str  # unit
    target: str  # unit
    where: str  # "web4rl/x.py:12"


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """Absolute dotted names an import statement loads."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if node.level:  # relative: resolve against this module's package
        base = module.split(".")
        base = base if is_package else base[:-1]
        base = base[: len(base) - (node.level - 1)]
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
    # `from web4rl import sim` loads web4rl.sim; `from web4rl.sim import env` loads web4rl.sim
    return [prefix] + [f"{prefix}.{a.name}" for a in node.names if a.name != "*"]


def _unit(dotted: str, root_name: str) -> str | None:
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == root_name else None


def import_edges(root: Path) -> list[Edge]:
    """Every import between two different units of the package at ``root``."""
    units = {p.name for p in root.iterdir() if (p / "__init__.py").exists()}
    units |= {p.stem for p in root.glob("*.py") if p.stem != "__init__"}
    edges: list[Edge] = []
    for path in sorted(root.rglob("*.py")):
        module = _module_name(path, root)
        source = _unit(module, root.name)
        if source is None:
            continue  # the package's own __init__
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        skip = _type_checking_lines(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom) or node.lineno in skip:
                continue
            for name in _imported(node, module, path.name == "__init__.py"):
                target = _unit(name, root.name)
                if target in units and target != source:  # not e.g. `from web4rl import __version__`
                    where = f"{path.relative_to(root.parent)}:{node.lineno}"
                    edges.append(Edge(source, target, where))
    return edges


def _graph(edges: list[Edge]) -> dict[str, dict[str, str]]:
    graph: dict[str, dict[str, str]] = defaultdict(dict)
    for e in edges:
        graph[e.source].setdefault(e.target, e.where)
    return graph


def _paths_from(graph: dict[str, dict[str, str]], start: str) -> dict[str, list[str]]:
    """Every unit reachable from ``start``, with one import chain (``file:line`` per hop)."""
    paths: dict[str, list[str]] = {start: []}
    stack = [start]
    while stack:
        unit = stack.pop()
        for target, where in sorted(graph.get(unit, {}).items()):
            if target not in paths:
                paths[target] = paths[unit] + [f"{unit} -> {target} ({where})"]
                stack.append(target)
    return paths


def violations(edges: list[Edge], rules: tuple[Rule, ...] = RULES) -> list[str]:
    graph = _graph(edges)
    out: list[str] = []
    for rule in rules:
        for source in sorted(rule.sources & set(graph)):
            if rule.transitive:
                reach = _paths_from(graph, source)
                reach.pop(source)
            else:
                reach = {t: [f"{source} -> {t} ({w})"] for t, w in graph[source].items()}
            for target, chain in sorted(reach.items()):
                if rule.forbidden == ANY or target in rule.forbidden:
                    out.append(f"web4rl.{source} must not import web4rl.{target} ({rule.why}): "
                               + "; ".join(chain))
    return out


def cycles(edges: list[Edge]) -> list[str]:
    """One import chain per pair of units that reach each other."""
    graph = _graph(edges)
    out: list[str] = []
    for a in sorted(graph):
        reach_a = _paths_from(graph, a)
        for b in sorted(reach_a):
            if a < b:
                back = _paths_from(graph, b).get(a)
                if back is not None:
                    out.append(f"{a} <-> {b}: " + "; ".join(reach_a[b] + back))
    return out


EDGES = import_edges(PACKAGE)


def test_the_parser_sees_the_known_imports():
    pairs = {(e.source, e.target) for e in EDGES}
    assert {("algorithms", "policy"), ("data", "chat"), ("judges", "sim")} <= pairs


def test_import_rules_hold():
    assert violations(EDGES) == []


def test_no_import_cycles_between_units():
    assert cycles(EDGES) == []


# "About 400 lines" (docs/architecture.md, Module sizes): above this a module is split by topic,
# or its docstring gives the reason in a paragraph starting "Size:".
MAX_MODULE_LINES = 420


def oversized(root: Path, limit: int = MAX_MODULE_LINES) -> list[str]:
    """Modules under ``root`` longer than ``limit`` lines whose docstring states no "Size:"."""
    out = []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        n = len(text.splitlines())
        if n > limit and "Size:" not in (ast.get_docstring(ast.parse(text)) or ""):
            out.append(f"{path.relative_to(root.parent)}: {n} lines")
    return out


def test_modules_are_small_or_say_why():
    assert oversized(PACKAGE) == [], "split by topic (keep the import path) or state 'Size:'"


def test_size_check_counts_lines_and_reads_the_reason(tmp_path):
    body = "x = 1\n" * 30
    root = _write(tmp_path, {"big.py": body, "ok.py": '"""Small."""\n',
                             "said.py": '"""Big.\n\nSize: one table."""\n' + body})
    assert oversized(root, limit=20) == ["pkg/big.py: 30 lines"]


def test_tests_are_named_by_topic_not_package():
    # tests/<pkg>/test_<topic>.py: the directory already names the package (pytest runs with
    # --import-mode=importlib, so basenames need not be unique).
    tests = Path(__file__).resolve().parent
    stutter = sorted(str(p.relative_to(tests)) for p in tests.glob("*/test_*.py")
                     if p.name.startswith(f"test_{p.parent.name}_"))
    assert stutter == [], f"rename with git mv (drop the package prefix): {stutter}"


# ---------------------------------------------------------------------------- the checker itself
def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / "pkg" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "pkg"


def test_checker_finds_a_lazy_transitive_violation_and_names_the_chain(tmp_path):
    root = _write(tmp_path, {
        "__init__.py": "",
        "sim/__init__.py": "",
        "sim/env.py": "def f():\n    from pkg.helpers import g\n",
        "helpers.py": "import pkg.policy\n",
        "policy.py": "",
    })
    found = violations(import_edges(root))
    assert len(found) == 1
    assert "web4rl.sim must not import web4rl.policy" in found[0]
    assert "sim -> helpers (pkg/sim/env.py:2); helpers -> policy (pkg/helpers.py:1)" in found[0]


def test_checker_direct_rule_allows_the_detour_and_skips_type_checking(tmp_path):
    root = _write(tmp_path, {
        "__init__.py": "",
        "algorithms/__init__.py": "from pkg import rollout\n",
        "algorithms/ppo.py": ("from typing import TYPE_CHECKING\n"
                              "if TYPE_CHECKING:\n    from pkg.sim import Env\n"),
        "rollout/__init__.py": "from ..sim import env\n",
        "sim/__init__.py": "",
        "sim/env.py": "",
    })
    edges = import_edges(root)
    assert {(e.source, e.target) for e in edges} == {("algorithms", "rollout"), ("rollout", "sim")}
    assert violations(edges) == []
    direct = _write(tmp_path, {"algorithms/sft.py": "from pkg.judges import judge\n",
                               "judges/__init__.py": "", "judges/judge.py": ""})
    assert any("algorithms must not import web4rl.judges" in v
               for v in violations(import_edges(direct)))


def test_checker_reports_a_cycle(tmp_path):
    root = _write(tmp_path, {
        "__init__.py": "",
        "callbacks/__init__.py": "from pkg.algorithms.base import x\n",
        "algorithms/__init__.py": "",
        "algorithms/base.py": "def f():\n    import pkg.callbacks\n",
    })
    (found,) = cycles(import_edges(root))
    assert found.startswith("algorithms <-> callbacks")
