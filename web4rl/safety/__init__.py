"""One safety rulebook for the simulator and the judge (see :mod:`web4rl.safety.rules`).

Torch-free; the simulator's guardrail and the judge's guardrail both import it.
"""

from web4rl.safety.rules import (
    CREDENTIAL_PATH,
    SAFE_COMMANDS,
    SECRET_PATTERNS,
    UNSAFE_CONTENT_PATTERNS,
    command_violation,
    find_secret,
    is_credential_path,
    is_git_internal,
    unsafe_content,
    write_violation,
)

__all__ = [
    "CREDENTIAL_PATH",
    "SAFE_COMMANDS",
    "SECRET_PATTERNS",
    "UNSAFE_CONTENT_PATTERNS",
    "command_violation",
    "find_secret",
    "is_credential_path",
    "is_git_internal",
    "unsafe_content",
    "write_violation",
]
