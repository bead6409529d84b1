"""Time rmlib.stats on synthetic data the size of the 2018 survey.

85 officers and 97 providers (providers rate up to ten departments), 40
breakdown tables (20 attributes per group, 3-6 categories each, some
multi-select) plus a rating-level "rated department" table, 8 questions +
overall per cell, last year's data of the same shape, and all three
comparison kinds. The target is all intervals and tests in under 10 s on
2 cores.

Run: ``.venv/bin/python benchmarks/stats_speed.py [--resamples 9999]``
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
from rmlib.constants import DEPARTMENTS, QUESTIONS  # noqa: E402


def synth_year(rng: np.random.Generator, n_off: int, n_prov: int, n_attr: int = 20):
    """Ratings-derived respondent sums, memberships and rating-level sums."""
    rows, mem, dept_rows = [], [], []
    qeff = np.linspace(-0.3, 0.3, len(QUESTIONS))
    depts = list(DEPARTMENTS)
    for group, n, prefix in (("officer", n_off, "O"), ("provider", n_prov, "P")):
        for i in range(n):
            rid = f"{prefix}{i:03d}"
            mu = 2.5 + 0.5 * rng.standard_normal()
            k = 1 if group == "officer" else int(rng.integers(1, 11))
            for qi, q in enumerate(QUESTIONS):
                scores = np.clip(np.rint(mu + qeff[qi] + 0.7 * rng.standard_normal(k)), 1, 4)
                valid = rng.random(k) > 0.08
                rows.append((rid, group, q, float(scores[valid].sum()), int(valid.sum())))
                if group == "provider":
                    for d, sc, v in zip(depts[:k], scores, valid):
                        dept_rows.append((rid, group, q, "rated_department", d, float(sc) if v else 0.0, int(v)))
            for a in range(n_attr):
                n_cat = 3 + a % 4
                cats = [f"c{j}" for j in range(n_cat)]
                chosen = [cats[int(rng.integers(n_cat))]]
                if a % 5 == 0 and rng.random() < 0.15:  # some multi-select answers
                    chosen.append(cats[(cats.index(chosen[0]) + 1) % n_cat])
                for cat in chosen:
                    mem.append((rid, f"{group[:3]}_attr{a:02d}", cat))
    resp = pd.DataFrame(rows, columns=["respondent_id", "group", "question", "sum", "count"])
    memberships = pd.DataFrame(mem, columns=["respondent_id", "attribute", "category"])
    rl = pd.DataFrame(
        dept_rows, columns=["respondent_id", "group", "question", "attribute", "category", "sum", "count"]
    )
    return resp, memberships, rl


def crosstab(resp: pd.DataFrame, memberships: pd.DataFrame, rl: pd.DataFrame) -> pd.DataFrame:
    """A plain pandas cell table (solely-one rule), independent of rmlib.stats."""
    m = memberships.copy()
    m = m[m.groupby(["respondent_id", "attribute"])["category"].transform("size") == 1]
    out = []

    def cells_of(df: pd.DataFrame, table, group, attribute, category):
        g = df.groupby("question")[["sum", "count"]].sum()
        qmeans = (g["sum"] / g["count"].where(g["count"] > 0)).reindex(list(QUESTIONS))
        for q in QUESTIONS:
            sub = df[(df["question"] == q) & (df["count"] > 0)]
            out.append((table, group, attribute, category, q, qmeans[q], sub["respondent_id"].nunique()))
        anyr = df.groupby("respondent_id")["count"].sum()
        out.append((table, group, attribute, category, "overall", qmeans.mean(), int((anyr > 0).sum())))

    for group, gdf in resp.groupby("group"):
        for attribute, adf in m[m["attribute"].str.startswith(group[:3])].groupby("attribute"):
            table = f"{group}_by_{attribute}"
            cells_of(gdf, table, group, "all", "All")
            for category, cdf in adf.groupby("category"):
                cells_of(gdf[gdf["respondent_id"].isin(cdf["respondent_id"])], table, group, attribute, category)
    pdf = resp[resp["group"] == "provider"]
    cells_of(pdf, "provider_by_rated_department", "provider", "all", "All")
    for category, cdf in rl.groupby("category"):
        cells_of(cdf, "provider_by_rated_department", "provider", "rated_department", category)
    return pd.DataFrame(out, columns=["table", "group", "attribute", "category", "question", "mean", "n"])


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--resamples", type=int, default=9999)
    ap.add_argument("--seed", type=int, default=2018)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    resp, mem, rl = synth_year(rng, 85, 97)
    resp_l, mem_l, rl_l = synth_year(rng, 29, 111)
    cells = crosstab(resp, mem, rl)
    resp_all, resp_all_l = pd.concat([resp, rl]), pd.concat([resp_l, rl_l])
    print(
        f"cells: {len(cells)} rows in {cells['table'].nunique()} tables; "
        f"{resp['respondent_id'].nunique()} respondents; resamples {args.resamples}"
    )
    c0 = time.process_time()
    t0 = time.perf_counter()
    out = stats.add_intervals(cells, resp_all, mem, n_boot=args.resamples, seed=args.seed)
    t1 = time.perf_counter()
    out = stats.compare_cells(
        out, resp_all, mem, resp_last=resp_all_l, memberships_last=mem_l, n_resamples=args.resamples, seed=args.seed
    )
    t2 = time.perf_counter()
    c2 = time.process_time()
    tested = {k: int(out[f"{k}_p"].notna().sum()) for k in stats.COMPARISON_KINDS}
    methods = out["rest_p_method"].value_counts().to_dict()
    print(
        f"add_intervals: {t1 - t0:.2f} s; compare_cells: {t2 - t1:.2f} s; total {t2 - t0:.2f} s wall, "
        f"{c2 - c0:.2f} s CPU (load average {os.getloadavg()[0]:.1f})"
    )
    print(f"tests per kind (rows): {tested}; rest p methods: {methods}")
    print(f"ci methods: {out['ci_method'].value_counts().to_dict()}")


if __name__ == "__main__":
    main()
