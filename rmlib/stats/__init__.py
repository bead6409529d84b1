"""Intervals, tests, multiple-comparison control, effect sizes and power.

Modules by family: :mod:`~rmlib.stats.intervals` (cell, overall and
difference intervals), :mod:`~rmlib.stats.tests` (studentised permutation and
sign-flip tests, alongside tests), :mod:`~rmlib.stats.multiplicity` (one
adjusted p-value per distinct comparison), :mod:`~rmlib.stats.power`
(detectable differences at the corrected level), :mod:`~rmlib.stats.tables`
(the cells of a table located in the respondent data; intervals over a cell
table), :mod:`~rmlib.stats.compare` (the comparisons over a cell table) and
:mod:`~rmlib.stats.language` (findings in words). Every public name is re-exported here: ``from rmlib import stats;
stats.compare_cells(...)``.

The unit of inference is the respondent
---------------------------------------
A cell's statistic is the mean of all valid ratings in it, which is a *ratio*:
``sum(scores) / count(ratings)``, summed over the cell's respondents. A
provider rates up to ten ECC departments per question and those ratings are
not independent, so every interval and test here treats *respondents* as
clusters, always for that very statistic. A cell is fully described by one
row per respondent: the sum and the count of that respondent's valid scores
in the cell (``docs/contracts.md``). The *overall* statistic of a set of
respondents is the mean, over the eight questions, of each question's ratio
mean. Functions taking ``sums``/``counts`` accept 1-D arrays (one question)
or 2-D arrays (respondents x questions). Respondents without a valid rating
in the cell are not in it and are dropped first.

Methods (and why)
-----------------
Cell interval: the cluster-robust (CR1) t interval of the ratio mean with two
    pseudo-respondents a scale point either side of the mean (never zero
    width; coverage >= 0.93 from n = 5 even with heavy ties;
    :mod:`~rmlib.stats.intervals`).
Overall interval: the same t interval for the mean of question means below
    ``MIN_BOOT_N`` (100) and from ``LARGE_SAMPLE_N`` (1000) respondents; a
    respondent-cluster percentile bootstrap in between.
Tests: a studentised permutation test for two independent sets (cell vs rest
    of its group, vs last year, providers vs officers): respondents permuted,
    statistic the cluster-robust Welch t of the difference shown; a
    studentised sign-flip test for a department against the other
    departments rated by the same providers (:mod:`~rmlib.stats.tests`).
    Each difference interval is its test inverted, so it excludes 0 exactly
    when the raw p is below 1 - level.
Large samples: when both sides have ``LARGE_SAMPLE_N`` respondents or more,
    the same statistic is referred to the t distribution (Welch-Satterthwaite
    df; paired: n - 1) instead of resampling, which would cost hours for a
    national survey; the method used is recorded per row (``*_p_method``).
Multiplicity: each distinct comparison is computed once and adjusted once
    (Benjamini-Hochberg over all distinct comparisons by default, Holm per
    family as an option): one p, one adjusted p, one verdict wherever it is
    shown (:mod:`~rmlib.stats.multiplicity`).
Power: at the raw level the correction implies (:mod:`~rmlib.stats.power`).
Intervals are not clipped to the 1-4 scale: an interval for a tiny cell may
    run past 4 or below 1, which honestly says that it is wide.
"""

from __future__ import annotations

from ._base import ALL, DF_METHODS, LARGE_SAMPLE_N, MIN_BOOT_N, _active, _as_2d, _linearise, _respondent_means, _stat  # noqa: F401
from .compare import compare_cells
from .intervals import (  # noqa: F401
    FPC_MIN_FRACTION,
    PSEUDO_DF,
    PSEUDO_SS,
    _diff_t,
    _t_interval,
    cell_interval,
    diff_interval,
    finite_population_correction,
    overall_interval,
)
from .language import describe_finding
from .multiplicity import (
    CORRECTION_NAME,
    CORRECTIONS,
    FAMILY_TEXT,
    adjust_comparisons,
    adjust_pvalues,
    comparison_id,
    distinct_comparisons,
    family_of,
)
from .power import effective_alpha, min_detectable_difference, power_table, responses_needed
from .tables import COMPARISON_COLUMNS, COMPARISON_KINDS, _Year, add_intervals, rating_level_sums  # noqa: F401
from .tests import (  # noqa: F401
    PermutationResult,
    _brunner_munzel,
    _prob_superiority,
    _random_subsets,
    _welch_p,
    compare_two,
    permutation_test,
    sign_flip_test,
)

__all__ = [
    "cell_interval",
    "overall_interval",
    "permutation_test",
    "sign_flip_test",
    "PermutationResult",
    "diff_interval",
    "compare_two",
    "adjust_pvalues",
    "adjust_comparisons",
    "comparison_id",
    "family_of",
    "distinct_comparisons",
    "rating_level_sums",
    "add_intervals",
    "compare_cells",
    "min_detectable_difference",
    "responses_needed",
    "power_table",
    "effective_alpha",
    "describe_finding",
    "CORRECTIONS",
    "CORRECTION_NAME",
    "FAMILY_TEXT",
    "COMPARISON_KINDS",
    "COMPARISON_COLUMNS",
    "DF_METHODS",
    "MIN_BOOT_N",
    "LARGE_SAMPLE_N",
    "PSEUDO_SS",
    "PSEUDO_DF",
    "finite_population_correction",
    "FPC_MIN_FRACTION",
]
