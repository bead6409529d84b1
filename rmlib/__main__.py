"""Command line: ``python -m rmlib run params/2018.yaml`` and friends (``--help``).

Every failure a user can cause or meet - a bad setting, bad raw data, a
locked year, a read-only folder, a full disk, a file where a folder should
be - ends in one line (or a short table) on stderr and exit code 1; never a
traceback.
"""

from __future__ import annotations

import argparse
import errno
import sys
from pathlib import Path

_OS_HINTS = {
    errno.EACCES: "permission denied (read-only folder?)",
    errno.EPERM: "operation not permitted",
    errno.EROFS: "read-only file system",
    errno.ENOSPC: "no space left on the disk",
    errno.EDQUOT: "disk quota exceeded",
    errno.ENOTDIR: "a file is where a folder should be",
    errno.EEXIST: "something is already there",
    errno.EISDIR: "a folder is where a file should be",
    errno.ENOENT: "no such file or folder",
    errno.EFBIG: "file too large",
}


def version() -> str:
    """The installed package's version (pyproject.toml), or a plain word when it is not installed."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("rmlib")
    except PackageNotFoundError:
        return "(not installed: run make report, or pip install -e .)"


def params_file(given: str) -> Path:
    """The parameter file a user means: relative to the current folder first, then to the repository root.

    Says which file it uses, so "validate my.yaml" next to the file and "validate params/2018.yaml" from
    the root both do what they say.
    """
    from .params import ParamsError
    from .paths import repo_root

    p = Path(given).expanduser()
    if p.is_absolute():
        candidates = [p]
    else:
        candidates = [Path.cwd() / p, repo_root() / p]
    for c in candidates:
        if c.exists():  # a folder of that name is the user's too: load_params says it is not a file
            c = c.resolve()
            root = repo_root()
            shown = c.relative_to(root) if c.is_relative_to(root) else c
            print(f"parameters: {shown}", file=sys.stderr)
            return c
    looked = " and ".join(str(c) for c in dict.fromkeys(candidates))
    raise ParamsError(f"parameter file {given} not found: looked for {looked}")


def year_params(root: Path) -> list[Path]:
    """Every ``params/<year>.yaml`` of the repository, oldest year first."""
    return sorted((root / "params").glob("[0-9][0-9][0-9][0-9].yaml"), key=lambda p: int(p.stem))


def _run(args: argparse.Namespace) -> int:
    from .params import ParamsError
    from .paths import repo_root
    from .pipeline import run

    stages = tuple(s.strip() for s in args.stages.split(",")) if args.stages else None
    if args.all == bool(args.params):
        raise ParamsError("give one parameter file (e.g. params/2018.yaml) or --all (every year), not both")
    if not args.all:
        run(params_file(args.params), stages=stages, allowed_roots=args.allow_root or ())
        return 0
    files = year_params(repo_root())
    if not files:
        raise ParamsError(f"--all: no params/<year>.yaml in {repo_root()}")
    for k, path in enumerate(files, 1):
        print(f"== {path.stem} ({k} of {len(files)} years) ==", file=sys.stderr)
        try:
            run(path, stages=stages, allowed_roots=args.allow_root or ())
        except Exception:
            done = ", ".join(p.stem for p in files[: k - 1]) or "none"
            left = ", ".join(p.stem for p in files[k:]) or "none"
            print(
                f"run --all: stopped at {path.stem} (built: {done}; not run: {left}); the reason follows",
                file=sys.stderr,
            )
            raise
    return 0


def _recover(args: argparse.Namespace) -> int:
    from .params import load_params
    from .pipeline import recover

    recover(load_params(params_file(args.params)))
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
    from .clean import format_problem
    from .narrative import NarrativeError, load
    from .params import load_params
    from .pipeline import check

    params = load_params(params_file(args.params))
    _, problems, errors, warnings = check(params, args.allow_root or ())
    try:  # the officers' narrative file (optional: without it the report says there are no officers' notes)
        load(params.year)
    except NarrativeError as exc:
        errors = errors + str(exc).splitlines()
    for w in warnings:
        print(w if ": warning: " in w else f"warning: {w}", file=sys.stderr)
    if problems.empty and not errors:
        print("no problems found")
        return 0
    lines = errors + [format_problem(p) for p in problems.to_dict("records")]
    print(f"{len(lines)} problem(s):")
    print("\n".join(lines))
    return 1


def _params(args: argparse.Namespace) -> int:
    from .params import help_lines, markdown

    print(markdown() if args.markdown else "\n".join(["parameters (set in params/<year>.yaml):", *help_lines()]))
    return 0


def _sync_params(args: argparse.Namespace) -> int:
    from .params import SYNC_COMMAND
    from .stages.notebooks import out_of_sync, sync

    if args.check:
        stale = out_of_sync()
        for rel in stale:
            print(f"out of date: {rel}")
        if stale:
            print(f"regenerate with: {SYNC_COMMAND}", file=sys.stderr)
        return 1 if stale else 0
    written = sync()
    print("\n".join(f"rewrote {rel}" for rel in written) if written else "everything is in sync")
    return 0


def os_error_line(exc: OSError) -> str:
    """One line for an environment error: what went wrong, and the path."""
    what = _OS_HINTS.get(exc.errno, exc.strerror or type(exc).__name__)
    path = exc.filename if exc.filename is not None else ""
    try:
        from .paths import repo_root

        p = Path(path)
        if p.is_absolute() and p.is_relative_to(repo_root()):
            path = str(p.relative_to(repo_root()))
    except (RuntimeError, ValueError, TypeError):
        pass
    extra = f" and {exc.filename2}" if getattr(exc, "filename2", None) else ""
    return f"cannot write or read {path}{extra}: {what}" if path else f"{what} ({exc})"


def build_parser() -> argparse.ArgumentParser:
    """Every subcommand and option (``run --help`` ends with the parameters, from rmlib.params.PARAMETERS)."""
    from .params import help_lines

    parser = argparse.ArgumentParser(prog="python -m rmlib", description="Relationship Management Survey pipeline")
    parser.add_argument("--version", action="version", version=f"rmlib {version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    allow = dict(
        action="append",
        metavar="DIR",
        help="a folder outside the repository where path settings may point (repeatable)",
    )
    p = sub.add_parser(
        "run",
        help="run the notebooks for one year (clean -> score -> cross-analysis -> significance -> report)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(["parameters (set in the parameter file):", *help_lines()]),
    )
    p.add_argument("params", nargs="?", help="parameter file, e.g. params/2018.yaml")
    p.add_argument(
        "--all",
        action="store_true",
        help="every year that has params/<year>.yaml, oldest first; stops at the first failure",
    )
    p.add_argument("--stages", help="comma-separated subset of stages, e.g. 01_clean,02_score (default: all)")
    p.add_argument("--allow-root", **allow)
    p.set_defaults(func=_run)
    p = sub.add_parser("validate", help="check a year's settings and raw exports and list every problem")
    p.add_argument("params")
    p.add_argument("--allow-root", **allow)
    p.set_defaults(func=_validate)
    p = sub.add_parser("params", help="list every parameter: type, valid values, default and meaning")
    p.add_argument("--markdown", action="store_true", help="as the table of docs/parameters.md")
    p.set_defaults(func=_params)
    p = sub.add_parser(
        "sync-params",
        help="regenerate what is derived from the parameter declarations "
        "(the notebooks' parameters cells, docs/parameters.md)",
    )
    p.add_argument("--check", action="store_true", help="only list what is out of date (exit 1 if anything is)")
    p.set_defaults(func=_sync_params)
    p = sub.add_parser(
        "recover", help="finish or clean up what an interrupted run of the year left (every run does this first)"
    )
    p.add_argument("params")
    p.set_defaults(func=_recover)
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
    p.add_argument(
        "--from", dest="previous", required=True, help="last year's codebook, e.g. params/codebooks/2018.yaml"
    )
    p.add_argument("--out", help="where to write the draft (default params/codebooks/<year>.yaml)")
    p.add_argument("--year", type=int, help="the year (default: read from the folder name)")
    p.add_argument("--force", action="store_true", help="overwrite an existing codebook")
    p.set_defaults(
        func=lambda a: __import__("rmlib.draft", fromlist=["run_draft"]).run_draft(
            a.folder, a.previous, out=a.out, force=a.force, year=a.year
        )
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .transaction import Terminated

    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print("terminated: the last good results are untouched", file=sys.stderr)
        return 143
    except Exception as exc:  # one line (or a short table) a user can act on, non-zero exit
        from .clean import ValidationFailed
        from .codebook import CodebookError
        from .draft import DraftError
        from .params import ParamsError
        from .paths import RepoNotFound
        from .pipeline import PipelineError
        from .safety import DataGateFailed, UnsafeSettings
        from .transaction import RunLocked, TransactionError
        from .yamlsafe import UnsafeYAML

        known = (
            PipelineError,
            ParamsError,
            CodebookError,
            ValidationFailed,
            UnsafeSettings,
            DataGateFailed,
            RunLocked,
            TransactionError,
            UnsafeYAML,
            DraftError,
            RepoNotFound,
        )
        if isinstance(exc, known):
            print(f"error: {exc}", file=sys.stderr)
            return 1
        if isinstance(exc, OSError):
            print(f"error: {os_error_line(exc)}", file=sys.stderr)
            return 1
        if isinstance(exc, MemoryError):
            print("error: out of memory; lower n_resamples or run on a larger machine", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
