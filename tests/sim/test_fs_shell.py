"""In-memory file system and the safe shell subset."""

import fnmatch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from web4rl.sim.fs import (
    ROOT,
    OutsideWorkspaceError,
    Workspace,
    WorkspaceError,
    compile_glob,
    resolve_path,
)
from web4rl.sim.shell import run_command

FILES = {
    "main.ts": "import { a } from './a';\nconst x = 1;\nconsole.log(x);\n",
    "src/components/Button.tsx": "export function Button() {\n  return <button />;\n}\n",
    "src/utils/format.ts": "export const f = 1;\n",
    ".env": "A=1\n",
}


@pytest.fixture
def ws():
    return Workspace(FILES)


@pytest.mark.parametrize(
    "path,expected",
    [
        ("main.ts", "/workspace/main.ts"),
        ("./src/../main.ts", "/workspace/main.ts"),
        ("/workspace/src", "/workspace/src"),
        (".", "/workspace"),
        ("src//utils/", "/workspace/src/utils"),
    ],
)
def test_resolve_inside(path, expected):
    assert resolve_path(path) == expected


@pytest.mark.parametrize(
    "path",
    ["..", "../etc/passwd", "/etc/passwd", "src/../../x", "~/.ssh/id_rsa", "/workspacex/a", "/"],
)
def test_dotdot_and_absolute_paths_cannot_leave(path):
    with pytest.raises(OutsideWorkspaceError):
        resolve_path(path)


def test_read_write_list_glob_size(ws):
    assert ws.read("main.ts") == FILES["main.ts"]
    assert ws.list(".") == [(".env", False), ("main.ts", False), ("src", True)]
    assert ws.list("src") == [("components", True), ("utils", True)]
    ws.write("src/new/deep/file.ts", "x\n")
    assert ws.is_dir("src/new/deep") and ws.is_file("src/new/deep/file.ts")
    assert ws.size("main.ts") == len(FILES["main.ts"].encode())
    assert [ws.relpath(p) for p in ws.glob("**/*.ts")] == [
        "main.ts",
        "src/new/deep/file.ts",
        "src/utils/format.ts",
    ]
    assert [ws.relpath(p) for p in ws.glob("src/**/*.{ts,tsx}")] == [
        "src/components/Button.tsx",
        "src/new/deep/file.ts",
        "src/utils/format.ts",
    ]


def test_errors_are_workspace_errors(ws):
    with pytest.raises(WorkspaceError, match="no such file"):
        ws.read("nope.ts")
    with pytest.raises(WorkspaceError, match="is a directory"):
        ws.read("src")
    with pytest.raises(WorkspaceError, match="is a file"):
        ws.write("main.ts/child.ts", "x")
    with pytest.raises(WorkspaceError, match="limit"):
        Workspace(max_file_chars=10).write("a", "x" * 11)


def test_revision_and_copy(ws):
    rev = ws.revision
    other = ws.copy()
    ws.write("main.ts", "changed\n")
    assert ws.revision == rev + 1
    assert other.read("main.ts") == FILES["main.ts"]
    assert ws.snapshot() != other.snapshot()


def test_glob_regex_is_linear():
    rx = compile_glob("**/**/**/**/**/*a*a*a*a*a*b")
    assert not rx.match("a" * 5000)
    assert not compile_glob("*a*a*a*a*a*b").match(
        "a" * 1000
    )  # would hang with a backtracking translation


@pytest.mark.parametrize(
    "command,stdout",
    [
        ("wc -l main.ts", "3 main.ts\n"),
        ("cat main.ts | wc -l", "3\n"),
        ("pwd", f"{ROOT}\n"),
        ("echo hello   world", "hello world\n"),
        ("echo -n hi", "hi"),
        ("ls", "main.ts\nsrc\n"),
        ("ls -a", ".env\nmain.ts\nsrc\n"),
        ("ls src/*/*.ts*", "src/components/Button.tsx\nsrc/utils/format.ts\n"),
        ("grep -n const main.ts", "2:const x = 1;\n"),
        ("grep -c export -r src", "src/components/Button.tsx:1\nsrc/utils/format.ts:1\n"),
        (
            "grep -rl 'export\\|import' .",
            "./main.ts\n./src/components/Button.tsx\n./src/utils/format.ts\n",
        ),
        ("grep -E 'x = [0-9]+' main.ts", "const x = 1;\n"),
        ("grep -i CONSOLE main.ts", "console.log(x);\n"),
        ("find . -name '*.ts'", "./main.ts\n./src/utils/format.ts\n"),
        ("find src -type d", "src\nsrc/components\nsrc/utils\n"),
        ("find . -maxdepth 1 -type f", "./.env\n./main.ts\n"),
        ("head -n 1 main.ts", "import { a } from './a';\n"),
        ("tail -1 main.ts", "console.log(x);\n"),
        ("tail -n +3 main.ts", "console.log(x);\n"),
        ("printf_not_here", None),
        ("echo b a b | sort", "b a b\n"),
        ("cat main.ts main.ts | sort | uniq -c | sort -n | head -1", "      2 console.log(x);\n"),
        ("wc -w src/utils/format.ts", "5 src/utils/format.ts\n"),
    ],
)
def test_shell_commands(ws, command, stdout):
    result = run_command(ws, command)
    if stdout is None:
        assert result.exit_code == 127 and "command not found" in result.stderr
    else:
        assert result.stderr == ""
        assert result.stdout == stdout


def test_wc_multiple_files_has_total(ws):
    out = run_command(ws, "wc -l main.ts src/utils/format.ts").stdout.splitlines()
    assert out == ["3 main.ts", "1 src/utils/format.ts", "4 total"]


@pytest.mark.parametrize(
    "command,fragment",
    [
        ("cat nope.ts", "No such file"),
        ("cat ../../etc/passwd", "outside the workspace"),
        ("ls > out.txt", "unsupported shell operator"),
        ("echo 'unterminated", "syntax error"),
        ("grep -Z x main.ts", "invalid option"),
        ("grep -E '(' main.ts", "invalid regular expression"),
        ("head -n abc main.ts", "invalid number"),
        ("ls |", "syntax error"),
    ],
)
def test_shell_errors_are_reported_not_raised(ws, command, fragment):
    result = run_command(ws, command)
    assert result.exit_code != 0 and fragment in result.stderr


def test_shell_never_writes(ws):
    before = ws.snapshot()
    for command in ["ls -R", "grep -rn x .", "find . -type f", "cat main.ts | sort -r | uniq"]:
        run_command(ws, command)
    assert ws.snapshot() == before


def test_catastrophic_regex_times_out(ws):
    ws.write("big.txt", "a" * 3000 + "b\n")
    result = run_command(ws, "grep -E '(a|aa)+$' big.txt", timeout_s=0.05)
    assert result.exit_code == 2 and "time budget" in result.stderr


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="ab*?", max_size=8), st.text(alphabet="ab", max_size=10))
def test_segment_glob_agrees_with_fnmatch(pattern, name):
    assert compile_glob(pattern).match(name) == fnmatch.fnmatchcase(name, pattern)


@pytest.mark.parametrize(
    "pattern,path,expected",
    [
        ("**/*.ts", "a.ts", True),
        ("**/*.ts", "src/x/a.ts", True),
        ("src/**/*.tsx", "src/a.tsx", True),
        ("src/**/*.tsx", "lib/a.tsx", False),
        ("*.ts", "src/a.ts", False),
        ("use[A-Z]*.ts", "useNotes.ts", True),
        ("use[!A-Z]*.ts", "useNotes.ts", False),
        ("*.{ts,tsx}", "a.tsx", True),
        ("{src,lib}/**/index.ts", "lib/a/index.ts", True),
    ],
)
def test_glob_cases(pattern, path, expected):
    assert compile_glob(pattern).match(path) is expected


def test_recursive_grep_without_operand_prints_names_like_gnu():
    """GNU grep -r with no operand searches "." and prints names without "./"."""
    from web4rl.sim.fs import Workspace
    from web4rl.sim.shell import run_command

    ws = Workspace({"src/a.ts": "TODO x\n", "b.md": "TODO\n"})
    assert run_command(ws, "grep -rn TODO").stdout == "b.md:1:TODO\nsrc/a.ts:1:TODO x\n"
    assert run_command(ws, "grep -rl TODO .").stdout == "./b.md\n./src/a.ts\n"
