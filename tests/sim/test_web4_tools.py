"""The web4 profile's tools, executed for real in the in-memory workspace."""

import pytest

from web4rl.sim.execute import TaskContext, execute_action
from web4rl.sim.fs import Workspace
from web4rl.sim.generators import generate_task
from web4rl.sim.tasks import CATEGORIES, DIFFICULTIES, load_builtin_tasks
from web4rl.sim.tools import WEB4_ONLY

FILES = {
    "src/a.ts": "export const a = 1;\nexport const b = 2;\n",
    "src/components/Button.tsx": "export const Button = () => null;\n",
    "README.md": "# App\n",
}
DOCS = "https://docs.example.com/api"
CTX = TaskContext(FILES, "src/a.ts", {DOCS: "# API\n\nBase URL: https://api.example.com/v2\n"})


@pytest.fixture
def ws():
    return Workspace(FILES)


def run(ws, tool, **args):
    return execute_action(ws, {"tool": tool, "args": args}, CTX)


def test_read_file_path_form(ws):
    r = run(ws, "read_file", path="src/a.ts")
    assert r.ok and "     1|export const a = 1;" in r.output


def test_create_new_file_refuses_to_overwrite(ws):
    r = run(ws, "create_new_file", path="src/new.ts", content="export {};\n")
    assert r.ok and ws.read("src/new.ts") == "export {};\n"
    r = run(ws, "create_new_file", path="src/a.ts", content="x")
    assert not r.ok and "already exists" in r.error and "edit_existing_file" in r.error
    assert ws.read("src/a.ts") == FILES["src/a.ts"]


def test_edit_existing_file_forms(ws):
    # SEARCH/REPLACE blocks (several, applied in order, all or nothing).
    changes = (
        "<<<<<<< SEARCH\nexport const a = 1;\n=======\nexport const a = 10;\n>>>>>>> REPLACE\n"
        "<<<<<<< SEARCH\nexport const b = 2;\n=======\n>>>>>>> REPLACE"
    )
    r = run(ws, "edit_existing_file", path="src/a.ts", changes=changes)
    assert r.ok and ws.read("src/a.ts") == "export const a = 10;\n\n"
    missing = "<<<<<<< SEARCH\nnope\n=======\nx\n>>>>>>> REPLACE"
    r = run(ws, "edit_existing_file", path="src/a.ts", changes=missing)
    assert not r.ok and "not found" in r.error and ws.read("src/a.ts") == "export const a = 10;\n\n"
    # Full content.
    r = run(ws, "edit_existing_file", path="src/a.ts", changes="export const c = 3;\n")
    assert r.ok and ws.read("src/a.ts") == "export const c = 3;\n"
    # A description (the real data's form) or a lazy sketch: recorded, not applied.
    rev = ws.revision
    for text in ("Update imports to use TypeScript", "// ... existing code ...\nconst d = 4;\n"):
        r = run(ws, "edit_existing_file", path="src/a.ts", changes=text)
        assert r.ok and "did not apply" in r.output and ws.revision == rev
    r = run(ws, "edit_existing_file", path="src/missing.ts", changes="x\n")
    assert not r.ok and "no such file" in r.error


def test_single_find_and_replace(ws):
    r = run(ws, "single_find_and_replace", file_path="src/a.ts", find="= 1", replace="= 5")
    assert r.ok and "export const a = 5;" in ws.read("src/a.ts")
    r = run(ws, "single_find_and_replace", file_path="src/a.ts", find="export", replace="x")
    assert not r.ok and "find occurs 2 times" in r.error


def test_file_glob_search_and_ls(ws):
    assert run(ws, "file_glob_search", pattern="*.tsx").output == "src/components/Button.tsx"
    assert run(ws, "file_glob_search", pattern="src/**/*.ts").output == "src/a.ts"
    assert run(ws, "file_glob_search", pattern="components/*.tsx").output == "No files found."
    assert "components/" in run(ws, "ls", path="src").output


def test_run_terminal_command_working_directory(ws):
    r = run(ws, "run_terminal_command", command="ls", working_directory="src/components")
    assert r.ok and r.output.startswith("Button.tsx")
    assert ws.cwd == "/workspace"  # restored
    r = run(ws, "run_terminal_command", command="wc -l a.ts", working_directory="src")
    assert r.ok and "2 a.ts" in r.output
    for bad in ("nope", "../..", "/etc"):
        r = run(ws, "run_terminal_command", command="ls", working_directory=bad)
        assert not r.ok and "working_directory" in r.error
    r = run(ws, "run_terminal_command", command="npm test")
    assert not r.ok and "command not found" in r.error


def test_read_currently_open_file(ws):
    r = run(ws, "read_currently_open_file")
    assert r.ok and r.output.startswith("(open file: src/a.ts)") and "export const a" in r.output
    r = execute_action(ws, {"tool": "read_currently_open_file", "args": {}})
    assert not r.ok and "no file is open" in r.error


def test_view_diff(ws):
    assert run(ws, "view_diff").output == "No changes."
    run(ws, "single_find_and_replace", file_path="src/a.ts", find="= 1", replace="= 7")
    run(ws, "create_new_file", path="src/n.ts", content="new\n")
    out = run(ws, "view_diff").output
    assert "--- a/src/a.ts\n+++ b/src/a.ts" in out
    assert "-export const a = 1;\n+export const a = 7;" in out
    assert "--- /dev/null\n+++ b/src/n.ts" in out and "+new" in out
    assert out == run(ws, "view_diff").output  # deterministic


def test_fetch_url_content(ws):
    r = run(ws, "fetch_url_content", url=DOCS)
    assert r.ok and "Base URL" in r.output
    assert run(ws, "fetch_url_content", url=DOCS + "/").ok  # trailing slash tolerated
    r = run(ws, "fetch_url_content", url="https://example.com/other")
    assert not r.ok and r.error.startswith("network not available in the simulator")


def test_create_rule_block(ws):
    r = run(ws, "create_rule_block", rule="RULE: Use TypeScript for all new code")
    path = ".continue/rules/use-typescript-for-all-new-code.md"
    assert r.ok and path in r.output
    assert (
        ws.read(path)
        == "# RULE: Use TypeScript for all new code\n\nRULE: Use TypeScript for all new code\n"
    )
    run(ws, "create_rule_block", rule="Prefer const", name="const-first")
    assert ws.is_file(".continue/rules/const-first.md")


def test_evaluate_model_fails_clearly(ws):
    r = run(ws, "evaluate_model", metrics=["accuracy"], threshold=0.95)
    assert not r.ok and "no model evaluation harness" in r.error


def test_each_web4_only_tool_is_exercised_by_three_tasks():
    """Handcrafted tasks plus generator variants (evaluate_model cannot succeed in a task)."""
    tasks = list(load_builtin_tasks())
    tasks += [generate_task(c, d, s) for c in CATEGORIES for d in DIFFICULTIES for s in range(20)]
    for tool in WEB4_ONLY:
        if tool == "evaluate_model":
            continue
        users = [t.id for t in tasks if any(a["tool"] == tool for a in t.expected_actions)]
        handcrafted = [u for u in users if not u.startswith("gen/")]
        assert len(users) >= 3 and handcrafted and len(users) > len(handcrafted), (tool, users)
