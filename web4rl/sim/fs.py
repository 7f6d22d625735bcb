"""An in-memory file system rooted at /workspace.

Nothing here touches the real disk: files are a dict from absolute POSIX path to text. Paths are
resolved against the current directory; a path whose final location is outside the workspace
(absolute elsewhere, or too many ``..``) raises :class:`OutsideWorkspaceError` instead of being
silently clamped, so tools can say so and guardrails can penalize writes out of bounds.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from web4rl.sim.globs import MAX_BRACE_ALTERNATIVES, GlobMatcher, compile_glob  # noqa: F401

ROOT = "/workspace"
# Bounds that keep every step cheap, even for a hostile policy that writes huge files.
MAX_FILE_CHARS = 1_000_000
MAX_TOTAL_CHARS = 16_000_000
MAX_FILES = 10_000


class WorkspaceError(Exception):
    """Base class for file-system errors; the message is shown to the model as-is."""


class OutsideWorkspaceError(WorkspaceError):
    """The path resolves outside /workspace."""


def resolve_path(path: str, cwd: str = ROOT, root: str = ROOT) -> str:
    """Resolve `path` (absolute or relative to `cwd`) to a normalized absolute path in `root`.

    Raises OutsideWorkspaceError if the final location is outside `root`, and WorkspaceError
    for paths that are not text paths at all (NUL bytes, empty).
    """
    if not isinstance(path, str) or path == "":
        raise WorkspaceError("empty path")
    if "\x00" in path:
        raise WorkspaceError("path contains a NUL byte")
    if path == "~" or path.startswith("~/"):
        raise OutsideWorkspaceError(f"{path}: the home folder is outside the workspace {root}")
    full = path if path.startswith("/") else f"{cwd}/{path}"
    stack: list[str] = []
    for part in full.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if stack:
                stack.pop()
            continue  # '/..' is '/', as in POSIX; the containment check below rejects it
        stack.append(part)
    resolved = "/" + "/".join(stack)
    if resolved != root and not resolved.startswith(root + "/"):
        raise OutsideWorkspaceError(f"{path}: outside the workspace {root}")
    return resolved


class Workspace:
    """A small in-memory POSIX-like file system rooted at ``/workspace``.

    Folders exist implicitly as parents of files, or explicitly (created empty). ``revision``
    increases on every change, so callers can tell whether the workspace changed between two
    points (the redundancy reward uses it).
    """

    def __init__(
        self,
        files: Mapping[str, str] | None = None,
        cwd: str = ROOT,
        *,
        max_file_chars: int = MAX_FILE_CHARS,
        max_total_chars: int = MAX_TOTAL_CHARS,
    ) -> None:
        self.root = ROOT
        self.cwd = resolve_path(cwd)
        self.max_file_chars = max_file_chars
        self.max_total_chars = max_total_chars
        self._files: dict[str, str] = {}
        self._dirs: set[str] = {ROOT}
        self._total_chars = 0
        self.revision = 0
        for path, text in (files or {}).items():
            self.write(path, text)
        self.revision = 0

    # ----------------------------------------------------------------- paths
    def resolve(self, path: str) -> str:
        """Absolute normalized path inside the workspace (raises OutsideWorkspaceError)."""
        return resolve_path(path, self.cwd, self.root)

    def relpath(self, abspath: str) -> str:
        """Path relative to the workspace root ('.' for the root itself)."""
        if abspath == self.root:
            return "."
        return abspath[len(self.root) + 1 :]

    # ----------------------------------------------------------------- queries
    def is_file(self, path: str) -> bool:
        try:
            return self.resolve(path) in self._files
        except WorkspaceError:
            return False

    def is_dir(self, path: str) -> bool:
        try:
            return self.resolve(path) in self._dirs
        except WorkspaceError:
            return False

    def exists(self, path: str) -> bool:
        return self.is_file(path) or self.is_dir(path)

    def read(self, path: str) -> str:
        """Text of a file; raises WorkspaceError naming the path when it is not a file."""
        p = self.resolve(path)
        text = self._files.get(p)
        if text is None:
            if p in self._dirs:
                raise WorkspaceError(f"{path}: is a directory")
            raise WorkspaceError(f"{path}: no such file")
        return text

    def size(self, path: str) -> int:
        """Size in bytes (UTF-8) of a file, as `ls -l` would show it."""
        return len(self.read(path).encode("utf-8", "surrogatepass"))

    def list(self, path: str = ".") -> list[tuple[str, bool]]:
        """Sorted (name, is_dir) entries of a folder."""
        p = self.resolve(path)
        if p not in self._dirs:
            if p in self._files:
                raise WorkspaceError(f"{path}: not a directory")
            raise WorkspaceError(f"{path}: no such directory")
        prefix = p + "/"
        entries: dict[str, bool] = {}
        for f in self._files:
            if f.startswith(prefix):
                head, sep, _ = f[len(prefix) :].partition("/")
                entries[head] = entries.get(head, False) or bool(sep)
        for d in self._dirs:
            if d.startswith(prefix):
                head = d[len(prefix) :].partition("/")[0]
                entries[head] = True
        return sorted(entries.items())

    def walk_files(self, path: str = ".") -> Iterator[str]:
        """Absolute paths of all files at or under `path`, sorted."""
        p = self.resolve(path)
        if p in self._files:
            yield p
            return
        if p not in self._dirs:
            raise WorkspaceError(f"{path}: no such file or directory")
        prefix = p + "/"
        yield from sorted(f for f in self._files if f.startswith(prefix))

    def glob(self, pattern: str, base: str = ".") -> list[str]:
        """Absolute paths of files under `base` whose path relative to `base` matches."""
        b = self.resolve(base)
        matcher = compile_glob(pattern)
        cut = len(b) + 1
        return [f for f in self.walk_files(base) if matcher.match(f[cut:])]

    def files(self) -> dict[str, str]:
        """A copy of all files as {path relative to the root: text}."""
        return {self.relpath(p): t for p, t in sorted(self._files.items())}

    def dirs(self) -> list[str]:
        return sorted(self.relpath(d) for d in self._dirs)

    @property
    def file_count(self) -> int:
        return len(self._files)

    # ----------------------------------------------------------------- changes
    def write(self, path: str, text: str) -> str:
        """Create or overwrite a file (parents are created); returns its absolute path."""
        if not isinstance(text, str):
            raise WorkspaceError(f"{path}: contents must be text")
        p = self.resolve(path)
        if p in self._dirs:
            raise WorkspaceError(f"{path}: is a directory")
        if len(text) > self.max_file_chars:
            raise WorkspaceError(
                f"{path}: {len(text)} characters exceeds the {self.max_file_chars} file limit"
            )
        old = self._files.get(p)
        new_total = self._total_chars - (len(old) if old is not None else 0) + len(text)
        if new_total > self.max_total_chars:
            raise WorkspaceError(
                f"{path}: the workspace would exceed {self.max_total_chars} characters"
            )
        if old is None and len(self._files) >= MAX_FILES:
            raise WorkspaceError(f"{path}: the workspace already holds {MAX_FILES} files")
        # Every ancestor must be a folder, not a file.
        parent = p.rpartition("/")[0]
        ancestors = []
        while parent and parent not in self._dirs:
            if parent in self._files:
                raise WorkspaceError(f"{path}: {self.relpath(parent)} is a file, not a directory")
            ancestors.append(parent)
            parent = parent.rpartition("/")[0]
        self._dirs.update(ancestors)
        self._files[p] = text
        self._total_chars = new_total
        self.revision += 1
        return p

    def mkdir(self, path: str) -> str:
        """Create a folder and its parents (no error if it exists)."""
        p = self.resolve(path)
        if p in self._files:
            raise WorkspaceError(f"{path}: is a file")
        while p and p not in self._dirs:
            self._dirs.add(p)
            p = p.rpartition("/")[0]
        self.revision += 1
        return p

    def copy(self) -> Workspace:
        """An independent copy (same files, folders and cwd)."""
        other = Workspace.__new__(Workspace)
        other.__dict__.update(self.__dict__)
        other._files = dict(self._files)
        other._dirs = set(self._dirs)
        return other

    def snapshot(self) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
        """A hashable, comparable picture of the whole file system (files and folders)."""
        return tuple(sorted(self._files.items())), tuple(sorted(self._dirs))
