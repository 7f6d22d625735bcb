"""Lint generated JS/TS with Biome (a real linter, one process for many snippets).

Biome (`@biomejs/biome` on npm) is a single native binary. It is not a Python dependency, so
it is installed on demand into a cache directory::

    python -m web4rl.judges.lint --install      # npm install @biomejs/biome into the cache

or pointed to with ``WEB4RL_BIOME=/path/to/biome``; a ``biome`` on PATH is used last. When no
binary is found (or it crashes) every result says ``status="unavailable"``: the judge then
leaves lint out of the reward and reports it, it never counts as a pass.

Rules: Biome's recommended set with the a11y group off (snippets are fragments of larger
apps, and a11y findings are not what the style gate measures), ``noExplicitAny`` raised to an
error, and the formatter off. A snippet
fails when Biome reports at least one error-severity diagnostic (parse errors included);
warnings are counted but do not fail it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from web4rl.filetypes import GRAMMAR_SUFFIX
from web4rl.judges.code import CodeSnippet

BIOME_VERSION = "2.6.8"
BIOME_CONFIG: dict = {
    "linter": {
        "enabled": True,
        # `any` defeats the type checker the Web4 conventions rely on: an error, not a hint.
        "rules": {"recommended": True, "a11y": "off", "suspicious": {"noExplicitAny": "error"}},
    },
    "formatter": {"enabled": False},
    "assist": {"enabled": False},
    # Large generated files must be linted, not skipped (Biome's default cap is 1 MiB).
    "files": {"maxSize": 16 * 1024 * 1024},
}
_EXT = {**GRAMMAR_SUFFIX, None: ".tsx"}  # web4rl.filetypes: the one extension table


@dataclass(frozen=True)
class LintResult:
    """Lint verdict for one snippet.

    Attributes:
        status: "pass", "fail" or "unavailable" (no linter / linter crashed; never a pass).
        errors: "line:col rule: message" for each error-severity diagnostic.
        warnings: number of warning-severity diagnostics.
        reason: why the result is unavailable (empty otherwise).
    """

    status: str
    errors: tuple[str, ...] = ()
    warnings: int = 0
    reason: str = ""

    @property
    def passed(self) -> bool | None:
        """True/False for a real verdict, None when unavailable."""
        return None if self.status == "unavailable" else self.status == "pass"


def cache_dir() -> Path:
    """Where the on-demand Biome install lives (``$WEB4RL_CACHE`` or the XDG cache)."""
    root = os.environ.get("WEB4RL_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "web4rl"
    )
    return Path(root) / "biome"


def find_biome() -> str | None:
    """Path of a Biome binary: ``$WEB4RL_BIOME``, then the cache install, then PATH."""
    env = os.environ.get("WEB4RL_BIOME")
    if env:
        return env if os.path.isfile(env) else None
    cached = cache_dir() / "node_modules" / ".bin" / "biome"
    if cached.is_file():
        return str(cached)
    return shutil.which("biome")


def install_biome(target: Path | None = None, version: str = BIOME_VERSION) -> str:
    """Install Biome with npm into ``target`` (default: :func:`cache_dir`); returns the binary."""
    target = target or cache_dir()
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not on PATH; install Node.js >= 18 to use the Biome linter")
    target.mkdir(parents=True, exist_ok=True)
    pkg = target / "package.json"
    if not pkg.exists():
        pkg.write_text('{"name": "web4rl-biome", "private": true}\n')
    subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", f"@biomejs/biome@{version}"],
        cwd=target,
        check=True,
    )
    return str(target / "node_modules" / ".bin" / "biome")


class BiomeLinter:
    """Lints batches of snippets with one Biome process per ``chunk_size`` snippets.

    Args:
        binary: Biome executable; None finds one with :func:`find_biome`.
        chunk_size: snippets per process (bounded so the argument list stays short).
        timeout_s: wall-clock limit per process; a timeout makes that chunk unavailable.
    """

    def __init__(self, binary: str | None = None, chunk_size: int = 512, timeout_s: float = 120.0):
        self.binary = binary if binary is not None else find_biome()
        self.chunk_size = chunk_size
        self.timeout_s = timeout_s

    @property
    def available(self) -> bool:
        """Whether a Biome binary was found."""
        return bool(self.binary) and os.path.isfile(self.binary)

    def lint(self, snippets: Sequence[CodeSnippet]) -> list[LintResult]:
        """One :class:`LintResult` per snippet, in order."""
        if not snippets:
            return []
        if not self.available:
            why = (
                "Biome not found: run `python -m web4rl.judges.lint --install` or set WEB4RL_BIOME"
            )
            return [LintResult("unavailable", reason=why) for _ in snippets]
        out: list[LintResult] = []
        for i in range(0, len(snippets), self.chunk_size):
            out.extend(self._lint_chunk(snippets[i : i + self.chunk_size]))
        return out

    def _lint_chunk(self, snippets: Sequence[CodeSnippet]) -> list[LintResult]:
        with tempfile.TemporaryDirectory(prefix="web4rl-lint-") as tmp:
            names = [f"s{i:05d}{_EXT.get(s.language, '.tsx')}" for i, s in enumerate(snippets)]
            for name, s in zip(names, snippets, strict=True):
                Path(tmp, name).write_text(s.text, encoding="utf-8")
            Path(tmp, "biome.json").write_text(json.dumps(BIOME_CONFIG))
            cmd = [
                self.binary,
                "lint",
                "--config-path=biome.json",
                "--reporter=json",
                "--max-diagnostics=none",
                "--colors=off",
                *names,
            ]
            try:
                proc = subprocess.run(
                    cmd, cwd=tmp, capture_output=True, text=True, timeout=self.timeout_s
                )
            except (OSError, subprocess.TimeoutExpired) as e:
                return [LintResult("unavailable", reason=f"biome failed: {e}") for _ in snippets]
            try:
                report = json.loads(proc.stdout)
            except ValueError:
                msg = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
                reason = f"biome exited {proc.returncode} without a JSON report: {msg[0]}"
                return [LintResult("unavailable", reason=reason) for _ in snippets]
        errors: dict[str, list[str]] = {n: [] for n in names}
        warnings: dict[str, int] = dict.fromkeys(names, 0)
        for d in report.get("diagnostics", []):
            path = Path(d.get("location", {}).get("path") or "").name
            if path not in errors:
                continue
            sev = d.get("severity")
            if sev in ("error", "fatal"):
                start = d.get("location", {}).get("start") or {}
                errors[path].append(
                    f"{start.get('line', '?')}:{start.get('column', '?')} "
                    f"{d.get('category', '?')}: {d.get('message', '')}"
                )
            elif sev == "warning":
                warnings[path] += 1
        return [
            LintResult("fail" if errors[n] else "pass", tuple(errors[n]), warnings[n])
            for n in names
        ]


def main(argv: list[str] | None = None) -> int:
    """`python -m web4rl.judges.lint [--install] [FILES...]`: install Biome or lint files."""
    ap = argparse.ArgumentParser(
        prog="python -m web4rl.judges.lint", description=__doc__.split("\n")[0]
    )
    ap.add_argument("--install", action="store_true", help="npm install Biome into the cache dir")
    ap.add_argument("files", nargs="*", help="JS/TS files to lint")
    args = ap.parse_args(argv)
    if args.install:
        print(install_biome())
    if args.files:
        from web4rl.judges.code import language_for_path

        snippets = [
            CodeSnippet(Path(f).read_text(encoding="utf-8"), language_for_path(f), f)
            for f in args.files
        ]
        bad = 0
        for f, r in zip(args.files, BiomeLinter().lint(snippets), strict=True):
            print(f"{f}: {r.status}{' (' + r.reason + ')' if r.reason else ''}")
            for e in r.errors:
                print(f"  {e}")
            bad += r.status != "pass"
        return 1 if bad else 0
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
