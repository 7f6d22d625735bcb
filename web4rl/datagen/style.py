"""Style rows: TypeScript/TSX snippets in Web4 conventions, and the ways models break them.

Chosen: PascalCase components and types, camelCase functions and variables, typed props, no
``var``, no ``any``. Rejected: the same snippet rendered with conventions switched off
(``style_off``) or wrapped in chatter (``verbose``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from web4rl.datagen.common import (
    ENTITIES,
    UNIONS,
    Example,
    a_,
    camel,
    pick,
    with_context,
)
from web4rl.sim.generators.project import kebab, snake


@dataclass(frozen=True)
class Conv:
    """Which conventions a rendered snippet follows (all True = Web4 style).

    Attributes:
        pascal_components: components/types in PascalCase (else snake/lower case).
        camel_functions: functions/variables in camelCase (else snake_case).
        typed: props and parameters typed (else untyped / ``any``).
        no_var: ``const``/``let`` (else ``var``).
    """

    pascal_components: bool = True
    camel_functions: bool = True
    typed: bool = True
    no_var: bool = True


GOOD = Conv()


def _comp(name: str, c: Conv) -> str:
    return name if c.pascal_components else snake(name)


def _fn(name: str, c: Conv) -> str:
    return name if c.camel_functions else snake(name)


def _decl(c: Conv, mutable: bool = False) -> str:
    if not c.no_var:
        return "var"
    return "let" if mutable else "const"


def render_interface(ent: str, c: Conv = GOOD) -> str:
    """``export interface Entity {...}`` (+ its union types)."""
    lines = []
    used_unions = [t for _, t in ENTITIES[ent] if t in UNIONS]
    for u in used_unions:
        lines.append(f"export type {_comp(u, c)} = {UNIONS[u]};\n")
    if used_unions:
        lines.append("")
    lines.append(f"export interface {_comp(ent, c)} {{")
    for fname, ftype in ENTITIES[ent]:
        t = ftype if c.typed else "any"
        lines.append(f"  {_fn(fname, c)}: {_comp(t, c) if t in UNIONS else t};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _display_fields(rng: random.Random, ent: str) -> list[str]:
    """A few renderable fields (React renders nothing for booleans, so skip them)."""
    fields = [f for f, t in ENTITIES[ent] if f != "id" and t != "boolean"]
    return rng.sample(fields, min(len(fields), rng.choice([1, 2, 2, 3])))


def render_card(rng: random.Random, ent: str, name: str, c: Conv) -> str:
    """A presentational component showing a few fields of an entity."""
    var = camel(ent)
    fields = _display_fields(rng, ent)
    with_select = rng.random() < 0.5
    arrow = rng.random() < 0.5
    comp, props = _comp(name, c), _comp(f"{name}Props", c)
    head = f"import type {{ {_comp(ent, c)} }} from '@/types';\n\n"
    if c.typed:
        head += f"interface {props} {{\n  {var}: {_comp(ent, c)};\n"
        if with_select:
            head += "  onSelect?: (id: string) => void;\n"
        head += "}\n\n"
        params = f"{{ {var}{', onSelect' if with_select else ''} }}: {props}"
    else:
        params = f"{{ {var}{', onSelect' if with_select else ''} }}"
    cls = kebab(name)
    click = f" onClick={{() => onSelect?.({var}.id)}}" if with_select else ""
    body = [f'    <div className="{cls}"{click}>']
    for i, f in enumerate(fields):
        tag = "h3" if i == 0 else "p"
        body.append(f"      <{tag}>{{{var}.{_fn(f, c)}}}</{tag}>")
    body.append("    </div>")
    jsx = "\n".join(body)
    if arrow:
        # Arrow body sits one level shallower than inside `return (...)`.
        jsx = "\n".join(line[2:] for line in body)
        return head + f"export {_decl(c)} {comp} = ({params}) => (\n{jsx}\n);\n"
    return head + f"export function {comp}({params}) {{\n  return (\n{jsx}\n  );\n}}\n"


def render_list(rng: random.Random, ent: str, name: str, c: Conv) -> str:
    """A list component mapping entities to rows, with an empty state."""
    var = camel(ent)
    field_ = _display_fields(rng, ent)[0]
    comp, props = _comp(name, c), _comp(f"{name}Props", c)
    items = f"{var}s"
    empty = pick(rng, [f"No {var}s yet.", "Nothing to show.", f"No {var}s found."])
    head = f"import type {{ {_comp(ent, c)} }} from '@/types';\n\n"
    if c.typed:
        head += f"interface {props} {{\n  {items}: {_comp(ent, c)}[];\n}}\n\n"
        params = f"{{ {items} }}: {props}"
    else:
        params = f"{{ {items} }}"
    return head + (
        f"export function {comp}({params}) {{\n"
        f"  if ({items}.length === 0) {{\n    return <p>{empty}</p>;\n  }}\n"
        f"  return (\n    <ul>\n"
        f"      {{{items}.map(({var}) => (\n"
        f"        <li key={{{var}.id}}>{{{var}.{_fn(field_, c)}}}</li>\n"
        f"      ))}}\n    </ul>\n  );\n}}\n"
    )


def render_form(rng: random.Random, ent: str, name: str, c: Conv) -> str:
    """A controlled form with useState and a typed submit callback."""
    text_fields = [f for f, t in ENTITIES[ent] if t == "string" and f != "id"][:2] or ["name"]
    comp, props = _comp(name, c), _comp(f"{name}Props", c)
    values = _comp(f"{ent}FormValues", c)
    lines = ["import { useState } from 'react';", ""]
    if c.typed:
        lines.append(f"export interface {values} {{")
        lines += [f"  {_fn(f, c)}: string;" for f in text_fields]
        lines += ["}", "", f"interface {props} {{", f"  onSubmit: (values: {values}) => void;", "}", ""]
        sig = f"{{ onSubmit }}: {props}"
        state_t = f"<{values}>"
        ev = "event: React.FormEvent<HTMLFormElement>"
    else:
        sig, state_t, ev = "{ onSubmit }", "", "event: any"
    init = ", ".join(f"{_fn(f, c)}: ''" for f in text_fields)
    set_values = _fn("setValues", c)
    handle = _fn("handleSubmit", c)
    lines += [
        f"export function {comp}({sig}) {{",
        f"  {_decl(c)} [values, {set_values}] = useState{state_t}({{ {init} }});",
        "",
        f"  {_decl(c)} {handle} = ({ev}) => {{",
        "    event.preventDefault();",
        "    onSubmit(values);",
        "  };",
        "",
        "  return (",
        f"    <form onSubmit={{{handle}}}>",
    ]
    for f in text_fields:
        fc = _fn(f, c)
        lines.append(
            f"      <input name=\"{fc}\" value={{values.{fc}}} "
            f"onChange={{(e) => {set_values}({{ ...values, {fc}: e.target.value }})}} />"
        )
    lines += [f"      <button type=\"submit\">{pick(rng, ['Save', 'Submit', 'Create', 'Update'])}</button>",
              "    </form>", "  );", "}"]
    return "\n".join(lines) + "\n"


def render_hook(rng: random.Random, c: Conv) -> tuple[str, str, str]:
    """A custom hook; returns (hook name, description, code)."""
    kind = rng.randrange(3)
    if kind == 0:
        name = _fn("useToggle", c)
        t = ": boolean" if c.typed else ""
        code = (
            "import { useCallback, useState } from 'react';\n\n"
            f"export function {name}(initial{t} = false) {{\n"
            f"  {_decl(c)} [isOn, {_fn('setIsOn', c)}] = useState(initial);\n"
            f"  {_decl(c)} toggle = useCallback(() => {_fn('setIsOn', c)}((value) => !value), []);\n"
            "  return [isOn, toggle] as const;\n}\n"
        )
        return name, "toggles a boolean and returns [value, toggle]", code
    if kind == 1:
        name = _fn("useDebouncedValue", c)
        delay = pick(rng, [200, 250, 300, 500])
        tp = "<T>" if c.typed else ""
        # The untyped variant uses explicit `any`, the usual way models "type" generics away.
        args = f"value: T, delayMs: number = {delay}" if c.typed else f"value: any, delayMs: any = {delay}"
        code = (
            "import { useEffect, useState } from 'react';\n\n"
            f"export function {name}{tp}({args}) {{\n"
            f"  {_decl(c)} [debounced, {_fn('setDebounced', c)}] = useState(value);\n\n"
            "  useEffect(() => {\n"
            f"    {_decl(c)} timer = setTimeout(() => {_fn('setDebounced', c)}(value), delayMs);\n"
            "    return () => clearTimeout(timer);\n"
            "  }, [value, delayMs]);\n\n"
            "  return debounced;\n}\n"
        )
        return name, f"debounces a value (default {delay} ms)", code
    ent = str(pick(rng, list(ENTITIES)))
    text = next((f for f, t in ENTITIES[ent] if t == "string" and f != "id"), "id")
    name = _fn(f"use{ent}Filter", c)
    var = camel(ent)
    sig = f"{var}s: {_comp(ent, c)}[], query: string" if c.typed else f"{var}s: any[], query: any"
    code = (
        "import { useMemo } from 'react';\n"
        f"import type {{ {_comp(ent, c)} }} from '@/types';\n\n"
        f"export function {name}({sig}) {{\n"
        "  return useMemo(() => {\n"
        f"    {_decl(c)} needle = query.trim().toLowerCase();\n"
        f"    return {var}s.filter(({var}) => {var}.{_fn(text, c)}.toLowerCase().includes(needle));\n"
        f"  }}, [{var}s, query]);\n}}\n"
    )
    return name, f"filters {var}s by {text} with a search query", code


def render_util(rng: random.Random, c: Conv) -> tuple[str, str, str]:
    """A small pure utility; returns (function name, description, code)."""
    kind = rng.randrange(4)
    if kind == 0:
        cur = pick(rng, ["USD", "EUR", "GBP", "JPY"])
        loc = pick(rng, ["en-US", "de-DE", "en-GB", "fr-FR"])
        name = _fn("formatCurrency", c)
        sig = f"amount: number, currency: string = '{cur}'): string" if c.typed else f"amount, currency = '{cur}')"
        code = (f"export function {name}({sig} {{\n"
                f"  return new Intl.NumberFormat('{loc}', {{ style: 'currency', currency }}).format(amount);\n}}\n")
        return name, f"formats an amount as currency (default {cur}, locale {loc})", code
    if kind == 1:
        name = _fn("groupBy", c)
        if c.typed:
            sig = "<T, K extends PropertyKey>(items: T[], getKey: (item: T) => K): Record<K, T[]>"
            acc = "{} as Record<K, T[]>"
        else:
            sig, acc = "(items: any, getKey: any)", "{}"
        code = (f"export function {name}{sig} {{\n"
                f"  return items.reduce((groups, item) => {{\n"
                f"    {_decl(c)} key = getKey(item);\n"
                "    (groups[key] ||= []).push(item);\n"
                "    return groups;\n"
                f"  }}, {acc});\n}}\n")
        return name, "groups items by a key function", code
    if kind == 2:
        name = _fn("isOverdue", c)
        ent = pick(rng, ["Invoice", "Task"])
        paid = "isPaid" if ent == "Invoice" else "isDone"
        var = camel(ent)
        sig = f"{var}: {_comp(ent, c)}, now: Date = new Date()): boolean" if c.typed else f"{var}: any, now = new Date())"
        code = (f"import type {{ {_comp(ent, c)} }} from '@/types';\n\n"
                f"export function {name}({sig} {{\n"
                f"  return !{var}.{_fn(paid, c)} && new Date({var}.{_fn('dueDate', c)}) < now;\n}}\n")
        return name, f"tells whether {a_(var)} is past its due date and not {paid[2:].lower()}", code
    name = _fn("getInitials", c)
    n = pick(rng, [2, 3])
    sig = f"fullName: string, maxLetters: number = {n}): string" if c.typed else f"fullName, maxLetters = {n})"
    code = (f"export function {name}({sig} {{\n"
            f"  return fullName\n    .split(/\\s+/)\n    .filter(Boolean)\n"
            f"    .map((part) => part[0].toUpperCase())\n    .slice(0, maxLetters)\n    .join('');\n}}\n")
    return name, f"returns up to {n} initials of a full name", code


VIOLATIONS: dict[str, Conv] = {
    "snake_case names": Conv(pascal_components=False, camel_functions=False),
    "lowercase component": Conv(pascal_components=False),
    "snake_case functions": Conv(camel_functions=False),
    "untyped / any": Conv(typed=False),
    "var": Conv(no_var=False),
    "var + any": Conv(typed=False, no_var=False),
}


def make_style(rng: random.Random) -> Example:
    """A TSX/TS snippet request; rejected breaks conventions (style_off) or pads it (verbose)."""
    kind = rng.randrange(6)
    ent = str(pick(rng, list(ENTITIES)))

    def build(c: Conv, r: random.Random) -> str:
        # Re-seeded per call so chosen and rejected render the same random choices.
        if kind == 0:
            return render_card(r, ent, ent + str(pick(r, ["Card", "Summary", "Tile", "Preview", "Details"])), c)
        if kind == 1:
            return render_list(r, ent, ent + "List", c)
        if kind == 2:
            return render_form(r, ent, ent + "Form", c)
        if kind == 3:
            return render_hook(r, c)[2]
        if kind == 4:
            return render_util(r, c)[2]
        return render_interface(ent, c)

    sub_seed = rng.randrange(2**31)
    chosen = build(GOOD, random.Random(sub_seed))
    probe = random.Random(sub_seed)
    if kind == 0:
        name = ent + str(pick(probe, ["Card", "Summary", "Tile", "Preview", "Details"]))
        fields = _display_fields(probe, ent)
        shown = " and ".join(fields)
        req = pick(rng, [f"Write {a_(name)} component that shows {a_(camel(ent))}'s {shown}.",
                         f"Create a typed React component {name} displaying {shown} of {a_(ent)}.",
                         f"I need {a_(name)} for {camel(ent)} objects (show {shown}).",
                         f"Build {name}: a small presentational TSX component for {ent} ({shown})."])
    elif kind == 1:
        req = pick(rng, [f"Write {a_(ent + 'List')} component that renders {camel(ent)}s as a list with an empty state.",
                         f"Create {ent}List: map an array of {ent} to <li> rows; show a message when empty.",
                         f"Give me a typed list component for {camel(ent)}s, keyed by id."])
    elif kind == 2:
        req = pick(rng, [f"Write a controlled {ent}Form with useState and a typed onSubmit.",
                         f"Create {a_(ent + 'Form')} component: text inputs, local state, submit callback.",
                         f"I need a simple form component to create {a_(ent)} (React + TypeScript)."])
    elif kind == 3:
        hname, desc, _ = render_hook(random.Random(sub_seed), GOOD)
        req = pick(rng, [f"Write a custom hook {hname} that {desc}.", f"Create {hname}: it {desc}.",
                         f"Implement a React hook that {desc} (call it {hname})."])
    elif kind == 4:
        fname, desc, _ = render_util(random.Random(sub_seed), GOOD)
        req = pick(rng, [f"Write a utility {fname} that {desc}.", f"Add a typed helper {fname}: it {desc}.",
                         f"Implement {fname}, which {desc}."])
    else:
        fields = ", ".join(f for f, _ in ENTITIES[ent])
        req = pick(rng, [f"Define the TypeScript interface for {a_(ent)} ({fields}).",
                         f"Write the {ent} type with fields {fields}.",
                         f"Model {a_(ent)} in TypeScript: {fields}."])
    suffix = pick(rng, ["", "", " Follow Web4 conventions.", " Keep it idiomatic TypeScript.",
                        " No any, please.", " Use our usual naming conventions."])
    prompt = with_context(rng, req, suffix)

    if rng.random() < 0.78:
        names = list(VIOLATIONS)
        rng.shuffle(names)
        for violation in names:
            rejected = build(VIOLATIONS[violation], random.Random(sub_seed))
            if rejected != chosen:
                break
        tags: tuple[str, ...] = ("style_off",)
    else:
        intro = pick(rng, ["Sure! Here is the code you asked for. I made sure to follow best practices:\n\n",
                           "Great question! Below is a complete, production-ready implementation.\n\n",
                           "Of course. Let me walk you through it step by step.\n\n"])
        outro = pick(rng, ["\nLet me know if you want me to add tests, stories, documentation or anything else!\n",
                           "\nThis code is clean, typed and follows all conventions. Hope this helps!\n",
                           "\nExplanation: the code above does exactly what you asked. It is exported so it can be imported elsewhere.\n"])
        rejected = intro + "```tsx\n// " + pick(rng, ["This file was generated for you.", "Imports go first.",
                                                     "Code starts here."]) + "\n" + chosen + "```\n" + outro
        tags = ("verbose",)
    return Example(prompt, chosen, rejected, tags)
