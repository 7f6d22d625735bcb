"""The workspaces are realistic TypeScript/React: every .ts/.tsx/.json file parses.

Covers the generated workspaces (several seeds of every category and difficulty), the
handcrafted tasks' files, and the files their reference solutions write, i.e. the final
workspace after replaying expected_actions. Skipped when the optional tree-sitter grammars
(the `code` extra) are not installed.
"""

import json

import pytest

from web4rl.sim.episode import Episode
from web4rl.sim.generators import generate_task
from web4rl.sim.tasks import CATEGORIES, DIFFICULTIES, load_builtin_tasks

tree_sitter = pytest.importorskip("tree_sitter")
tst = pytest.importorskip("tree_sitter_typescript")

PARSERS = {
    ".ts": tree_sitter.Parser(tree_sitter.Language(tst.language_typescript())),
    ".tsx": tree_sitter.Parser(tree_sitter.Language(tst.language_tsx())),
}


def syntax_errors(files: dict[str, str]) -> list[str]:
    bad = []
    for path, text in files.items():
        if path.endswith(".json"):
            try:
                json.loads(text)
            except ValueError:
                bad.append(path)
            continue
        parser = PARSERS.get(path[path.rfind(".") :])
        if parser is not None and parser.parse(text.encode()).root_node.has_error:
            bad.append(path)
    return bad


def final_files(task) -> dict[str, str]:
    ep = Episode(task, include_catalog=False)
    for action in task.expected_actions:
        ep.step(json.dumps(action))
    return ep.ws.files()


@pytest.mark.parametrize("category", CATEGORIES)
@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_generated_workspaces_and_solutions_parse(category, difficulty):
    for seed in range(3):
        task = generate_task(category, difficulty, seed)
        assert syntax_errors(task.initial_files) == [], (category, difficulty, seed)
        assert syntax_errors(final_files(task)) == [], (category, difficulty, seed)


def test_handcrafted_workspaces_and_solutions_parse():
    for task in load_builtin_tasks():
        assert syntax_errors(task.initial_files) == [], task.id
        assert syntax_errors(final_files(task)) == [], task.id


def test_the_checker_catches_broken_code():
    assert syntax_errors(
        {"a.tsx": "export function A( {", "b.json": "{", "c.ts": "const x = 1;\n"}
    ) == ["a.tsx", "b.json"]
