"""``python -m web4rl annotate {import,add-annotator,serve,stats,export}``.

Typical session::

    python -m web4rl annotate import samples.jsonl --db annotations.sqlite --gold gold.jsonl
    python -m web4rl annotate add-annotator alice --db annotations.sqlite   # prints a token
    python -m web4rl annotate serve --db annotations.sqlite                 # 127.0.0.1:8000
    python -m web4rl annotate stats --db annotations.sqlite
    python -m web4rl annotate export --db annotations.sqlite -o pairs.jsonl

Bad input (missing file, bad row, unknown annotator database) prints one message naming the file,
line and field and exits with status 2; nothing already stored is lost.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys

DEFAULT_DB = "annotations.sqlite"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m web4rl annotate",
        description="Human preference annotation: import candidates, serve the labelling app, "
        "measure agreement, export preference pairs.",
    )
    sub = p.add_subparsers(dest="command", required=True)

    imp = sub.add_parser("import", help="import sample/scored rows as comparisons (and gold pairs)")
    imp.add_argument("files", nargs="*", help="JSONL sample rows {prompt_id, prompt, completion, ...}")
    imp.add_argument("--db", default=DEFAULT_DB, help="annotation database (created if missing)")
    imp.add_argument("--gold", nargs="+", default=[], metavar="FILE",
                     help="preference rows with known answers, for certification")
    imp.add_argument("--overlap", type=float, default=0.1,
                     help="share of comparisons labelled by two annotators (default 0.1)")
    imp.add_argument("--max-pairs-per-prompt", type=int, default=None, metavar="K",
                     help="at most K comparisons per prompt (seeded draw; default: every pair)")
    imp.add_argument("--seed", type=int, default=0)

    add = sub.add_parser("add-annotator", help="create an annotator and print their access token")
    add.add_argument("name")
    add.add_argument("--db", default=DEFAULT_DB)

    srv = sub.add_parser("serve", help="run the web app")
    srv.add_argument("--db", default=DEFAULT_DB)
    srv.add_argument("--host", default="127.0.0.1",
                     help="interface (default 127.0.0.1: this machine only; put HTTPS in front to share)")
    srv.add_argument("--port", type=int, default=8000)
    srv.add_argument("--profile", default="web4", help="tool profile tool calls are checked against")
    srv.add_argument("--no-require-justification", action="store_true")
    srv.add_argument("--secure-cookies", action="store_true", help="set when served over HTTPS")

    st = sub.add_parser("stats", help="agreement and quality figures")
    st.add_argument("--db", default=DEFAULT_DB)
    st.add_argument("--json", action="store_true", help="print JSON instead of text")

    ex = sub.add_parser("export", help="write preference pairs (+ train/val/test files)")
    ex.add_argument("--db", default=DEFAULT_DB)
    ex.add_argument("-o", "--out", required=True, help="output JSONL (pairs.jsonl -> also pairs.train.jsonl, ...)")
    ex.add_argument("--min-confidence", choices=("low", "medium", "high"), default="medium",
                    help="drop labels below this confidence (default medium: low-confidence out)")
    ex.add_argument("--split", type=float, nargs=3, default=(0.8, 0.1, 0.1),
                    metavar=("TRAIN", "VAL", "TEST"))
    ex.add_argument("--seed", type=int, default=0)
    ex.add_argument("--ties-out", default=None, help="also write tie labels to this JSONL file")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from web4rl.annotate import db

    try:
        if args.command == "import":
            from web4rl.annotate.candidates import import_candidates, import_gold

            if not args.files and not args.gold:
                print("annotate import: give sample files and/or --gold files", file=sys.stderr)
                return 2
            con = db.connect(args.db, create=True)
            if args.files:
                print(import_candidates(con, args.files, overlap=args.overlap, seed=args.seed,
                                        max_pairs_per_prompt=args.max_pairs_per_prompt))
            if args.gold:
                print(f"{import_gold(con, args.gold, seed=args.seed)} new gold comparisons")
            return 0
        if args.command == "add-annotator":
            from web4rl.annotate.store import add_annotator

            token = add_annotator(db.connect(args.db), args.name)
            print(f"annotator {args.name!r} created; their access token (shown once, keep it secret):")
            print(token)
            return 0
        if args.command == "serve":
            return _serve(args)
        if args.command == "stats":
            from web4rl.annotate.stats import compute_stats, format_stats

            st = compute_stats(db.connect(args.db))
            print(st.to_json() if args.json else format_stats(st))
            return 0
        if args.command == "export":
            from web4rl.annotate.export import export_pairs

            rep = export_pairs(
                db.connect(args.db), args.out, min_confidence=args.min_confidence,
                fractions=args.split, seed=args.seed, ties_out=args.ties_out,
            )
            print(rep)
            return 0
    # DataValidationError (bad rows, naming file:line:field) is a ValueError. It is not imported
    # here: web4rl.data pulls in torch and Lightning, which serve/stats/add-annotator do not need.
    except (FileNotFoundError, ValueError, sqlite3.DatabaseError, ImportError) as err:
        print(f"web4rl annotate {args.command}: error: {err}", file=sys.stderr)
        return 2
    return 2


def _serve(args: argparse.Namespace) -> int:
    from web4rl.annotate.app import create_app

    app = create_app(
        args.db, profile=args.profile,
        require_justification=not args.no_require_justification,
        secure_cookies=args.secure_cookies,
    )
    import uvicorn

    print(f"annotation app on http://{args.host}:{args.port}/ (Ctrl+C stops; labels are saved as they come)")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
