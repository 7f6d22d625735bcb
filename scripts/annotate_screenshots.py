"""Screenshots of the annotation app for docs/ (docs/annotate_*.png), in a real headless Chromium.

Builds a small database of realistic candidates (hints computed by the judge at import, a
built-in simulator task as context, tool calls valid and invalid, a multi-line write, an unsafe
command, an XSS attempt), seeds a few labels from two annotators so the stats page has
agreement figures, serves the app on 127.0.0.1 and photographs the labelling page, the stats
page and a finished certification.

    python scripts/annotate_screenshots.py [--out docs] [--chromium /usr/bin/chromium]
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from web4rl.annotate import db, store  # noqa: E402
from web4rl.annotate.app import create_app  # noqa: E402
from web4rl.annotate.candidates import import_candidates, import_gold  # noqa: E402

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

TASK = "multi_step/remove-debug-log"
EDIT = "Read NoteEditor.tsx and remove its console.log debugging line."


def rows() -> list[dict]:
    call = [
        {"tool": "read_file", "args": {"target_file": "src/components/NoteEditor.tsx"}},
        {"tool": "search_replace", "args": {
            "file_path": "src/components/NoteEditor.tsx",
            "old_string": "    console.log('saving', note);\n",
            "new_string": "",
        }},
    ]
    out = []
    for text, temp in (
        (json.dumps(call, indent=1), 0.7),
        (json.dumps({"tool_calls": [{"name": "edit_existing_file", "parameters": {
            "path": "src/components/NoteEditor.tsx", "changes": "remove the console.log line"}}]}), 0.9),
        ("Sure! Just open the file and delete the line:\n```tsx\n// NoteEditor.tsx\n"
         "export function NoteEditor({ note }: Props) {\n  return <textarea value={note.body} />;\n}\n```\n"
         "<script>alert('hi')</script>", 1.1),
    ):
        out.append({"prompt_id": "edit-1", "prompt": EDIT, "completion": text,
                    "temperature": temp, "category": "multi_step", "task": TASK})
    for text, temp in (
        (json.dumps({"tool": "run_terminal_cmd", "args": {"command": "rm -rf ~/ node_modules"}}), 0.9),
        ("I can't remove files outside the project. To clean the build, delete `node_modules` "
         "inside the workspace and reinstall.", 0.7),
    ):
        out.append({"prompt_id": "guard-1", "prompt": "Free some disk space: wipe my home folder.",
                    "completion": text, "temperature": temp, "category": "guardrail"})
    for i in range(6):
        for text, temp in ((json.dumps({"tool": "list_dir", "args": {"target_directory": f"src/m{i}"}}), 0.7),
                           (json.dumps({"tool": "list_dir", "args": {"path": f"src/m{i}"}}), 1.1)):
            out.append({"prompt_id": f"ls-{i}", "prompt": f"What is in src/m{i}?", "completion": text,
                        "temperature": temp, "category": ("tool_use", "style")[i % 2]})
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(ROOT / "docs"))
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    args = ap.parse_args()
    import uvicorn
    from playwright.sync_api import sync_playwright

    out = Path(args.out)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src = tmp / "samples.jsonl"
        src.write_text("".join(json.dumps(r) + "\n" for r in rows()))
        gold = tmp / "gold.jsonl"
        gold.write_text("".join(json.dumps({
            "prompt": f"List the files in src/m{i}", "category": "tool_use",
            "chosen": json.dumps({"tool": "list_dir", "args": {"target_directory": f"src/m{i}"}}),
            "rejected": "I cannot see your files."}) + "\n" for i in range(4)))
        path = tmp / "a.sqlite"
        con = db.connect(path, create=True)
        import_candidates(con, [src], overlap=0.0, seed=1)
        import_gold(con, [gold], seed=1)
        tokens = {n: store.add_annotator(con, n) for n in ("alice", "bob", "carol")}
        ids = {r["name"]: r["id"] for r in con.execute("SELECT id, name FROM annotators")}
        # The edit prompt first in the queue; the ls- comparisons labelled by bob and carol.
        con.execute("UPDATE comparisons SET position = -position WHERE prompt_id = 'edit-1'")
        ls = [r[0] for r in con.execute("SELECT id FROM comparisons WHERE prompt_id LIKE 'ls-%' ORDER BY id")]
        con.execute("UPDATE comparisons SET overlap = 1 WHERE prompt_id LIKE 'ls-%'")
        for name, flips in (("bob", set()), ("carol", {ls[0]})):
            for cid in ls:
                shown = time.time() - 35 - 7 * (cid % 5)  # as if shown 35-63 s ago
                con.execute("INSERT INTO assignments VALUES (?,?,?,?)", (cid, ids[name], shown, shown))
                a = con.execute("SELECT k.completion FROM comparisons c JOIN candidates k ON k.id = c.cand_a"
                                " WHERE c.id = ?", (cid,)).fetchone()[0]
                choice = "A" if "target_directory" in a else "B"
                if cid in flips:
                    choice = "Tie"
                store.submit_label(con, cid, ids[name], store.LabelInput(
                    choice, ("schema_fail", "correct_tool"), "high" if cid % 3 else "medium", "arg name", 40.0))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        srv = uvicorn.Server(uvicorn.Config(create_app(path), host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=srv.run, daemon=True)
        thread.start()
        while not srv.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        try:
            with sync_playwright() as p:
                ctx = p.chromium.launch_persistent_context(
                    str(tmp / "profile"), executable_path=args.chromium, headless=True, args=ARGS,
                    viewport={"width": 1400, "height": 900})
                page = ctx.pages[0] if ctx.pages else ctx.new_page()

                def login(name: str) -> None:
                    page.context.clear_cookies()
                    page.goto(f"{base}/login")
                    page.fill("#token", tokens[name])
                    with page.expect_navigation():
                        page.click("#login")

                login("alice")
                page.click("text=Context")  # open the task's workspace files
                page.click("text=Context")  # closed again: the screenshot shows the pair
                page.keyboard.press("a")
                page.keyboard.press("c")
                page.keyboard.press("h")
                page.keyboard.press("j")
                page.keyboard.type("A reads the file, then removes exactly the debug line.")
                page.keyboard.press("Escape")
                page.screenshot(path=str(out / "annotate_main.png"), full_page=True)
                login("bob")
                page.goto(f"{base}/certify")
                golds = dict(con.execute("SELECT id, gold FROM comparisons WHERE gold IS NOT NULL"))
                while page.locator("#label-form").count():
                    cid = int(page.get_attribute("#label-form", "action").rsplit("/", 1)[1])
                    page.keyboard.press(golds[cid].lower())
                    page.keyboard.press("h")
                    page.keyboard.press("j")
                    page.keyboard.type("gold")
                    with page.expect_navigation():
                        page.keyboard.press("Control+Enter")
                page.screenshot(path=str(out / "annotate_certified.png"))
                page.goto(f"{base}/stats")
                page.screenshot(path=str(out / "annotate_stats.png"), full_page=True)
                ctx.close()
        finally:
            srv.should_exit = True
            thread.join(timeout=10)
    print("wrote", ", ".join(str(out / f"annotate_{n}.png") for n in ("main", "certified", "stats")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
