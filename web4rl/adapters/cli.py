"""``python -m web4rl adapters merge|average|stack|export|card`` (Stage 4)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from web4rl.adapters.export import VERIFY_PROMPTS, export
from web4rl.adapters.gguf_export import GGUF_TYPES, GGUFExportError
from web4rl.adapters.ops import AVERAGE_METHODS, AdapterError, average, merge, stack


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--out", required=True, help="output directory (or .gguf file for export)")
    p.add_argument("--base", help="base model (HF id, directory or web4rl/tiny); default: "
                                  "the adapter's base_model_name_or_path")
    p.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    p.add_argument("--seed", type=int, default=0, help="web4rl/tiny initialisation seed")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m web4rl adapters",
                                     description="Merge, combine, export and document adapters.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("merge", help="fold an adapter into its base: a standalone HF model")
    p.add_argument("adapter")
    p.add_argument("--max-shard-size", default="5GB")
    _common(p)
    for name, help_ in (("average", "weighted combination of adapters trained on one base"),
                        ("stack", "adapters applied in sequence, saved as one")):
        p = sub.add_parser(name, help=help_)
        p.add_argument("adapters", nargs="+")
        if name == "average":
            p.add_argument("--weights", type=float, nargs="+", help="default: 1/n each")
            p.add_argument("--method", default="cat", choices=AVERAGE_METHODS,
                           help="cat (exact, rank = sum of ranks), linear, svd, ties, dare_*")
            p.add_argument("--density", type=float, default=0.5, help="kept fraction (TIES/DARE)")
        p.add_argument("--merged", action="store_true", help="save a merged model, not an adapter")
        p.add_argument("--max-shard-size", default="5GB")
        _common(p)
    p = sub.add_parser("export", help="merged model as safetensors or GGUF, verified by reloading")
    p.add_argument("adapter", help="adapter directory (merged first) or a merged model directory")
    p.add_argument("--format", default="safetensors", choices=["safetensors", "gguf"])
    p.add_argument("--type", default="f16", choices=GGUF_TYPES, help="GGUF tensor type")
    p.add_argument("--no-verify", action="store_true", help="skip the reload + logits check")
    _common(p)
    p = sub.add_parser("card", help="write a Hugging Face model card (README.md)")
    p.add_argument("adapter")
    p.add_argument("-o", "--out", required=True, help="card path, e.g. ADAPTER/README.md")
    p.add_argument("--base")
    p.add_argument("--lineage", help="JSON list of {stage, algorithm, config, adapter, data: [files]}")
    p.add_argument("--eval-report", help="eval.json of `python -m web4rl evaluate`")
    p.add_argument("--eval-adapter", help="which adapter of a multi-adapter eval.json to show")
    return parser


def _read_json(path: str | None, what: str):
    if path is None:
        return None
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AdapterError(f"{what} {path} does not exist") from None
    except json.JSONDecodeError as err:
        raise AdapterError(f"{path}:{err.lineno}: invalid JSON ({err.msg})") from None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    common = {}
    if args.command != "card":
        common = dict(base=args.base, dtype=args.dtype, seed=args.seed)
    try:
        if args.command == "merge":
            out = merge(args.adapter, args.out, max_shard_size=args.max_shard_size, **common)
        elif args.command == "average":
            out = average(args.adapters, args.out, weights=args.weights, method=args.method,
                          density=args.density, merged=args.merged,
                          max_shard_size=args.max_shard_size, **common)
        elif args.command == "stack":
            out = stack(args.adapters, args.out, merged=args.merged,
                        max_shard_size=args.max_shard_size, **common)
        elif args.command == "export":
            result = export(args.adapter, args.out, fmt=args.format, kind=args.type,
                            verify=not args.no_verify, **common)
            out = result.path
            if result.max_logit_diff is not None:
                print(f"verified: reloaded {args.format} matches the merged model on "
                      f"{len(VERIFY_PROMPTS)} prompts (max |logit diff| {result.max_logit_diff:.2e}"
                      f", tolerance {result.tolerance:.0e})")
        else:
            from web4rl.adapters.card import write_card

            out = write_card(args.adapter, args.out, base=args.base,
                             lineage=_read_json(args.lineage, "lineage file"),
                             eval_report=_read_json(args.eval_report, "eval report"),
                             eval_adapter=args.eval_adapter)
    except (AdapterError, GGUFExportError) as err:
        print(f"web4rl adapters: error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {out}")
    return 0
