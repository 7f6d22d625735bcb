"""Stage 3 simulator: a deterministic, in-memory tool-use environment.

Modules: fs (in-memory file system), tools (THE tool catalog + JSON Schemas), actions (parse
model text into actions), guardrails (unsafe-action checks), execute (run an action).
"""
