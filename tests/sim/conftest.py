import pytest

from web4rl.sim.tasks import task_from_dict

MAIN_TS = "const a = 1;\nconst b = 2;\nconsole.log(a + b);\n"


@pytest.fixture
def count_task():
    """The DESIGN.md worked example: read main.ts, then count its lines."""
    return task_from_dict(
        {
            "id": "test/count-lines",
            "description": "Read main.ts and count its lines.",
            "category": "tool_use",
            "difficulty": "simple",
            "initial_files": {
                "main.ts": MAIN_TS,
                "src/app.tsx": "export const App = () => null;\n",
            },
            "expected_actions": [
                {"tool": "read_file", "args": {"target_file": "main.ts"}},
                {"tool": "run_terminal_cmd", "args": {"command": "wc -l main.ts"}},
            ],
            "success": [
                {"type": "tool_called", "tool": "read_file"},
                {"type": "output_contains", "tool": "run_terminal_cmd", "text": "3 main.ts"},
            ],
            "max_steps": 6,
        }
    )
