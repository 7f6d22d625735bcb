"""Episode logs: JSONL with every action, result and reward component, and a readable replay.

One line per record, three record types::

    {"type": "start", "task": {...}, "seed": 0, "rewards": {...}, "tools": "web4",
     "observation": "..."}  (the task in its canonical form, reloadable with as_task; "tools"
     is the profile it was played in, Task.for_tools(tools) the translated form)
    {"type": "step", "step": 1, "action_text": "...", "actions": [...], "results": [...],
     "reward": 6.5, "components": {...}, "parse_error": null, "guardrail": null,
     "terminated": false, "truncated": false, "observation": "..."}
    {"type": "end", "success": true, "return": 23.0, "steps": 2, "files": {...}}

A log holds any number of episodes back to back. :func:`render_log` turns one into terminal
text for humans watching replays (``python -m web4rl sim replay LOG``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

from web4rl.jsonl import RowError, iter_jsonl
from web4rl.sim.episode import StepOutcome
from web4rl.sim.rewards import RewardConfig
from web4rl.sim.tasks import Task


class EpisodeLogger:
    """Appends episodes to a JSONL file; the file is flushed after every record."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fh: TextIO | None = None
        self._return = 0.0
        self._steps = 0
        self._files: dict[str, str] = {}

    def _write(self, record: dict[str, Any]) -> None:
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.path.open("a", encoding="utf-8")
        self._fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._fh.flush()

    def start(
        self,
        task: Task,
        seed: int | None,
        rewards: RewardConfig,
        observation: str,
        tools: str | None = None,
    ) -> None:
        self._return, self._steps = 0.0, 0
        self._write(
            {
                "type": "start",
                "task": task.to_dict(),
                "seed": seed,
                "rewards": rewards.to_dict(),
                "tools": tools or task.tools,
                "observation": observation,
            }
        )

    def step(self, action_text: Any, out: StepOutcome) -> None:
        info = out.info
        self._return += out.reward
        self._steps = info.get("step", self._steps)
        self._write(
            {
                "type": "step",
                "step": info.get("step"),
                "action_text": action_text if isinstance(action_text, str) else repr(action_text),
                "actions": info.get("actions", []),
                "results": info.get("results", []),
                "reward": out.reward,
                "components": info.get("reward_components", {}),
                "parse_error": info.get("parse_error"),
                "guardrail": info.get("guardrail"),
                "terminated": out.terminated,
                "truncated": out.truncated,
                "observation": out.observation,
            }
        )
        if out.terminated or out.truncated:
            self._write(
                {
                    "type": "end",
                    "success": bool(info.get("success")),
                    "return": self._return,
                    "steps": self._steps,
                }
            )

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def read_log(path: str | Path) -> list[list[dict[str, Any]]]:
    """Episodes in a log, each a list of records; raises ValueError as ``file:line: ...``
    (the one JSONL reader and error format, web4rl.jsonl)."""
    episodes: list[list[dict[str, Any]]] = []
    for loc, rec in iter_jsonl(path):
        if isinstance(rec, RowError):
            if loc.line == 0 and "empty" in rec.message:
                return episodes  # an empty log holds no episodes
            raise ValueError(str(rec))
        if not isinstance(rec, dict) or rec.get("type") not in ("start", "step", "end"):
            raise ValueError(str(RowError(loc, "type", "must be start, step or end")))
        if rec["type"] == "start":
            episodes.append([])
        elif not episodes:
            raise ValueError(f"{loc}: a {rec['type']} record before any start record")
        episodes[-1].append(rec)
    return episodes


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def render_episode(records: list[dict[str, Any]], show_observations: bool = False) -> str:
    """Readable terminal text for one episode's records."""
    out: list[str] = []
    for rec in records:
        if rec["type"] == "start":
            task = rec["task"]
            out.append(
                f"=== {task['id']}  [{task['category']}, {task['difficulty']}]  seed={rec.get('seed')}"
            )
            out.append(_indent(task["description"]))
            out.append(f"    files: {', '.join(sorted(task['initial_files'])) or '(none)'}")
        elif rec["type"] == "step":
            nonzero = {k: v for k, v in rec["components"].items() if v}
            out.append(f"--- step {rec['step']}  reward {rec['reward']:+.1f}  {nonzero}")
            if rec["parse_error"]:
                out.append(
                    f"    parse error ({rec['parse_error']['kind']}): {rec['parse_error']['message']}"
                )
                out.append(_indent(rec["action_text"][:500], "    > "))
            for action, result in zip(rec["actions"], rec["results"], strict=False):
                args = json.dumps(action["args"], ensure_ascii=False)
                out.append(f"    {action['tool']}({args[:300]}{'...' if len(args) > 300 else ''})")
                out.append(f"      -> {'ok' if result['ok'] else 'ERROR: ' + str(result['error'])}")
            if rec["guardrail"]:
                out.append(f"    GUARDRAIL: {rec['guardrail']}")
            if show_observations:
                out.append(_indent(rec["observation"], "    | "))
        else:
            verdict = "SUCCESS" if rec["success"] else "FAILED"
            out.append(f"=== {verdict}  return {rec['return']:+.1f}  steps {rec['steps']}")
    return "\n".join(out)
