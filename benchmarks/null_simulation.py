"""Null simulation for rmlib.stats: false-positive rate, power and interval coverage.

Scenarios (each row: ``--reps`` replications under the null and as many at a
0.5-point difference; one question, so a cell is one ratio mean):

subgroup
    an officer subgroup of n = 3, 5, 10, 30 against the rest of its group
    (80), one rating each, variance ratio (subgroup / rest) 1, 2, 5. The
    ratings are drawn from the maximum-entropy distributions on {1, 2, 3, 4}
    with the stated mean and variance (rest: mean 2.5, variance 0.36;
    subgroup: variance 0.36 x ratio, mean 2.5 under the null, 3.0 for power),
    so the ratio is exact on the rating scale.
providers
    providers (k ~ U{1..10} ratings each, a respondent effect with
    intra-class correlation ICC = 0, 0.1, 0.3 on a latent normal, rounded and
    clipped to 1-4) n = 5, 15, 50 against officers (one rating, the same
    latent distribution) n = 5, 15, 85. Power: providers' latent mean +0.5
    (about +0.45 on the rating scale after rounding and clipping).
ties
    heavy ties: every score 3 except P(4) = 0.1 (mean 3.1), n against 80 and
    n against n. Power: P(4) = 0.6 on side A (a difference of exactly 0.5).
last_year
    the same providers-like (ICC 0.1) or officers-like design in two years,
    n = 5, 10, 20, 50, 100 in each. Power: +0.5 on the latent scale.

Columns: ``fpr`` (share of null replications with p < 0.05, unadjusted) and
its Monte Carlo SE; ``power`` (the same at the 0.5 difference); ``cov_a`` /
``cov_b`` (coverage of the 95 % cell interval of each side, against the exact
cell target, for sides of n >= 5; ``w0`` the share of zero-width ones);
``diff_cov`` (coverage of the difference interval under the null);
``disagree`` (replications with p < 0.05 whose difference interval contains 0,
or the reverse).

``--code before`` runs the statistics of commit a0787a0 (read with ``git
show``, so no checkout is needed), ``--code after`` the working tree. The same
data sets (seeded by row and replication) are used by both.

Run: ``.venv/bin/python benchmarks/null_simulation.py --code after [--reps 2000]
[--resamples 999] [--out benchmarks/results/null_after.csv]``; ``--smoke`` runs a
few rows with 40 replications (seconds; ``tests/test_stats_simulation.py``).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd
from scipy import optimize
from scipy import stats as st

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
BEFORE = "a0787a0"
VALUES = np.arange(1.0, 5.0)


def load_stats(code: str):
    """The stats module of the working tree (``after``) or of commit a0787a0 (``before``)."""
    if code == "after":
        from rmlib import stats

        return stats
    import rmlib  # noqa: F401  (the package the old module's relative imports resolve in)

    src = subprocess.run(
        ["git", "show", f"{BEFORE}:rmlib/stats.py"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    spec = importlib.util.spec_from_loader("rmlib._stats_before", loader=None)
    mod = importlib.util.module_from_spec(spec)
    mod.__package__ = "rmlib"
    sys.modules[spec.name] = mod
    exec(compile(src, f"{BEFORE}:rmlib/stats.py", "exec"), mod.__dict__)
    return mod


def maxent(mean: float, var: float) -> np.ndarray:
    """P(1..4) of the maximum-entropy distribution with this mean and variance."""

    def moments(ab):
        w = np.exp(ab[0] * (VALUES - 2.5) + ab[1] * (VALUES - 2.5) ** 2)
        p = w / w.sum()
        m = p @ VALUES
        return [m - mean, p @ (VALUES - m) ** 2 - var]

    ab = optimize.fsolve(moments, [0.0, 0.0], xtol=1e-13)
    w = np.exp(ab[0] * (VALUES - 2.5) + ab[1] * (VALUES - 2.5) ** 2)
    p = w / w.sum()
    assert np.allclose(moments(ab), 0, atol=1e-8), (mean, var, moments(ab))
    return p


def latent_marginal(mu: float, sd: float) -> np.ndarray:
    """P(1..4) of clip(round(N(mu, sd^2)), 1, 4)."""
    cdf = st.norm.cdf([1.5, 2.5, 3.5], mu, sd)
    return np.diff(np.r_[0.0, cdf, 1.0])


# ------------------------------------------------------------------ designs: (sums, counts), target
def discrete(rng, n, p):
    y = rng.choice(VALUES, size=n, p=p)
    return y, np.ones(n)


def clustered(rng, n, mu, sd, icc, k_max=10):
    k = rng.integers(1, k_max + 1, n) if k_max > 1 else np.ones(n, dtype=int)
    u = np.sqrt(icc) * sd * rng.standard_normal(n)
    lat = mu + u[:, None] + np.sqrt(1 - icc) * sd * rng.standard_normal((n, k_max))
    y = np.clip(np.rint(lat), 1, 4)
    valid = np.arange(k_max)[None, :] < k[:, None]
    return (y * valid).sum(1), valid.sum(1).astype(float)


MU, SD = 2.6, 0.9
SMOKE = {
    ("subgroup", "var ratio 5", 5, 80),
    ("providers", "ICC 0.3", 15, 15),
    ("ties", "P(4)=0.1, rest 3", 5, 80),
    ("last_year", "officers", 10, 10),
}


def scenarios() -> list[dict]:
    """Every row: name, n_a, n_b, a draw function for each side under the null and at the difference."""
    rows = []
    base = maxent(2.5, 0.36)
    for ratio in (1, 2, 5):
        p0, p1 = maxent(2.5, 0.36 * ratio), maxent(3.0, 0.36 * ratio)
        for n in (3, 5, 10, 30):
            rows.append(
                dict(
                    scenario="subgroup",
                    setting=f"var ratio {ratio}",
                    n_a=n,
                    n_b=80,
                    a0=lambda r, n, p=p0: discrete(r, n, p),
                    a1=lambda r, n, p=p1: discrete(r, n, p),
                    b=lambda r, n: discrete(r, n, base),
                    ta=p0 @ VALUES,
                    tb=base @ VALUES,
                )
            )
    for icc in (0.0, 0.1, 0.3):
        for n_a in (5, 15, 50):
            for n_b in (5, 15, 85):
                rows.append(
                    dict(
                        scenario="providers",
                        setting=f"ICC {icc}",
                        n_a=n_a,
                        n_b=n_b,
                        a0=lambda r, n, i=icc: clustered(r, n, MU, SD, i),
                        a1=lambda r, n, i=icc: clustered(r, n, MU + 0.5, SD, i),
                        b=lambda r, n: clustered(r, n, MU, SD, 0.0, k_max=1),
                        ta=latent_marginal(MU, SD) @ VALUES,
                        tb=latent_marginal(MU, SD) @ VALUES,
                    )
                )
    tie0, tie1 = np.array([0, 0, 0.9, 0.1]), np.array([0, 0, 0.4, 0.6])
    for n_a, n_b in ((5, 80), (10, 80), (30, 80), (5, 5), (10, 10), (30, 30)):
        rows.append(
            dict(
                scenario="ties",
                setting="P(4)=0.1, rest 3",
                n_a=n_a,
                n_b=n_b,
                a0=lambda r, n: discrete(r, n, tie0),
                a1=lambda r, n: discrete(r, n, tie1),
                b=lambda r, n: discrete(r, n, tie0),
                ta=3.1,
                tb=3.1,
            )
        )
    for design, icc, k in (("providers ICC 0.1", 0.1, 10), ("officers", 0.0, 1)):
        for n in (5, 10, 20, 50, 100):
            rows.append(
                dict(
                    scenario="last_year",
                    setting=design,
                    n_a=n,
                    n_b=n,
                    a0=lambda r, n, i=icc, k=k: clustered(r, n, MU, SD, i, k_max=k),
                    a1=lambda r, n, i=icc, k=k: clustered(r, n, MU + 0.5, SD, i, k_max=k),
                    b=lambda r, n, i=icc, k=k: clustered(r, n, MU, SD, i, k_max=k),
                    ta=latent_marginal(MU, SD) @ VALUES,
                    tb=latent_marginal(MU, SD) @ VALUES,
                )
            )
    return rows


def _test(S, sa, ca, sb, cb, resamples: int, seed: int) -> dict:
    """p-value and difference interval as compare_two reports them (without its alongside tests: faster)."""
    r = S.permutation_test(sa, ca, sb, cb, n_resamples=resamples, seed=seed)
    if hasattr(r, "low"):  # after: the interval of the studentised test
        return {"p": r.p, "diff_low": r.low, "diff_high": r.high}
    _, low, high, _ = S.diff_interval(sa, ca, sb, cb)  # before: the Welch cluster-t interval
    return {"p": r.p, "diff_low": low, "diff_high": high}


def run_row(S, row: dict, reps: int, resamples: int, seed: int, index: int) -> dict:
    rej0 = rej1 = cov_d = dis = 0
    cov = {"a": [0, 0, 0], "b": [0, 0, 0]}
    for rep in range(reps):
        for alt in (0, 1):
            rng = np.random.default_rng([seed, index, rep, alt])
            sa, ca = row["a1" if alt else "a0"](rng, row["n_a"])
            sb, cb = row["b"](rng, row["n_b"])
            r = _test(S, sa, ca, sb, cb, resamples, int(rng.integers(2**31)))
            sig = r["p"] < 0.05
            if alt:
                rej1 += sig
                continue
            rej0 += sig
            inside = r["diff_low"] <= 0 <= r["diff_high"] if np.isfinite(r["diff_low"]) else True
            cov_d += inside
            dis += sig == inside
            for side, s, c, t in (("a", sa, ca, row["ta"]), ("b", sb, cb, row["tb"])):
                if len(s) >= 5:
                    lo, hi, _ = S.cell_interval(s, c)
                    cov[side][0] += lo <= t <= hi
                    cov[side][1] += 1
                    cov[side][2] += hi - lo <= 1e-12
    out = {k: row[k] for k in ("scenario", "setting", "n_a", "n_b")}
    out.update(
        fpr=rej0 / reps,
        mc_se=np.sqrt(max(rej0 / reps, 0.05) * (1 - max(rej0 / reps, 0.05)) / reps),
        power=rej1 / reps,
        diff_cov=cov_d / reps,
        disagree=dis / reps,
    )
    for side in ("a", "b"):
        h, m, z = cov[side]
        out[f"cov_{side}"] = h / m if m else np.nan
        out[f"w0_{side}"] = z / m if m else np.nan
    return out


def markdown(before: str, after: str) -> str:
    """The before/after table of ``benchmarks/README.md`` from two ``--out`` CSV files (after may be several)."""
    b = pd.read_csv(before)
    a = pd.concat([pd.read_csv(f) for f in after.split(",")], ignore_index=True)
    key = ["scenario", "setting", "n_a", "n_b"]
    a = a.drop_duplicates(key)  # a row run by two split runs: the same seeds, keep one
    m = b.merge(a, on=key, suffixes=("_b", "_a"), how="left")
    lines = [
        "| scenario | setting | n | vs | FPR before | FPR after | power before | power after | "
        "cell cov. before (A / B) | cell cov. after (A / B) | zero-width before |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def pm(r, s):
        q = max(r[f"fpr_{s}"], 0.05)
        reps = q * (1 - q) / r[f"mc_se_{s}"] ** 2  # mc_se was computed at max(fpr, 0.05)
        flag = " **!**" if r[f"fpr_{s}"] > 0.05 + 2 * np.sqrt(0.05 * 0.95 / reps) else ""  # > 0.05 + 2 MC SE
        return f"{r[f'fpr_{s}']:.3f} +- {r[f'mc_se_{s}']:.3f}{flag}"

    def cov(r, s):
        f = lambda v: "-" if pd.isna(v) else f"{v:.3f}"  # noqa: E731
        return f"{f(r[f'cov_a_{s}'])} / {f(r[f'cov_b_{s}'])}"

    for _, r in m.iterrows():
        z = r["w0_a_b"]
        lines.append(
            f"| {r['scenario']} | {r['setting']} | {r['n_a']} | {r['n_b']} | {pm(r, 'b')} | {pm(r, 'a')} | "
            f"{r['power_b']:.3f} | {r['power_a']:.3f} | {cov(r, 'b')} | {cov(r, 'a')} | "
            f"{'-' if pd.isna(z) else f'{z:.2f}'} |"
        )
    return "\n".join(lines)


def main(argv=None) -> pd.DataFrame:
    ap = argparse.ArgumentParser(description="Null simulation for rmlib.stats (before/after)")
    ap.add_argument("--code", choices=("before", "after"), default="after")
    ap.add_argument("--reps", type=int, default=2000, help="replications per row (null and power each)")
    ap.add_argument("--resamples", type=int, default=999, help="permutation resamples (Monte Carlo case)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--smoke", action="store_true", help="4 rows x 40 replications (seconds)")
    ap.add_argument("--out", help="write the table as CSV here")
    ap.add_argument("--rows", default="", help="only rows i:j of the scenario list (to split a run)")
    ap.add_argument(
        "--table",
        nargs=2,
        metavar=("BEFORE_CSV", "AFTER_CSVS"),
        help="print the before/after markdown table of two --out files (after: comma-separated)",
    )
    args = ap.parse_args(argv)
    if args.table:
        print(markdown(*args.table))
        return None
    if args.smoke:
        args.reps, args.resamples = 40, 199
    S = load_stats(args.code)
    t0 = time.perf_counter()
    rows = []
    lo, _, hi = args.rows.partition(":")
    for i, row in enumerate(scenarios()):
        if args.rows and not (int(lo or 0) <= i < int(hi or 10**9)):
            continue
        if args.smoke and (row["scenario"], row["setting"], row["n_a"], row["n_b"]) not in SMOKE:
            continue
        rows.append(run_row(S, row, args.reps, args.resamples, args.seed, i))
        if args.out:  # row by row, so a long run that is cut off keeps what it finished
            os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
            pd.DataFrame(rows).assign(resamples=args.resamples).to_csv(args.out, index=False)
        print(
            f"  {row['scenario']:<10} {row['setting']:<18} {row['n_a']:>3} vs {row['n_b']:<3} "
            f"fpr {rows[-1]['fpr']:.3f}  power {rows[-1]['power']:.3f}  ({time.perf_counter() - t0:.0f} s)",
            file=sys.stderr,
            flush=True,
        )
    out = pd.DataFrame(rows)
    out["over"] = out["fpr"] > 0.05 + 2 * np.sqrt(0.05 * 0.95 / args.reps)
    pd.set_option("display.width", 250)
    print(
        f"code {args.code}: {args.reps} replications per row (null and power each), {args.resamples} "
        f"resamples; target fpr <= 0.05 + 2 MC SE = {0.05 + 2 * np.sqrt(0.05 * 0.95 / args.reps):.4f}"
    )
    print(out.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"({time.perf_counter() - t0:.0f} s)")
    if args.out:
        out.assign(resamples=args.resamples).to_csv(args.out, index=False)
    return out


if __name__ == "__main__":
    main()
