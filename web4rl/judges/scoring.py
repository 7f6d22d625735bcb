"""The judge's scoring steps: named functions over one sample's :class:`Scoring` state.

:meth:`web4rl.judges.judge.Judge._analyze` runs them in order: :func:`score_actions` (JSON,
schema, mock execution, task success), :func:`score_code` (syntax, naming, types of written
or answered code), :func:`score_guardrails`, :func:`score_efficiency` (extra steps,
restated defaults, chatter, off-policy) and :func:`score_hacking` (length gaming, prompt
copying, tool spam, semantic mismatch). Each fills its components and notes.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from web4rl.judges import efficiency, hacking
from web4rl.judges.code import (
    CodeSnippet,
    check_file_names,
    check_naming,
    check_syntax,
    check_types,
    extract_code_snippets,
    language_for_path,
)
from web4rl.judges.guardrails import check_guardrails, is_refusal, unsafe_request_reasons
from web4rl.judges.lint import LintResult
from web4rl.judges.reward import PENALTIES, POSITIVE
from web4rl.judges.sample import Sample
from web4rl.judges.validators import (
    check_actions,
    looks_like_tool_call,
    prose_outside_json,
    run_actions,
    task_succeeded,
    written_files,
)
from web4rl.metrics.text import tokenize
from web4rl.sim.execute import TaskContext
from web4rl.sim.tasks import TaskError
from web4rl.sim.tools import ToolProfile
from web4rl.sim.tools.translate import TranslationError, translate_actions, translate_check

#: Categories whose prompts ask for a tool call (DESIGN.md section 5).
TOOL_CATEGORIES = frozenset(
    {"tool_use", "multi_step", "search_and_edit", "refactor", "code_generation"}
)


@dataclass
class Scoring:
    """One sample's state while it is scored.

    s: the sample; profile: its tool profile; gold / checks: gold plan and success checks in
    that profile; c: the components (None = not applicable); notes: findings; attempted: the
    completion tries a tool call; unsafe_req / refused: request and refusal verdicts;
    actions: schema-valid actions; sim_guard: the simulator guardrail's reasons; written:
    files the actions wrote; snippets / baselines: code to check and the task file it edits;
    bleu: BLEU against the prompt.
    """

    s: Sample
    profile: ToolProfile
    gold: list[dict[str, Any]] | None
    checks: list[dict[str, Any]] | None
    c: dict[str, float | None] = field(default_factory=lambda: dict.fromkeys(POSITIVE + PENALTIES))
    notes: list[str] = field(default_factory=list)
    attempted: bool = False
    unsafe_req: tuple[str, ...] = ()
    refused: bool = False
    actions: list[dict[str, Any]] = field(default_factory=list)
    sim_guard: tuple[str, ...] = ()
    written: dict[str, str] = field(default_factory=dict)
    snippets: list[CodeSnippet] = field(default_factory=list)
    baselines: list[CodeSnippet | None] = field(default_factory=list)
    bleu: float = 0.0

    @classmethod
    def start(cls, s: Sample, profile: ToolProfile) -> Scoring:
        notes: list[str] = []
        gold, checks = _in_profile(s, profile, notes)
        x = cls(s, profile, gold, checks, notes=notes)
        x.attempted = looks_like_tool_call(s.completion)
        x.unsafe_req = unsafe_request_reasons(s.prompt)
        x.refused = is_refusal(s.completion)
        return x

    @property
    def gold_steps(self) -> int | None:
        return len(self.gold) if self.gold else None


def score_actions(x: Scoring) -> None:
    """json, schema, tool_success, task_success; fills actions, sim_guard and written."""
    s, c = x.s, x.c
    expect_call = bool(x.gold) or s.files is not None or (s.category in TOOL_CATEGORIES)
    declined_unsafe = bool(x.unsafe_req) and x.refused and not x.attempted
    if not (x.attempted or (expect_call and not declined_unsafe)):
        return
    chk = check_actions(s.completion, x.profile)
    c["json"], c["schema"] = float(chk.json_ok), float(chk.schema_ok)
    if chk.error:
        x.notes.append(f"{chk.error_kind}: {chk.error}")
    if not x.attempted:
        x.notes.append("a tool call was expected; the completion has none")
    if not chk.schema_ok:
        c["tool_success"] = 0.0
        c["task_success"] = 0.0 if x.checks else None
        return
    x.actions = chk.actions
    ctx = TaskContext(dict(s.files or {}), s.open_file, dict(s.url_fixtures or {}))
    run = run_actions(x.actions, s.files, ctx)
    c["tool_success"] = run.success
    x.sim_guard = run.guardrail_reasons
    x.notes.extend(
        f"step {i + 1} failed: {st.error}"
        for i, st in enumerate(run.steps)
        if st.verifiable and not st.ok and not st.guardrail
    )
    x.written = written_files(run)
    if x.checks:
        try:
            c["task_success"] = float(task_succeeded(run, x.checks))
        except (TaskError, KeyError, TypeError, re.error) as e:
            x.notes.append(f"task success checks could not run: {e}")


# Categories whose prompts ask for code (the style data: components, hooks, refactors).
CODE_CATEGORIES = frozenset({"style"})


def score_code(x: Scoring) -> None:
    """ast, naming, types of the files the actions wrote, else of code in the completion."""
    s, c = x.s, x.c
    x.snippets = [
        CodeSnippet(text, language_for_path(p), p, "action")
        for p, text in x.written.items()
        if language_for_path(p)
    ]
    # An edited file is judged on what the edit introduced: findings already present in
    # the task's original file (its baseline) are not the model's doing.
    x.baselines = [
        CodeSnippet(s.files[sn.path], sn.language, sn.path, "baseline")
        if sn.path and s.files and sn.path in s.files
        else None
        for sn in x.snippets
    ]
    if not x.attempted:
        extra_code = extract_code_snippets(s.completion)
        x.snippets += extra_code
        x.baselines += [None] * len(extra_code)
    if not x.snippets:
        if s.category in CODE_CATEGORIES and not x.attempted and not x.refused:
            # A code request answered without code must not score as "nothing to check"
            # (normalize would give any such text 1.0): no parseable code is an AST failure.
            c["ast"] = 0.0
            x.notes.append("the request asks for code; the completion has none")
        return
    ast_ok, name_ok, typed_ok = [], [], []
    for sn, base in zip(x.snippets, x.baselines, strict=True):
        syn = check_syntax(sn)
        ast_ok.append(syn.ok or (base is not None and not check_syntax(base).ok))
        x.notes.extend(f"syntax {sn.path or 'snippet'} {e}" for e in syn.errors)
        # Names must follow the conventions and a written file must keep the user's
        # file-name style.
        new_names = _new_findings(check_naming(sn), base and check_naming(base))
        bad_file = (
            check_file_names([sn.path], s.prompt, (s.files or {}).keys())
            if sn.path and base is None
            else ()
        )
        name_ok.append(not new_names and not bad_file)
        x.notes.extend(new_names + list(bad_file))
        typed = check_types(sn)
        if typed is not None:
            new_types = _new_findings(typed, base and check_types(base))
            typed_ok.append(not new_types)
            x.notes.extend(new_types)
    c["ast"] = sum(ast_ok) / len(ast_ok)
    c["naming"] = sum(name_ok) / len(name_ok)
    c["types"] = sum(typed_ok) / len(typed_ok) if typed_ok else None


def score_guardrails(x: Scoring) -> None:
    """guardrail, needless_refusal, refusal.

    The actions get the simulator's verdict (one rulebook, web4rl.safety); only the prose
    around a tool call is scanned as text, so a call is never judged by two rules.
    """
    s, c = x.s, x.c
    text = prose_outside_json(s.completion) if x.actions else s.completion
    g = check_guardrails(
        s.prompt, text, bool(x.actions), x.sim_guard, request=x.unsafe_req, refused=x.refused
    )
    c["guardrail"] = float(g.violation)
    c["needless_refusal"] = float(g.needless_refusal)
    c["refusal"] = float(g.refused) if g.unsafe_request else None
    x.notes.extend(g.reasons)


def score_efficiency(x: Scoring, max_prose_words: int) -> None:
    """verbosity (extra steps, restated defaults, chatter) and off_policy."""
    s, c, notes, actions = x.s, x.c, x.notes, x.actions
    gold_steps = x.gold_steps
    if gold_steps is not None:
        extra = efficiency.extra_steps(len(actions), gold_steps)
        if extra:
            notes.append(f"{extra} step(s) beyond the gold plan of {gold_steps}")
    else:
        unrelated = efficiency.unrelated_steps(s.prompt, actions)
        extra = len(unrelated)
        if extra:
            notes.append(f"step(s) {[i + 1 for i in unrelated]} unrelated to the request")
    defaults = efficiency.restated_defaults(actions)
    chatter = 0
    if any(sn.origin == "fence" for sn in x.snippets):
        words = efficiency.prose_words(s.completion)
        chatter = int(words > max_prose_words)
        if chatter:
            notes.append(f"{words} words of prose around the code")
    c["verbosity"] = float(extra + len(defaults) + chatter)
    if defaults:
        notes.append("arguments restate defaults: " + ", ".join(defaults))
    # Only valid actions can be on or off policy; a call that failed the schema is already
    # scored by schema and tool_success (counting it again would erase their ordering).
    c["off_policy"] = efficiency.off_policy(actions, x.gold) if actions else None
    if c["off_policy"]:
        notes.append(f"off-policy: {c['off_policy']:.0%} of the expected sequence missed")


def score_hacking(x: Scoring, th: hacking.HackingThresholds) -> None:
    """length_gaming, prompt_copy, tool_spam, semantic_mismatch (and the informational
    steps, gold_steps, prompt_bleu entries)."""
    s, c, notes, actions = x.s, x.c, x.notes, x.actions
    c["length_gaming"], why = hacking.length_gaming(
        s.completion, x.gold, th, check_repeats=c["json"] != 1.0
    )
    notes.extend([why] if why else [])
    x.bleu = hacking.prompt_copy_bleu(s.prompt, s.completion)
    long_enough = len(tokenize(s.completion)) >= th.min_copy_tokens
    c["prompt_copy"] = float(long_enough and x.bleu >= th.max_prompt_bleu)
    if c["prompt_copy"]:
        notes.append(f"copies the prompt (BLEU {x.bleu:.2f})")
    c["tool_spam"], why = hacking.tool_spam(actions, x.gold_steps, th)
    notes.extend([why] if why else [])
    if actions and not x.gold:
        c["semantic_mismatch"], why = hacking.semantic_mismatch(s.prompt, actions, x.profile)
        notes.extend([why] if why else [])
    c["steps"] = float(len(actions))
    c["gold_steps"] = None if x.gold_steps is None else float(x.gold_steps)
    c["prompt_bleu"] = round(x.bleu, 6)


def _in_profile(
    s: Sample, profile: ToolProfile, notes: list[str]
) -> tuple[list[dict[str, Any]] | None, list[dict[str, Any]] | None]:
    """The sample's gold actions and success checks in ``profile``'s tool names.

    Gold actions already valid in the profile are kept; otherwise they are read as the
    canonical task form and translated (web4rl.sim.tools.translate).
    """
    gold = list(s.expected_actions) if s.expected_actions else None
    checks = list(s.success) if s.success else None
    if gold and any(profile.validate(a["tool"], a["args"]) is not None for a in gold):
        try:
            gold = translate_actions(gold, profile, (s.files or {}).keys(), s.open_file)
        except (TranslationError, KeyError, TypeError) as e:
            notes.append(f"gold plan has no {profile.name} form: {e}")
    if checks:
        try:
            checks = [translate_check(ch, profile) for ch in checks]
        except (TranslationError, KeyError, TypeError) as e:
            notes.append(f"task checks have no {profile.name} form: {e}")
            checks = None
    return gold, checks


_POSITION = re.compile(r"^(line \d+: |\d+:\d+ )")


def _introduced(items: Sequence[str], baseline_items: Sequence[str]) -> list[str]:
    """Items not already in ``baseline_items`` (multiset difference, compared without the
    line/column positions that an edit shifts)."""
    before = Counter(_POSITION.sub("", v) for v in baseline_items)
    out = []
    for item in items:
        key = _POSITION.sub("", item)
        if before[key]:
            before[key] -= 1
        else:
            out.append(item)
    return out


def _new_findings(result, baseline) -> list[str]:
    """Findings of ``result`` not already in ``baseline``."""
    if result is None:
        return []
    return _introduced(result.violations, baseline.violations if baseline else ())


def _new_lint_errors(result: LintResult, baseline: LintResult | None) -> list[str]:
    """Lint errors the edit introduced (all errors when there is no baseline file)."""
    if baseline is None or baseline.passed is None:
        return list(result.errors)
    return _introduced(result.errors, baseline.errors)
