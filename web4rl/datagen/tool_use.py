"""Tool-use rows: one JSON tool call per request (cursor vocabulary), and its failures.

Rejected sides: ``wrong_tool`` (a plausible but wrong tool), ``schema_fail`` (renamed
arguments, wrong types, a dropped required argument, a flattened call) and ``verbose``
(optional arguments restated at their catalog defaults, or a needless extra step).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from web4rl.datagen.common import (
    CONCEPTS,
    ENTITIES,
    HOOK_NAMES,
    SEARCH_TERMS,
    UI_COMPONENTS,
    UTIL_FILES,
    UTIL_FUNCS,
    Example,
    a_,
    call,
    camel,
    component_path,
    dump,
    parent,
    pick,
    random_component,
    random_dir,
    random_file,
    with_context,
)
from web4rl.datagen.style import render_interface
from web4rl.sim.generators.project import kebab
from web4rl.sim.tools import CURSOR, ToolProfile


def restate_defaults(c: dict, profile: ToolProfile = CURSOR) -> dict:
    """The same call with every omitted optional argument spelled out (the 'verbose' failure).

    The defaults are the tool catalog's (``profile.defaults``), in schema order; a chosen call
    never restates them, so the judge counts a restated default as verbosity.
    """
    args = dict(c["args"])
    for k, v in profile.defaults(c["tool"]).items():
        args.setdefault(k, v)
    return {"tool": c["tool"], "args": args}


# Wrong-but-plausible argument names, as seen in real Web4 data ("path" for "target_file").
WRONG_ARG_NAMES = {
    "target_file": ["path", "file", "filename", "file_path"],
    "file_path": ["path", "file", "filename", "target_file"],
    "contents": ["content", "text", "body"],
    "old_string": ["old", "search", "find"],
    "new_string": ["new", "replace", "replacement"],
    "pattern": ["query", "regex", "search"],
    "glob_pattern": ["pattern", "glob"],
    "target_directory": ["path", "dir", "directory"],
    "query": ["search", "question", "q"],
    "command": ["cmd", "shell", "script"],
}


def schema_break(rng: random.Random, c: dict) -> str:
    """Break a call's schema the way models do: renamed args, wrong types, OpenAI-ish wrappers."""
    args = dict(c["args"])
    mode = rng.randrange(4)
    renamable = [k for k in args if k in WRONG_ARG_NAMES]
    if mode == 0 and renamable:
        key = str(pick(rng, renamable))
        args[str(pick(rng, WRONG_ARG_NAMES[key]))] = args.pop(key)
        return dump({"tool": c["tool"], "args": args})
    if mode == 1:
        # Wrong types: numbers/bools as strings, a list where a string belongs and vice versa.
        if "offset" in args:
            args["offset"] = str(args["offset"])
        elif "target_directories" in args:
            args["target_directories"] = args["target_directories"][0]
        elif "is_background" in args:
            args["is_background"] = "true" if args["is_background"] else "false"
        elif "-i" in args:
            args["-i"] = "yes"
        else:
            key = next(iter(args))
            args[key] = [args[key]]
        return dump({"tool": c["tool"], "args": args})
    if mode == 2:
        # Required argument dropped.
        key = next(iter(args))
        if len(args) > 1:
            del args[key]
        else:
            args = {}
        return dump({"tool": c["tool"], "args": args})
    # Flattened: arguments at top level with a "name" key instead of tool/args.
    return dump({"name": c["tool"], **args})


def ex_read_file(rng: random.Random) -> tuple[str, dict, list[tuple[str, dict | str]]]:
    path = random_file(rng)
    base = path.rsplit("/", 1)[-1]
    if rng.random() < 0.3:
        start = rng.randrange(10, 400, 10)
        n = pick(rng, [20, 30, 40, 50, 80, 100])
        req = pick(rng, [
            f"Show me lines {start}-{start + n - 1} of {path}.",
            f"Read {path} from line {start}, {n} lines.",
            f"I only need lines {start} to {start + n - 1} of {path}.",
            f"Open {path} around line {start} ({n} lines is enough).",
        ])
        chosen = call("read_file", target_file=path, offset=start, limit=n)
    else:
        req = pick(rng, [
            f"Open {path}.", f"Show me {path}.", f"What's in {path}?", f"Read {path} for me.",
            f"Let me see the contents of {path}.", f"Print {base} (it's at {path}).",
            f"Pull up {path} so I can check the props.", f"Read {path} before we change anything.",
            f"I need to look at {path}.", f"Display {path}.",
        ])
        chosen = call("read_file", target_file=path)
    wrong = [
        call("run_terminal_cmd", command=f"cat {path}"),
        call("list_dir", target_directory=parent(path)),
        call("codebase_search", query=base),
        call("grep", pattern=".", path=path),
    ]
    return req, chosen, [("wrong_tool", pick(rng, wrong))]


def ex_write(rng: random.Random) -> tuple[str, dict, list]:
    kind = rng.randrange(4)
    if kind == 0:
        name = random_component(rng)
        folder = f"src/components/{name}"
        path = f"{folder}/index.ts"
        contents = f"export {{ {name} }} from './{name}';\nexport type {{ {name}Props }} from './{name}';\n"
        req = pick(rng, [f"Add a barrel file {path} that re-exports {name} and its props type.",
                         f"Create {path} exporting {name} and {name}Props.",
                         f"Make an index.ts in {folder} so we can import {name} from the folder."])
    elif kind == 1:
        ent = str(pick(rng, list(ENTITIES)))
        path = f"src/types/{camel(ent)}.ts"
        contents = render_interface(ent)
        req = pick(rng, [f"Create {path} with the {ent} interface.",
                         f"Write the {ent} type to a new file {path}.",
                         f"Add a types file at {path} describing {a_(ent)}."])
    elif kind == 2:
        keys = rng.sample(["VITE_API_URL", "VITE_SENTRY_DSN", "NEXT_PUBLIC_API_URL", "DATABASE_URL",
                           "STRIPE_PUBLISHABLE_KEY", "REDIS_URL", "NEXT_PUBLIC_POSTHOG_KEY"], 3)
        path = ".env.example"
        contents = "".join(f"{k}=\n" for k in keys)
        req = pick(rng, [f"Create a .env.example listing {', '.join(keys)} with empty values.",
                         f"Write .env.example with placeholders for {', '.join(keys)}."])
    else:
        name = str(pick(rng, UI_COMPONENTS))
        path = f"src/components/{name}.test.tsx"
        contents = (
            "import { render, screen } from '@testing-library/react';\n"
            f"import {{ {name} }} from './{name}';\n\n"
            f"describe('{name}', () => {{\n"
            "  it('renders without crashing', () => {\n"
            f"    render(<{name} />);\n"
            f"    expect(screen.getByTestId('{kebab(name)}')).toBeInTheDocument();\n"
            "  });\n});\n"
        )
        req = pick(rng, [f"Create a smoke test for {name} at {path}.",
                         f"Add {path} with a render test for {name}.",
                         f"Write a minimal React Testing Library test for {name} in {path}."])
    chosen = call("write", file_path=path, contents=contents)
    first_line = contents.splitlines()[0]
    wrong = [
        call("run_terminal_cmd", command=f"echo '{first_line}' > {path}"),
        call("read_file", target_file=path),
        call("list_dir", target_directory=parent(path)),
    ]
    return req, chosen, [("wrong_tool", pick(rng, wrong))]


def ex_search_replace(rng: random.Random) -> tuple[str, dict, list]:
    kind = rng.randrange(4)
    if kind == 0:
        fn = str(pick(rng, UTIL_FUNCS))
        new = pick(rng, [fn + "V2", "safe" + fn[0].upper() + fn[1:], fn.replace("format", "render")])
        path = f"src/{pick(rng, ['lib', 'utils'])}/{pick(rng, UTIL_FILES)}.ts"
        old_s, new_s = f"export function {fn}(", f"export function {new}("
        req = pick(rng, [f"Rename the function {fn} to {new} in {path}.",
                         f"In {path}, change the name of {fn} to {new}.",
                         f"{fn} should be called {new}; update its declaration in {path}."])
    elif kind == 1:
        a, b = rng.sample([1000, 2000, 3000, 5000, 8000, 10000, 15000, 30000], 2)
        path = f"src/{pick(rng, ['lib', 'api', 'services'])}/{pick(rng, ['http', 'client', 'fetcher', 'api'])}.ts"
        old_s, new_s = f"const REQUEST_TIMEOUT_MS = {a};", f"const REQUEST_TIMEOUT_MS = {b};"
        req = pick(rng, [f"Bump REQUEST_TIMEOUT_MS in {path} from {a} to {b}.",
                         f"In {path} the request timeout is {a} ms; make it {b}.",
                         f"Change the timeout constant in {path} to {b} (currently {a})."])
    elif kind == 2:
        name = random_component(rng)
        path = component_path(rng, name)
        cls_old, cls_new = rng.sample(["p-2", "p-4", "px-3 py-2", "rounded", "rounded-lg", "shadow",
                                       "shadow-md", "text-sm", "text-base", "gap-2", "gap-4"], 2)
        old_s, new_s = f'className="{cls_old}"', f'className="{cls_new}"'
        req = pick(rng, [f'In {path}, replace className="{cls_old}" with className="{cls_new}".',
                         f"Swap the {cls_old} class for {cls_new} in {name} ({path}).",
                         f'{name} uses className="{cls_old}"; change it to "{cls_new}" in {path}.'])
    else:
        ent = str(pick(rng, list(ENTITIES)))
        path = f"src/api/{ent.lower()}s.ts"
        v_old, v_new = rng.sample(["v1", "v2", "v3"], 2)
        old_s, new_s = f"/api/{v_old}/{ent.lower()}s", f"/api/{v_new}/{ent.lower()}s"
        req = pick(rng, [f"Point the {ent.lower()}s endpoint in {path} at {v_new} instead of {v_old}.",
                         f"Update {path}: {old_s} should now be {new_s}.",
                         f"We migrated to the {v_new} API; change {old_s} to {new_s} in {path}."])
    chosen = call("search_replace", file_path=path, old_string=old_s, new_string=new_s)
    wrong = [
        call("run_terminal_cmd", command=f"sed -i 's|{old_s}|{new_s}|' {path}"),
        call("write", file_path=path, contents=new_s + "\n"),
        call("grep", pattern=re.escape(old_s), path=path),
    ]
    return req, chosen, [("wrong_tool", pick(rng, wrong))]


def ex_grep(rng: random.Random) -> tuple[str, dict, list]:
    kind = rng.randrange(4)
    term = str(pick(rng, SEARCH_TERMS + UTIL_FUNCS + HOOK_NAMES))
    pattern = re.escape(term)
    if kind == 0:
        d = random_dir(rng)
        req = pick(rng, [f"Find every {term} in {d}.", f"Search {d} for {term}.",
                         f"Show me the lines in {d} that contain {term}.",
                         f"Grep {d} for {term} and show matching lines."])
        chosen = call("grep", pattern=pattern, path=d)
    elif kind == 1:
        req = pick(rng, [f"Which files use {term}?", f"List the files that reference {term}.",
                         f"What files mention {term}? Just the file names.",
                         f"Find all files importing or calling {term}."])
        chosen = call("grep", pattern=pattern, output_mode="files_with_matches")
    elif kind == 2:
        d = random_dir(rng)
        req = pick(rng, [f"How many times does {term} appear in {d}?",
                         f"Count the occurrences of {term} under {d}.",
                         f"Give me a per-file count of {term} in {d}."])
        chosen = call("grep", pattern=pattern, path=d, output_mode="count")
    else:
        word = pick(rng, ["deprecated", "hack", "workaround", "password", "retry", "legacy", "todo"])
        ftype = pick(rng, ["ts", "tsx", "js"])
        req = pick(rng, [f"Search all .{ftype} files for '{word}', case-insensitive.",
                         f"Find '{word}' in any casing across the {ftype} files.",
                         f"Case-insensitive search for {word} in .{ftype} sources, please."])
        chosen = call("grep", pattern=word, type=ftype, i=True)
    wrong = [
        call("codebase_search", query=term),
        call("run_terminal_cmd", command=f"grep -rn '{term}' ."),
        call("glob_file_search", glob_pattern=f"**/*{term}*"),
    ]
    return req, chosen, [("wrong_tool", pick(rng, wrong))]


def ex_glob(rng: random.Random) -> tuple[str, dict, list]:
    d = random_dir(rng)
    kind, glob = pick(rng, [("test files", "**/*.test.tsx"), ("Storybook stories", "**/*.stories.tsx"),
                            ("spec files", "**/*.spec.ts"), ("CSS modules", "**/*.module.css"),
                            ("SVG icons", "**/*.svg"), ("type declaration files", "**/*.d.ts"),
                            ("markdown docs", "**/*.md"), ("JSON fixtures", "**/fixtures/*.json"),
                            ("page components", "**/page.tsx"), ("hooks", "**/use*.ts")])
    if rng.random() < 0.5:
        req = pick(rng, [f"List all {kind} under {d}.", f"Find the {kind} in {d}.",
                         f"Which {kind} exist in {d}?", f"Locate every {kind} inside {d}."])
        chosen = call("glob_file_search", glob_pattern=glob, target_directory=d)
    else:
        req = pick(rng, [f"Find all {kind} in the repo.", f"Where are our {kind}?",
                         f"List all the {kind} in the project.", f"Show me all the {kind}."])
        chosen = call("glob_file_search", glob_pattern=glob)
    wrong = [
        call("list_dir", target_directory=d),
        call("grep", pattern=glob.split("/")[-1].replace("*", ""), output_mode="files_with_matches"),
        call("run_terminal_cmd", command=f"find {d} -name '{glob.split('/')[-1]}'"),
    ]
    return req, chosen, [("wrong_tool", pick(rng, wrong))]


def ex_codebase_search(rng: random.Random) -> tuple[str, dict, list]:
    phrase, query = pick(rng, CONCEPTS)
    if rng.random() < 0.4:
        d = random_dir(rng)
        req = pick(rng, [f"Look in {d} for {phrase}.", f"Somewhere in {d} is {phrase}; find it.",
                         f"Find {phrase}; it should be under {d}."])
        chosen = call("codebase_search", query=query, target_directories=[d])
    else:
        req = pick(rng, [f"Find {phrase}.", f"I can't remember {phrase}. Can you find it?",
                         f"Show me {phrase}.", f"Where's the code for {phrase}?",
                         f"Help me understand {phrase}."])
        chosen = call("codebase_search", query=query)
    keyword = query.split()[2] if len(query.split()) > 2 else query
    wrong = [
        call("grep", pattern=keyword),
        call("list_dir", target_directory="src"),
        call("glob_file_search", glob_pattern=f"**/*{keyword.lower()}*"),
    ]
    return req, chosen, [("wrong_tool", pick(rng, wrong))]


def ex_list_dir(rng: random.Random) -> tuple[str, dict, list]:
    d = random_dir(rng)
    req = pick(rng, [f"What's inside {d}?", f"List the contents of {d}.", f"Show me what's in {d}.",
                     f"ls {d}", f"Which files and folders are in {d}?",
                     f"Give me an overview of the {d} folder."])
    chosen = call("list_dir", target_directory=d)
    wrong = [
        call("run_terminal_cmd", command=f"ls -la {d}"),
        call("glob_file_search", glob_pattern="**/*", target_directory=d),
        call("read_file", target_file=d),
    ]
    return req, chosen, [("wrong_tool", pick(rng, wrong))]


def ex_run_terminal(rng: random.Random) -> tuple[str, dict, list]:
    """Shell requests. Chosen commands stay inside the simulator's safe read-only subset
    (ls, pwd, echo, cat, grep, find, wc, head, tail, sort, uniq joined by pipes): anything else
    (npm, git, sed, ...) is a guardrail violation for web4rl.sim and the judge."""
    kind = rng.randrange(6)
    path = random_file(rng)
    d = random_dir(rng)
    if kind == 0:
        req = pick(rng, [f"How many lines is {path}?", f"Count the lines in {path} with wc.",
                         f"Use the terminal to tell me the line count of {path}.",
                         f"Run wc -l on {path}."])
        chosen = call("run_terminal_cmd", command=f"wc -l {path}")
        wrong = call("read_file", target_file=path)
    elif kind == 1:
        term = str(pick(rng, ["TODO", "FIXME", "console.log", "useEffect", "@ts-ignore", "any"]))
        req = pick(rng, [f"With a shell one-liner, count the {term} lines under {d}.",
                         f"In the terminal, how many lines in {d} contain {term}?",
                         f"Pipe grep into wc to count {term} occurrences in {d}."])
        chosen = call("run_terminal_cmd", command=f"grep -rn '{term}' {d} | wc -l")
        wrong = call("codebase_search", query=f"{term} in {d}")
    elif kind == 2:
        n = pick(rng, [10, 20, 30, 50])
        end = pick(rng, ["first", "last"])
        cmd = "head" if end == "first" else "tail"
        req = pick(rng, [f"Show the {end} {n} lines of {path} in the terminal.",
                         f"Run {cmd} on {path}, {n} lines.", f"{cmd} -n {n} {path}, please."])
        chosen = call("run_terminal_cmd", command=f"{cmd} -n {n} {path}")
        wrong = call("list_dir", target_directory=parent(path))
    elif kind == 3:
        what, pat = pick(rng, [("test files", "*.test.tsx"), ("stories", "*.stories.tsx"),
                               ("TypeScript files", "*.ts"), ("CSS modules", "*.module.css")])
        req = pick(rng, [f"How many {what} are in {d}? Use find.",
                         f"Count the {what} under {d} from the shell.",
                         f"Give me the number of {what} in {d} (find + wc)."])
        chosen = call("run_terminal_cmd", command=f"find {d} -name '{pat}' | wc -l")
        wrong = call("glob_file_search", glob_pattern=f"**/{pat}", target_directory=d)
    elif kind == 4:
        log = pick(rng, ["logs/dev.log", "logs/server.log", "tmp/vite.log", "logs/api.log"])
        req = pick(rng, [f"Follow {log} in the background while I reproduce the bug.",
                         f"Start tailing {log} as a background process.",
                         f"Keep `tail -f {log}` running in the background."])
        chosen = call("run_terminal_cmd", command=f"tail -f {log}", is_background=True)
        wrong = call("read_file", target_file=log)
    else:
        req = pick(rng, [f"List {d} sorted by name from the shell.", f"Run ls on {d} and sort it.",
                         f"In the terminal, show the entries of {d} in sorted order."])
        chosen = call("run_terminal_cmd", command=f"ls {d} | sort")
        wrong = call("glob_file_search", glob_pattern="*", target_directory=d)
    return req, chosen, [("wrong_tool", wrong)]


TOOL_BUILDERS: list[Callable[[random.Random], tuple[str, dict, list]]] = [
    ex_read_file, ex_read_file, ex_write, ex_search_replace, ex_search_replace, ex_grep, ex_grep,
    ex_glob, ex_codebase_search, ex_list_dir, ex_run_terminal, ex_run_terminal,
]


def make_tool_use(rng: random.Random) -> Example:
    """One tool call; rejected is wrong_tool, schema_fail or verbose (restated defaults/extra step)."""
    req, chosen, wrongs = pick(rng, TOOL_BUILDERS)(rng)
    prompt = with_context(rng, req)
    mode = rng.randrange(3)
    if mode == 0:
        tag, wrong = wrongs[0]
        rejected = dump(wrong)
        tags: tuple[str, ...] = (tag,)
    elif mode == 1:
        rejected = schema_break(rng, chosen)
        tags = ("schema_fail",)
    else:
        verbose = restate_defaults(chosen)
        if verbose == chosen or rng.random() < 0.4:
            # No default to restate (or just for variety): add a needless exploratory step.
            extra = pick(rng, [call("list_dir", target_directory="."),
                               call("run_terminal_cmd", command="ls -la"),
                               call("read_file", target_file="package.json")])
            rejected = dump([extra, verbose])
        else:
            rejected = dump(verbose)
        tags = ("verbose",)
    return Example(prompt, dump(chosen), rejected, tags)
