"""Stage 3 simulator: a deterministic, in-memory tool-use environment.

Modules: fs (in-memory file system; globs: its glob matcher), tools (THE tool catalog: the
web4 and cursor profiles, JSON Schemas, catalog text, canonical-task translation), actions
(parse model text into actions), guardrails (unsafe-action checks), shell (the safe command
subset; shell_search: grep and find, shell_base: what every command shares), execute (run one
action; executors / executors_web4: one function per tool), rewards, tasks (format, loading;
checks: the success checks), generators (procedural tasks), curriculum (difficulty schedule +
task generator), episode (the pure episode core), env (gymnasium ``web4rl/ToolUse-v0`` +
batched form), logs (JSONL episode logs), cli.

Importing this package registers ``web4rl/ToolUse-v0`` with gymnasium.
"""

from web4rl.sim.actions import ParseError, ParseResult, parse_actions
from web4rl.sim.env import ENV_ID, BatchedToolUseEnv, ToolUseEnv, Trajectory, register
from web4rl.sim.episode import Episode, verify_task
from web4rl.sim.execute import ToolResult, execute_action
from web4rl.sim.fs import Workspace
from web4rl.sim.guardrails import check_guardrail
from web4rl.sim.rewards import RewardConfig
from web4rl.sim.tasks import Task, load_builtin_tasks, load_tasks
from web4rl.sim.tools import (
    DEFAULT_PROFILE,
    PROFILE_NAMES,
    TOOL_NAMES,
    TOOL_SCHEMAS,
    ToolProfile,
    get_profile,
    tool_catalog_text,
)

register()

__all__ = [
    "DEFAULT_PROFILE",
    "ENV_ID",
    "PROFILE_NAMES",
    "ToolProfile",
    "get_profile",
    "TOOL_NAMES",
    "TOOL_SCHEMAS",
    "BatchedToolUseEnv",
    "Episode",
    "ParseError",
    "ParseResult",
    "RewardConfig",
    "Task",
    "ToolResult",
    "ToolUseEnv",
    "Trajectory",
    "Workspace",
    "check_guardrail",
    "execute_action",
    "load_builtin_tasks",
    "load_tasks",
    "parse_actions",
    "register",
    "tool_catalog_text",
    "verify_task",
]
