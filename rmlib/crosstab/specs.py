"""The report's tables, declared: which groups by which attribute, the 2018 titles and 2016 analyses they serve.

:data:`REPORT_TABLES` lists every long cell table (built by
:func:`rmlib.crosstab.build_table`), :data:`OTHER_OUTPUTS` the outputs that are
not cell tables; the column lists are the contracts of ``docs/contracts.md``.
Data only: nothing here computes.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..constants import RATED_DEPARTMENT

#: Keys of a cell: a cell table has one row per key (and table).
CELL_KEYS = ["group", "attribute", "category", "question"]
#: Columns of every long cell table (docs/contracts.md), in order.
CELL_COLUMNS = [
    "table",
    "group",
    "attribute",
    "category",
    "question",
    "mean",
    "n",
    "ratings",
    "no_contact",
    "mean_last",
    "n_last",
    "change_pts",
    "change_pct",
]
#: Columns of :func:`trend`.
TREND_COLUMNS = [
    "table",
    "year",
    "group",
    "attribute",
    "category",
    "question",
    "mean",
    "n",
    "ratings",
    "no_contact",
    "year_prev",
    "mean_prev",
    "n_prev",
    "change_pts",
    "change_pct",
]
#: Columns of :func:`caveats`.
CAVEAT_COLUMNS = ["table", "group", "attribute", "category", "kind", "text"]
#: Kinds of caveat :func:`caveats` generates, in the order it lists them.
CAVEAT_KINDS = (
    "no_comparison",
    "compare_year_gap",
    "year_missing",
    "multi_select",
    "relabelled",
    "not_asked",
    "no_data_last_year",
    "dropped_category",
    "single_respondent",
    "single_respondent_last_year",
)


@dataclass(frozen=True)
class TableSpec:
    """One report table: which groups, broken down by which attribute.

    ``questions`` limits the rows to some questions (``None``: the eight and
    the overall). ``report_titles`` are the chart titles of the 2018 report the
    table serves (exactly as printed: each breakdown has an "Average score"
    chart, from ``mean``, and a "% Score change ... vs 2017" chart, from
    ``change_pct``); ``review_2016`` the analyses of the 2016 review it
    reproduces.
    """

    id: str
    title: str
    groups: tuple[str, ...]
    attribute: str  # "all" for by-question tables; "rated_department" for providers' department ratings
    questions: tuple[str, ...] | None = None
    report_titles: tuple[str, ...] = ()
    review_2016: tuple[str, ...] = ()


REPORT_TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        "officer_by_question",
        "Officers: average score by question, vs last year",
        ("officer",),
        "all",
        report_titles=("Average Score by Question", "Survey Comparison by previous results"),
        review_2016=("Fig 8 (ECC column)", "10.7 b, f: lowest-scoring questions for officers"),
    ),
    TableSpec(
        "officer_by_quadrant",
        "Officers: average score by question and quadrant",
        ("officer",),
        "quadrant",
        report_titles=("Average Score by question and quadrant", "% Score Comparison by question and quadrant vs 2017"),
        review_2016=("10.9: officers covering the North lowest; South and Mid 2 responses",),
    ),
    TableSpec(
        "officer_by_role",
        "Officers: average score by question and role",
        ("officer",),
        "role",
        report_titles=("Average Score by question and role", "% Score Comparison by question and role vs 2017"),
        review_2016=("10.7 a, c, d: the more senior the officer, the lower the score",),
    ),
    TableSpec(
        "officer_by_department",
        "Officers: average score by question and department",
        ("officer",),
        "department",
        report_titles=(
            "Average Score by question and Department",
            "% Score Comparison by question and Department vs 2017",
        ),
        review_2016=("10.7 e: Commercial most positive, then Adult Operations, then Commissioning",),
    ),
    TableSpec(
        "officer_by_service_area",
        "Officers: average score by service area and question",
        ("officer",),
        "service_area",
        report_titles=(
            "Average score by Service Area and question",
            "% Score Comparison by question and Service Area vs 2017",
        ),
    ),
    TableSpec(
        "provider_by_question",
        "Providers: score by question and survey year",
        ("provider",),
        "all",
        report_titles=("Score comparison by question and survey year",),
        review_2016=("Fig 7: Provider Responses to RM Questionnaire", "10.6: highest and lowest scoring questions"),
    ),
    TableSpec(
        "provider_by_service_area",
        "Providers: average score by question and service area",
        ("provider",),
        "service_area",
        report_titles=(
            "Average score by question and Service Area",
            "% Score change by question and Service Area\u2013 vs 2017 results",
        ),
    ),
    TableSpec(
        "provider_by_quadrant",
        "Providers: average score by question and quadrant",
        ("provider",),
        "quadrant",
        report_titles=(
            "Average score by question and quadrant",
            "% Score change by question and quadrant \u2013 vs 2017 results",
        ),
        review_2016=(
            "10.5: some areas as low as two responses",
            "10.6: North highest, Countywide also high; West lowest, then Mid",
        ),
    ),
    TableSpec(
        "provider_by_size",
        "Providers: average score by question and size of provider",
        ("provider",),
        "size",
        report_titles=(
            "Average Score by question and size of provider",
            "% Score change by question and provider size \u2013 vs 2017 results",
        ),
        review_2016=("10.6: small providers highest",),
    ),
    TableSpec(
        "provider_by_ecc_share",
        "Providers: average score by question and % of business with ECC",
        ("provider",),
        "ecc_share",
        report_titles=(
            "Average score by question and % of commissioned business with ECC",
            "% Score difference by % of commissioned business with ECC - vs 2017 results",
        ),
        review_2016=("10.6: 0-25% ECC service users highest, 25-50% lowest",),
    ),
    TableSpec(
        "provider_by_age_range",
        "Providers: average score by question and age range of service",
        ("provider",),
        "age_range",
        report_titles=(
            "Average Score by question and age range of service 2018",
            "% Score difference by age range of service - vs 2017",
        ),
    ),
    TableSpec(
        "provider_by_rated_department",
        "Providers: average score by question and ECC department rated",
        ("provider",),
        RATED_DEPARTMENT,
        report_titles=(
            "Average score by question and department",
            "% Score difference by question and department \u2013 vs 2017",
        ),
        review_2016=(
            "10.6: Safeguarding highest overall, Finance lowest",
            "10.6: 'no contact' answers by department (column no_contact)",
        ),
    ),
    TableSpec(
        "provider_by_service_type",
        "Providers: average score by question and service type (2016 review)",
        ("provider",),
        "service_type",
        review_2016=("10.6: Homecare marginally above Residential",),
    ),
    TableSpec(
        "provider_by_provider_role",
        "Providers: average score by respondent's role (2016 review)",
        ("provider",),
        "provider_role",
        review_2016=("10.6: Directors/Senior managers above owners and care managers",),
    ),
    TableSpec(
        "compare_by_question",
        "Providers vs officers: average score by question",
        ("provider", "officer"),
        "all",
        report_titles=(
            "Average Score by Question - Providers vs Officers",
            "% Score difference by question vs 2017 results",
        ),
        review_2016=("Fig 8: Officer Response to RM Questionnaire (ECC vs Providers)", "10.8"),
    ),
    TableSpec(
        "compare_by_service_area",
        "Providers vs officers: average score by service area",
        ("provider", "officer"),
        "service_area",
        report_titles=("Average Scores by Service area* - Providers vs Officers",),
    ),
    TableSpec(
        "compare_by_quadrant",
        "Providers vs officers: average score by quadrant",
        ("provider", "officer"),
        "quadrant",
        report_titles=("Average Score by Quadrant** \u2013 Providers vs Officers",),
        review_2016=("10.9: providers from the North highest, officers covering the North lowest",),
    ),
    TableSpec(
        "compare_overall",
        "Providers vs officers: overall score, this year vs last",
        ("provider", "officer"),
        "all",
        questions=("overall",),
        report_titles=("Average Overall Scores 2018 vs 2017 results",),
        review_2016=("Fig 8: Overall row (2.15 published for officers; ours is the mean of question means)",),
    ),
)
TABLE_INDEX = {t.id: t for t in REPORT_TABLES}


@dataclass(frozen=True)
class OutputSpec:
    """A report output that is not a long cell table: what it is, which function makes it, what it serves."""

    id: str
    title: str
    function: str
    report_titles: tuple[str, ...] = ()
    review_2016: tuple[str, ...] = ()


OTHER_OUTPUTS: tuple[OutputSpec, ...] = (
    OutputSpec(
        "headline",
        "Headline: respondents and overall score per group, vs last year",
        "rmlib.crosstab.headline",
        report_titles=("2018 Survey Headline Data Officers", "2018 Survey Headline Data Providers"),
    ),
    OutputSpec(
        "responses_by_year",
        "Respondents per group and survey year",
        "rmlib.crosstab.responses_by_year",
        report_titles=("Total ECC Staff Responses", "Total Provider Responses"),
    ),
    OutputSpec(
        "trend_by_question",
        "Question means per group and survey year (every processed year)",
        "rmlib.crosstab.trend",
        report_titles=("Survey Comparison by previous results", "Score comparison by question and survey year"),
    ),
    OutputSpec(
        "provider_no_contact",
        "Providers' 'no contact' answers by ECC department and question",
        "rmlib.crosstab.no_contact_table",
        review_2016=(
            "10.6: average 'no contact' answers per question by department",
            "10.6: questions with the most 'no contact' answers",
        ),
    ),
    OutputSpec(
        "maturity",
        "Maturity level of the five elements (questions 1-5) per group",
        "rmlib.scoring.maturity_table",
        review_2016=(
            "Appendix H: the five elements and four levels",
            "16.6 / Fig 10: five elements to improve partnering",
        ),
    ),
    OutputSpec(
        "caveats",
        "Caveats generated from the data",
        "rmlib.crosstab.caveats",
        report_titles=(
            "*Scores above are from those working solely in one of the quadrant areas",
            "Note: Scores comparisons for social workers are not possible",
        ),
    ),
)
