"""``python -m web4rl pipeline --config PIPELINE.yaml [--run-dir DIR] [--restart STAGE]``."""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import sys
from pathlib import Path

from web4rl.pipeline.run import Pipeline, StageFailed
from web4rl.pipeline.spec import PipelineSpecError, load_spec


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m web4rl pipeline", description=__doc__)
    parser.add_argument("--config", required=True,
                        help="pipeline file (a path or a shipped name like pipeline_cpu.yaml)")
    parser.add_argument("--run-dir", help="override run_dir of the pipeline file")
    parser.add_argument("--restart", metavar="STAGE",
                        help="rerun this stage and every later one (their done markers are removed)")
    args = parser.parse_args(argv)
    try:
        from web4rl.shipped_configs import ConfigNotFound, resolve_config

        try:
            path = resolve_config(args.config)
        except ConfigNotFound as err:
            raise PipelineSpecError(str(err)) from None
        spec = load_spec(path)
        if args.run_dir:
            spec = dataclasses.replace(spec, run_dir=args.run_dir)
        names = [s.name for s in spec.stages]
        if args.restart:
            if args.restart not in names:
                raise PipelineSpecError(f"--restart {args.restart}: stages are {', '.join(names)}")
            for name in names[names.index(args.restart):]:
                (Path(spec.run_dir) / name / "done.json").unlink(missing_ok=True)
            shutil.rmtree(Path(spec.run_dir) / "stage4", ignore_errors=True)
    except PipelineSpecError as err:
        print(f"web4rl pipeline: error: {err}", file=sys.stderr)
        return 2
    try:
        Pipeline(spec).run()
    except StageFailed as err:
        print(f"web4rl pipeline: stopped: {err}\nreport: {Path(spec.run_dir) / 'report.md'}",
              file=sys.stderr)
        return 1
    print(f"web4rl pipeline: finished; report: {Path(spec.run_dir) / 'report.md'}")
    return 0
