"""Null simulation for rmlib.stats: false-positive rates and interval coverage.

Two data designs, both with a respondent effect (ratings by one respondent
are correlated) and 1-4 scores made by rounding and clipping a latent value
(so the data are discrete and skewed, as in the survey):

officers-like
    one rating per question, 5 % of items unanswered.
providers-like
    each respondent rates k ~ U{1..10} departments (the first k of ten with
    different department effects, so who rates what is informative), 10 %
    of ratings missing, and the respondent mean drifts with k (informative
    cluster size). The target of the cell mean is then the ratings-weighted
    population ratio E[sum] / E[count].

The "true" values are the ratios in a 400 000-respondent sample.

Table 1 (null: both groups drawn from the same design): the share of
comparisons called significant at 5 % (unadjusted) by the permutation test
(the one used for "significant"), Welch's t and Brunner-Munzel, on one
question; and the coverage of the difference interval (true difference 0).
Table 2: coverage of the 95 % intervals for a cell (one question) and for
the overall score.

Run: ``.venv/bin/python benchmarks/null_simulation.py [--reps 2000] [--seed 1]``
(about 2-4 minutes on 2 cores with the defaults).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from rmlib import stats  # noqa: E402

Q = 8
D = 10


def generate(rng: np.random.Generator, n: int, design: str) -> tuple[np.ndarray, np.ndarray]:
    """Respondent-level (n x 8) sums and counts of one design."""
    qeff = np.linspace(-0.3, 0.3, Q)
    mu = 2.4 + 0.5 * rng.standard_normal(n)
    if design == "officer":
        y = np.clip(np.rint(mu[:, None] + qeff + 0.7 * rng.standard_normal((n, Q))), 1, 4)
        c = (rng.random((n, Q)) > 0.05).astype(float)
        return y * c, c
    k = rng.integers(1, D + 1, n)
    mu = mu + 0.05 * (k - 5.5)
    lat = (mu[:, None, None] + qeff[None, :, None] + np.linspace(-0.4, 0.4, D)[None, None, :]
           + 0.7 * rng.standard_normal((n, Q, D)))
    y = np.clip(np.rint(lat), 1, 4)
    valid = (np.arange(D)[None, None, :] < k[:, None, None]) & (rng.random((n, Q, D)) > 0.1)
    return (y * valid).sum(2), valid.sum(2).astype(float)


def truth(design: str, n: int = 400_000, seed: int = 12345) -> tuple[np.ndarray, float]:
    s, c = generate(np.random.default_rng(seed), n, design)
    r = s.sum(0) / c.sum(0)
    return r, float(r.mean())


def null_rates(rng, design: str, n_a: int, n_b: int, reps: int, n_resamples: int, q: int = 1) -> dict:
    rej = {"perm": 0, "welch": 0, "bm": 0}
    n_ok = {"perm": 0, "welch": 0, "bm": 0}
    cov, n_cov = 0, 0
    for _ in range(reps):
        sa, ca = generate(rng, n_a, design)
        sb, cb = generate(rng, n_b, design)
        r = stats.compare_two(sa[:, q], ca[:, q], sb[:, q], cb[:, q], n_resamples=n_resamples, seed=rng)
        for k, col in (("perm", "p"), ("welch", "welch_p"), ("bm", "bm_p")):
            if np.isfinite(r[col]):
                n_ok[k] += 1
                rej[k] += r[col] < 0.05
        if np.isfinite(r["diff_low"]):
            n_cov += 1
            cov += r["diff_low"] <= 0 <= r["diff_high"]
    out = {k: rej[k] / n_ok[k] if n_ok[k] else np.nan for k in rej}
    out["diff_cov"] = cov / n_cov if n_cov else np.nan
    return out


def coverage(rng, n: int, reps: int, n_boot: int, truths) -> dict:
    hits = {k: [0, 0] for k in ("cell_off", "cell_prov", "cell_prov_sm", "ovl_off", "ovl_prov",
                                "ovl_prov_boot", "ovl_prov_t")}
    (tq_o, to_o), (tq_p, to_p) = truths
    q = 1

    def add(name, lo, hi, target):
        if np.isfinite(lo):
            hits[name][1] += 1
            hits[name][0] += lo <= target <= hi

    for _ in range(reps):
        so, co = generate(rng, n, "officer")
        sp, cp = generate(rng, n, "provider")
        add("cell_off", *stats.cell_interval(so[:, q], co[:, q])[:2], tq_o[q])
        add("cell_prov", *stats.cell_interval(sp[:, q], cp[:, q])[:2], tq_p[q])
        add("cell_prov_sm", *stats.cell_interval(sp[:, q], cp[:, q], df_method="clusters")[:2], tq_p[q])
        add("ovl_off", *stats.overall_interval(so, co, n_boot=n_boot, seed=rng)[:2], to_o)
        add("ovl_prov", *stats.overall_interval(sp, cp, n_boot=n_boot, seed=rng)[:2], to_p)
        add("ovl_prov_boot", *stats.overall_interval(sp, cp, n_boot=n_boot, seed=rng, min_boot_n=2)[:2], to_p)
        add("ovl_prov_t", *stats.overall_interval(sp, cp, min_boot_n=10**9)[:2], to_p)
    return {k: (h / m if m else np.nan) for k, (h, m) in hits.items()}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description="Null simulation for rmlib.stats")
    ap.add_argument("--reps", type=int, default=2000, help="replications per row")
    ap.add_argument("--resamples", type=int, default=999, help="permutation resamples (Monte Carlo case)")
    ap.add_argument("--boot", type=int, default=1999, help="bootstrap replicates")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    pd.set_option("display.width", 200)
    rng = np.random.default_rng(args.seed)
    mc_se = np.sqrt(0.05 * 0.95 / args.reps)
    rows = []
    for design in ("officer", "provider"):
        for n_a, n_b in ((2, 2), (3, 3), (4, 4), (5, 5), (7, 7), (10, 10), (15, 15), (20, 20),
                         (30, 30), (50, 50), (5, 80), (10, 80)):
            r = null_rates(rng, design, n_a, n_b, args.reps, args.resamples)
            rows.append({"design": design, "n_a": n_a, "n_b": n_b, **r})
    t1 = pd.DataFrame(rows)
    print(f"Table 1. Null false-positive rate at alpha = 0.05 (unadjusted), one question; "
          f"{args.reps} reps per row (Monte Carlo SE {mc_se:.3f}); diff_cov = coverage of the 95% "
          f"difference interval")
    print(t1.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    truths = (truth("officer"), truth("provider"))
    rows = []
    for n in (2, 3, 5, 8, 10, 15, 20, 30, 50, 100):
        rows.append({"n": n, **coverage(rng, n, args.reps, args.boot, truths)})
    t2 = pd.DataFrame(rows)
    print()
    print(f"Table 2. Coverage of 95% intervals, {args.reps} reps per row (Monte Carlo SE "
          f"{np.sqrt(0.05 * 0.95 / args.reps):.3f}).")
    print("cell_off / cell_prov: cell_interval (default df); cell_prov_sm: df = n - 1 (statsmodels); "
          "ovl_*: overall_interval default (cluster t below n = "
          f"{stats.MIN_BOOT_N}, bootstrap from it); ovl_prov_boot: bootstrap at every n; "
          "ovl_prov_t: cluster t at every n")
    print(t2.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"\n({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
