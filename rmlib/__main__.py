"""Command line: ``python -m rmlib run params/2018.yaml`` and friends (``--help``)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _run(args: argparse.Namespace) -> int:
    from .pipeline import run
    stages = tuple(args.stages.split(",")) if args.stages else None
    run(args.params, stages=stages)
    return 0


def _synth(args: argparse.Namespace) -> int:
    from .synth import generate_all
    files = generate_all(out_dir=args.out, years=tuple(args.years), seed=args.seed)
    for f in files:
        print(f"wrote {f}")
    return 0


def _manifest(args: argparse.Namespace) -> int:
    from .io import write_manifest
    path = write_manifest(Path(args.folder))
    print(f"recorded {path}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from .clean import format_problem, read_and_validate
    from .params import load_params
    validated, problems = read_and_validate(load_params(args.params))
    for note in (n for v in validated for n in v.notes if ": warning: " in n):
        print(note, file=sys.stderr)
    if problems.empty:
        print("no problems found")
        return 0
    print(f"{len(problems)} problem(s):")
    print("\n".join(format_problem(p) for p in problems.to_dict("records")))
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rmlib", description="Relationship Management Survey pipeline")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="run the notebooks for one year (clean -> score -> cross-analysis -> significance -> report)")
    p.add_argument("params", help="parameter file, e.g. params/2018.yaml")
    p.add_argument("--stages", help="comma-separated subset of stages, e.g. 01_clean,02_score (default: all)")
    p.set_defaults(func=_run)
    p = sub.add_parser("validate", help="check a year's raw exports against its codebook and list every problem")
    p.add_argument("params")
    p.set_defaults(func=_validate)
    p = sub.add_parser("synth", help="regenerate the synthetic example exports in data/raw/")
    p.add_argument("--out", default="data/raw")
    p.add_argument("--years", type=int, nargs="+", default=[2016, 2017, 2018])
    p.add_argument("--seed", type=int, default=20161101)
    p.set_defaults(func=_synth)
    p = sub.add_parser("manifest", help="re-record MANIFEST.sha256 of a raw data folder (after a deliberate change)")
    p.add_argument("folder")
    p.set_defaults(func=_manifest)
    p = sub.add_parser("draft-codebook", help="draft a new year's codebook from its exports and last year's codebook")
    p.add_argument("folder", help="the new year's raw folder, e.g. data/raw/2019")
    p.add_argument("--from", dest="previous", required=True, help="last year's codebook, e.g. params/codebooks/2018.yaml")
    p.add_argument("--out", help="where to write the draft (default params/codebooks/<year>.yaml)")
    p.add_argument("--year", type=int, help="the year (default: read from the folder name)")
    p.add_argument("--force", action="store_true", help="overwrite an existing codebook")
    p.set_defaults(func=lambda a: __import__("rmlib.draft", fromlist=["run_draft"]).run_draft(
        a.folder, a.previous, out=a.out, force=a.force, year=a.year))
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line (or a short table) a user can act on, non-zero exit
        from .clean import ValidationFailed
        from .codebook import CodebookError
        from .params import ParamsError
        from .pipeline import PipelineError
        from .draft import DraftError
        if isinstance(exc, (PipelineError, ParamsError, CodebookError, ValidationFailed, FileNotFoundError, DraftError)):
            print(f"error: {exc}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
