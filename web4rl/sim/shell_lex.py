"""Moved to :mod:`web4rl.safety.shell_lex` (the safety rulebook lexes commands too)."""

from web4rl.safety.shell_lex import OPERATORS, ShellSyntaxError, Token, split_pipeline, tokenize

__all__ = ["OPERATORS", "ShellSyntaxError", "Token", "split_pipeline", "tokenize"]
