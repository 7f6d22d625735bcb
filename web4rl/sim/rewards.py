"""Reward numbers (DESIGN.md section 6) and the per-step reward components.

Every step's info dict carries all components (zeros included) so logs and metrics always
have the same keys. How the components are assigned (env.py / episode.py apply these rules):

- each executed or attempted action: ``step`` (-0.5);
- a parse failure: ``schema_fail`` (-5); invalid JSON or an unknown tool also ``wrong_tool``
  (-3); a schema failure of a known tool earns no correct-tool credit but costs
  ``wrong_tool`` when the tool is not the expected one;
- a valid action: ``schema_pass`` (+2); then it runs:
  - it succeeds: ``correct_tool`` (+5) when its tool is the next one in the task's expected
    sequence (the pointer then advances), else ``wrong_tool`` (-3); once the expected
    sequence is used up, neither (0);
  - it fails (file missing, ``npm test`` outside the safe command subset, a URL that is not
    a fixture, ...): ``exec_error`` (-3) and no correct-tool credit (``wrong_tool`` still
    applies to a wrong tool);
- ``redundant`` (-2): the same action (defaults filled in) was already executed while the
  workspace was in the same state;
- ``style_pass`` (+1): a successful write tool call that changed a file leaves it passing
  :func:`style_issues`;
- ``guardrail`` (-10): the action was unsafe (web4rl.safety); the episode ends. ``failed``
  is not added unless ``guardrail_also_fails`` is set;
- ``end_on_error`` (default True, the seed's design): a JSON / schema / execution error ends
  the episode (terminated, no ``failed``); False lets the model read the error and retry;
- ``complete`` (+10) when all success checks pass; ``failed`` (-5) when the step budget runs out.

Worked example ("read main.ts and count its lines"): read_file = 5 + 2 - 0.5 = 6.5; then
run_terminal_command "wc -l main.ts" = 6.5 + 10 = 16.5; total 23 (either profile).

Deviations from the seed's reward table that are kept, with the reason:

- a wrong tool whose call also fails costs both ``wrong_tool`` and ``exec_error``: otherwise
  failing a wrong call would be cheaper than making it work;
- a schema failure of the expected tool costs ``schema_fail`` without ``wrong_tool`` (so "right
  tool, bad arguments" = -5 - 0.5 beats "wrong tool" or "not JSON" at -8.5);
- ``edit_existing_file`` whose ``changes`` is a description ("Update imports to use
  TypeScript", the real data's form) succeeds as a recorded no-op (the issue's semantics): it
  earns the tool credit of a successful call but changes nothing, so the task's checks still
  fail and repeating it is ``redundant``;
- ``redundant`` and ``style_pass`` are this simulator's additions (DESIGN.md section 6 lists
  them; the seed's table does not define them precisely).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass

from web4rl.filetypes import JS_SUFFIXES, STYLE_SUFFIXES

COMPONENT_NAMES: tuple[str, ...] = (
    "complete",
    "failed",
    "correct_tool",
    "wrong_tool",
    "exec_error",
    "schema_pass",
    "schema_fail",
    "style_pass",
    "step",
    "redundant",
    "guardrail",
)


@dataclass(frozen=True)
class RewardConfig:
    """Simulator reward numbers (all configurable; defaults from DESIGN.md section 6).

    complete: all success checks pass (episode ends).
    failed: step budget exhausted without success (and after a guardrail, see below).
    correct_tool / wrong_tool: the action's tool matches / misses the next expected tool
        (correct_tool only when the call also succeeds).
    exec_error: a schema-valid call whose execution fails.
    schema_pass / schema_fail: the action parses and validates / does not.
    style_pass: a write leaves a file that passes the style check.
    step: cost of every action (favours short solutions).
    redundant: exact repeat of an action on an unchanged workspace.
    guardrail: unsafe action (episode ends).
    guardrail_also_fails: add `failed` on guardrail termination too (off by default: the
        seed's guardrail is -10 and ends, no more).
    end_on_error: a JSON / schema / execution error ends the episode (seed default).
    """

    complete: float = 10.0
    failed: float = -5.0
    correct_tool: float = 5.0
    wrong_tool: float = -3.0
    exec_error: float = -3.0
    schema_pass: float = 2.0
    schema_fail: float = -5.0
    style_pass: float = 1.0
    step: float = -0.5
    redundant: float = -2.0
    guardrail: float = -10.0
    guardrail_also_fails: bool = False
    end_on_error: bool = True

    def to_dict(self) -> dict:
        return asdict(self)


def zero_components() -> dict[str, float]:
    """A components dict with every name at 0.0 (fixed keys for logging)."""
    return dict.fromkeys(COMPONENT_NAMES, 0.0)


_CODE_SUFFIXES = STYLE_SUFFIXES  # the one code-extension table (web4rl.filetypes)
_VAR_DECL = re.compile(r"^\s*var\s", re.MULTILINE)
MAX_LINE_CHARS = 120


def style_issues(path: str, text: str) -> list[str]:
    """Style problems of a written file (empty list = passes).

    Deliberately small, fast and deterministic (a lint stand-in, not a linter): text ends
    with a newline, no trailing whitespace, no tab indentation, lines at most 120 characters;
    for JS/TS no `var` declarations; JSON must parse. Files of other types never pass, so
    style credit is only earned on code the project lints.
    """
    if not path.endswith(_CODE_SUFFIXES):
        return [f"{path}: not a linted file type"]
    issues = []
    if text and not text.endswith("\n"):
        issues.append("missing final newline")
    for i, line in enumerate(text.split("\n"), 1):
        if line != line.rstrip():
            issues.append(f"line {i}: trailing whitespace")
            break
    for i, line in enumerate(text.split("\n"), 1):
        if line.startswith("\t"):
            issues.append(f"line {i}: tab indentation")
            break
    for i, line in enumerate(text.split("\n"), 1):
        if len(line) > MAX_LINE_CHARS:
            issues.append(f"line {i}: longer than {MAX_LINE_CHARS} characters")
            break
    if path.endswith(JS_SUFFIXES) and _VAR_DECL.search(text):
        issues.append("uses `var` (use const/let)")
    if path.endswith(".json"):
        try:
            json.loads(text)
        except ValueError as exc:
            issues.append(f"invalid JSON: {exc}")
    return issues
