"""Multi-step rows: a JSON list of tool calls, and the ways a plan goes wrong.

Rejected: needless steps with restated defaults (``verbose``), one step done with a wrong tool
(``wrong_tool``), one step's schema broken (``schema_fail``) or a destructive step inserted
(``unsafe``).
"""

from __future__ import annotations

import json
import random
import re

from web4rl.datagen.common import (
    CONCEPTS,
    ENTITIES,
    FEATURES,
    HOOK_NAMES,
    SEARCH_TERMS,
    UTIL_FILES,
    UTIL_FUNCS,
    Example,
    a_,
    call,
    camel,
    component_path,
    dump,
    pick,
    random_component,
    random_dir,
    random_file,
    with_context,
)
from web4rl.datagen.tool_use import restate_defaults, schema_break


def plan_rename(rng: random.Random) -> tuple[str, list[dict]]:
    fn = str(pick(rng, UTIL_FUNCS))
    new = pick(rng, [fn + "Safe", fn + "V2", "legacy" + fn[0].upper() + fn[1:]])
    lib = f"src/{pick(rng, ['lib', 'utils'])}/{pick(rng, UTIL_FILES)}.ts"
    user = component_path(rng, random_component(rng))
    req = pick(rng, [f"Rename {fn} to {new}: it's declared in {lib} and used in {user}.",
                     f"{fn} becomes {new}. Update the declaration in {lib} and the call site in {user}.",
                     f"Change {fn} to {new} in both {lib} and {user}."])
    steps = [call("search_replace", file_path=lib, old_string=f"export function {fn}(", new_string=f"export function {new}("),
             call("search_replace", file_path=user, old_string=f"{fn}(", new_string=f"{new}(")]
    return req, steps


def plan_test(rng: random.Random) -> tuple[str, list[dict]]:
    name = random_component(rng)
    path = component_path(rng, name)
    test = path.replace(".tsx", ".test.tsx")
    contents = ("import { render } from '@testing-library/react';\n"
                f"import {{ {name} }} from './{name}';\n\n"
                f"it('renders {name}', () => {{\n  render(<{name} />);\n}});\n")
    req = pick(rng, [f"Read {path}, then add a smoke test next to it.",
                     f"Look at {name} in {path} and write {test} with a render test.",
                     f"Add a basic render test for {name} ({path}); read the component first."])
    return req, [call("read_file", target_file=path), call("write", file_path=test, contents=contents)]


def plan_find_and_open(rng: random.Random) -> tuple[str, list[dict]]:
    d = random_dir(rng)
    term = str(pick(rng, SEARCH_TERMS))
    f = random_file(rng)
    req = pick(rng, [f"List the files in {d} that contain {term}, then open {f}.",
                     f"Find which files under {d} use {term} and show me {f}.",
                     f"Which files in {d} mention {term}? Also open {f}."])
    return req, [call("grep", pattern=re.escape(term), path=d, output_mode="files_with_matches"),
                 call("read_file", target_file=f)]


def plan_inspect(rng: random.Random) -> tuple[str, list[dict]]:
    a, b = random_file(rng), random_file(rng)
    n = pick(rng, [10, 20, 40])
    req = pick(rng, [f"Count the lines of {a}, then show the first {n} lines of {b}.",
                     f"How long is {a}? After that, print the top {n} lines of {b}.",
                     f"wc -l {a}, then head -n {n} {b}."])
    return req, [call("run_terminal_cmd", command=f"wc -l {a}"),
                 call("run_terminal_cmd", command=f"head -n {n} {b}")]


def plan_explore(rng: random.Random) -> tuple[str, list[dict]]:
    hook = str(pick(rng, HOOK_NAMES))
    req = pick(rng, [f"Show me what's in src/hooks and then open {hook}.",
                     f"List src/hooks and read {hook}.ts.",
                     f"What hooks do we have? Then show me the {hook} implementation."])
    return req, [call("list_dir", target_directory="src/hooks"), call("read_file", target_file=f"src/hooks/{hook}.ts")]


def plan_check_dep_and_use(rng: random.Random) -> tuple[str, list[dict]]:
    ent = str(pick(rng, list(ENTITIES)))
    path = f"src/schemas/{camel(ent)}.ts"
    str_fields = [f for f, t in ENTITIES[ent] if t == "string"]
    body = "\n".join(f"  {f}: z.string()," for f in str_fields)
    contents = (f"import {{ z }} from 'zod';\n\nexport const {camel(ent)}Schema = z.object({{\n{body}\n}});\n\n"
                f"export type {ent}Input = z.infer<typeof {camel(ent)}Schema>;\n")
    req = pick(rng, [f"Check that zod is in package.json, then create {path} with a schema for the {ent}'s string fields.",
                     f"Confirm we depend on zod and write {a_(camel(ent) + 'Schema')} in {path}.",
                     f"Set up zod validation for {ent}: verify zod is listed in package.json and add {path}."])
    return req, [call("grep", pattern='"zod"', path="package.json"),
                 call("write", file_path=path, contents=contents)]


def plan_log_and_open(rng: random.Random) -> tuple[str, list[dict]]:
    log = pick(rng, ["logs/dev.log", "logs/server.log", "logs/api.log"])
    spec = f"e2e/{pick(rng, FEATURES)}.spec.ts"
    req = pick(rng, [f"Tail {log} in the background, then open the failing spec {spec}.",
                     f"Keep {log} streaming in the background and show me {spec}.",
                     f"Start `tail -f {log}` (background) and read {spec}."])
    return req, [call("run_terminal_cmd", command=f"tail -f {log}", is_background=True),
                 call("read_file", target_file=spec)]


def plan_locate_and_fix(rng: random.Random) -> tuple[str, list[dict]]:
    phrase, query = pick(rng, CONCEPTS)
    f = random_file(rng)
    old, new = rng.sample(["retries: 3", "retries: 5", "retries: 1", "staleTime: 0", "staleTime: 60_000"], 2)
    req = pick(rng, [f"Find {phrase}, then in {f} change `{old}` to `{new}`.",
                     f"First search for {phrase}; afterwards update {f} so `{old}` reads `{new}`."])
    return req, [call("codebase_search", query=query),
                 call("search_replace", file_path=f, old_string=old, new_string=new)]


PLANS = [plan_rename, plan_test, plan_find_and_open, plan_inspect, plan_explore, plan_check_dep_and_use,
         plan_log_and_open, plan_locate_and_fix]
DESTRUCTIVE_STEPS = [
    call("run_terminal_cmd", command="git push --force origin main"),
    call("run_terminal_cmd", command="rm -rf src && git checkout ."),
    call("run_terminal_cmd", command="git reset --hard HEAD~5"),
    call("run_terminal_cmd", command="sudo rm -rf node_modules /usr/local/lib/node_modules"),
    call("run_terminal_cmd", command="npm publish --access public"),
    call("run_terminal_cmd", command="chmod -R 777 ."),
]
NEEDLESS_STEPS = [
    call("list_dir", target_directory="."), call("read_file", target_file="package.json"),
    call("run_terminal_cmd", command="ls -la"), call("list_dir", target_directory="src"),
    call("read_file", target_file="README.md"),
]


def _wrong_tool_step(rng: random.Random, s: dict) -> dict:
    """The same step done with a plausible but wrong tool (mostly shelling out)."""
    a = s["args"]
    t = s["tool"]
    if t == "search_replace":
        return call("run_terminal_cmd", command=f"sed -i 's/{a['old_string']}/{a['new_string']}/' {a['file_path']}")
    if t == "read_file":
        return call("run_terminal_cmd", command=f"cat {a['target_file']}")
    if t == "write":
        return call("run_terminal_cmd", command=f"touch {a['file_path']}")
    if t == "list_dir":
        return call("run_terminal_cmd", command=f"ls {a['target_directory']}")
    if t == "grep":
        return call("codebase_search", query=a["pattern"])
    if t == "codebase_search":
        return call("grep", pattern=a["query"].split()[-1].rstrip("?"))
    return call("codebase_search", query=a.get("command", "run it"))


def make_multi_step(rng: random.Random) -> Example:
    """A plan; rejected adds needless steps, uses a wrong tool, breaks a schema or does damage."""
    req, steps = pick(rng, PLANS)(rng)
    prompt = with_context(rng, req)
    mode = rng.randrange(4)
    bad = [dict(s) for s in steps]
    if mode == 0:
        extras = rng.sample(NEEDLESS_STEPS, rng.choice([1, 2]))
        bad = extras + [restate_defaults(s) for s in bad]
        tags: tuple[str, ...] = ("verbose",)
    elif mode == 1:
        i = rng.randrange(len(bad))
        bad[i] = _wrong_tool_step(rng, bad[i])
        tags = ("wrong_tool",)
    elif mode == 2:
        i = rng.randrange(len(bad))
        broken = json.loads(schema_break(rng, bad[i]))
        bad[i] = broken
        tags = ("schema_fail",)
        if rng.random() < 0.2:
            bad.insert(0, pick(rng, NEEDLESS_STEPS))
            tags = ("schema_fail", "verbose")
    else:
        bad.insert(rng.randrange(len(bad) + 1), pick(rng, DESTRUCTIVE_STEPS))
        tags = ("unsafe",)
    return Example(prompt, dump(steps), dump(bad), tags)
