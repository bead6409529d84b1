"""The data dictionary shipped beside the published tables: what every column means, in plain words.

Someone handed only ``outputs/<year>/tables/`` must be able to tell what a
column means, its unit, and how a suppressed cell shows. The meanings are
declared once here (:data:`COLUMNS`, plus :data:`COMPARISON_FIELDS` for the
columns every comparison kind adds); :func:`data_dictionary` lists, for each
published table, its columns with their meaning and refuses a column that has
none, so a new column cannot be published undocumented.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterable, Mapping

import pandas as pd

#: column -> plain-language meaning (unit in the text where there is one).
COLUMNS: dict[str, str] = {
    # what a row is about
    "table": "Which report table the row belongs to (the file name without .csv).",
    "group": "Who answered: 'provider' (adult social care providers) or 'officer' (ECC officers).",
    "attribute": "The breakdown the row belongs to (for example quadrant, role, size); 'all' for a whole group.",
    "category": "The category within the breakdown (for example 'West'); 'All' for a whole group.",
    "question": "One of the eight relationship questions (share, trust, inclusion, integration, conflicts, "
    "roles, direction, responsive), or 'overall' for the mean of the eight question means.",
    "department": "The ECC department the providers rated.",
    "year": "Survey year.",
    "year_prev": "The earlier survey year the row is compared with.",
    "kind": "What sort of note or finding the row is.",
    "text": "The note or finding in words, as printed in the report.",
    "element": "The element of the partnership maturity model that the question measures.",
    # estimates
    "mean": "Mean score on the 1 (poor) to 4 (good) scale: the mean of all valid ratings in the cell "
    "('no contact' and blank answers left out). Blank where the cell is suppressed.",
    "n": "Respondents with at least one valid rating in the cell. Where the cell is suppressed the exact "
    "number is not published.",
    "status": "Why the cell's estimates are blank: 'fewer than N' (too few respondents), 'hidden' (hidden so "
    "that a smaller group cannot be worked out), empty when the cell is shown.",
    "status_last": "The same as status, for last year's values of the cell.",
    "ratings": "Number of valid ratings in the cell (a provider rates each question for up to ten departments, "
    "an officer once).",
    "no_contact": "Number of 'no contact' answers (score 0) in the cell.",
    "mean_last": "The same cell's mean score in last year's survey (1-4 scale).",
    "n_last": "Respondents in the same cell last year.",
    "mean_prev": "The same cell's mean score in the earlier year (1-4 scale).",
    "n_prev": "Respondents in the same cell in the earlier year.",
    "change_pts": "Change on last year in scale points: mean minus last year's mean.",
    "change_pct": "Change on last year in per cent: (mean / last year's mean - 1) x 100.",
    "ci_low": "Lower end of the 95% confidence interval of the mean (1-4 scale).",
    "ci_high": "Upper end of the 95% confidence interval of the mean (1-4 scale).",
    "ci_method": "How the interval was computed (the report's methods section explains each method).",
    "overall": "Overall score: the mean of the eight question means (1-4 scale).",
    "overall_last": "Last year's overall score (1-4 scale).",
    "n_change_pct": "Change in the number of respondents on last year, in per cent.",
    "n_change": "Change in the number of respondents on the earlier year.",
    "level": "Maturity level (1-5) of the partnership maturity model that the mean corresponds to.",
    "level_name": "Name of the maturity level.",
    "level_last": "Last year's maturity level.",
    "mean_per_question": "Mean number of 'no contact' answers per question for this department.",
    "share": "Number of 'no contact' answers to the 'share' question.",
    "trust": "Number of 'no contact' answers to the 'trust' question.",
    "inclusion": "Number of 'no contact' answers to the 'inclusion' question.",
    "integration": "Number of 'no contact' answers to the 'integration' question.",
    "conflicts": "Number of 'no contact' answers to the 'conflicts' question.",
    "roles": "Number of 'no contact' answers to the 'roles' question.",
    "direction": "Number of 'no contact' answers to the 'direction' question.",
    "responsive": "Number of 'no contact' answers to the 'responsive' question.",
    # findings and power
    "diff": "The difference a finding reports, in scale points.",
    "comparison": "Identifier of the comparison (kind, group, breakdown, category, question): a comparison shown in "
    "several tables has one identifier, one p-value and one verdict.",
    "tables": "Every table that shows the comparison (separated by '; ').",
    "family": "The family of comparisons adjusted together ('all': every distinct comparison of the report).",
    "m": "Number of distinct comparisons in the family.",
    "alpha": "The unadjusted significance level that the multiple-comparison correction implies for one comparison "
    "(used for the power calculation).",
    "p_adj": "p-value after the multiple-comparison correction stated in the report.",
    "n_rest": "Respondents in the comparison group (the rest of the group).",
    "sd": "Standard deviation of respondents' mean scores used for the power calculation (scale points).",
    "mdd": "Minimum detectable difference: the smallest difference (scale points) the test would find with "
    "80% power at the significance level the report states.",
    "n_needed": "Respondents needed in each of two equal groups to detect a 0.25-point difference with 80% power.",
    # disclosure
    "suppressed": "True where the cell is not published (too few respondents, or hidden so that a hidden cell "
    "cannot be worked back by subtraction).",
    "suppression": "Why a cell is hidden: 'primary' (fewer respondents than the threshold) or 'complementary' "
    "(hidden to protect another cell); empty when shown.",
    "caution": "True where the cell has few respondents: read the estimate with care.",
    # cleaning
    "file": "The raw export file the row comes from.",
    "raw_row": "Row number in the raw export.",
    "decision": "What the cleaning did with the row (kept or excluded).",
    "reason": "Why a row was excluded (test response, outside fieldwork, no scored answer, superseded duplicate, "
    "blank row).",
    "detail": "More detail on the cleaning decision.",
    "rows_in": "Rows in the raw export.",
    "kept": "Rows kept for analysis.",
    "test_response": "Rows excluded as test or preview responses.",
    "outside_fieldwork": "Rows excluded as submitted outside the fieldwork dates.",
    "no_scored_answer": "Rows excluded because they hold no scored answer.",
    "duplicate_superseded": "Rows excluded as earlier submissions of a respondent who submitted again.",
    "blank_row": "Rows excluded as entirely blank.",
    "excluded": "Rows excluded in total.",
    # comments
    "theme": "Comment theme id (see the report's comments section for the theme names).",
    "label": "Comment theme name.",
    "comments": "Number of comments.",
    "respondents": "Number of respondents.",
    "base": "Respondents who left at least one comment (the base of the percentage).",
    "pct_respondents": "Per cent of the base who made a comment in this theme.",
    "rank": "Order of the quote within its theme.",
    "field": "Which free-text question the comment answered.",
    "quote": "The comment as published: personal data (names, e-mail addresses, phone numbers, postcodes, "
    "NI numbers) replaced by a marker.",
    "redactions": "Number of pieces of personal data replaced in the quote(s).",
}

#: Comparison kinds whose columns are prefixed ``<kind>_``.
COMPARISON_KINDS: dict[str, str] = {
    "rest": "the cell against the rest of its group",
    "last_year": "the cell against the same cell last year",
    "groups": "providers against officers in the same cell",
    "paired": "the department against the other departments, within the same providers",
}

#: suffix -> meaning, for the columns each comparison kind adds (``{what}`` is the kind's description).
COMPARISON_FIELDS: dict[str, str] = {
    "diff": "Difference in mean score (scale points) for {what}.",
    "diff_low": "Lower end of the 95% confidence interval of the difference for {what}.",
    "diff_high": "Upper end of the 95% confidence interval of the difference for {what}.",
    "p": "p-value of the test of {what}, before correction.",
    "p_adj": "p-value of the test of {what}, after the multiple-comparison correction stated in the report.",
    "significant": "True where {what} differ significantly after correction.",
    "welch_p": "p-value of a Welch t test of {what} (a cross-check).",
    "bm_p": "p-value of a Brunner-Munzel test of {what} (a cross-check that does not assume a scale).",
    "prob_sup": "Probability that a respondent of the cell scores higher than one of the other side ({what}).",
    "mean_other": "Mean score of the other side for {what}.",
    "n_other": "Respondents on the other side for {what}.",
    "p_method": "Which test gave the p-value for {what}.",
}


#: (table, column) -> meaning, where a column means something else in one table.
TABLE_COLUMNS: dict[tuple[str, str], str] = {
    ("comparison_families", "significant"): "Number of comparisons in the family that are significant after "
    "correction.",
}


class UndocumentedColumn(ValueError):
    """A published table has a column the data dictionary does not describe."""


def describe(column: str, table: str | None = None) -> str | None:
    """The plain-language meaning of ``column`` (of ``table``), or None if it is not declared.

    >>> describe("rest_p_adj").startswith("p-value of the test of the cell against the rest")
    True
    """
    if (table, column) in TABLE_COLUMNS:
        return TABLE_COLUMNS[(table, column)]
    if column in COLUMNS:
        return COLUMNS[column]
    for kind, what in COMPARISON_KINDS.items():
        suffix = column[len(kind) + 1 :] if column.startswith(kind + "_") else None
        if suffix in COMPARISON_FIELDS:
            return COMPARISON_FIELDS[suffix].format(what=what)
    return None


def data_dictionary(tables: Mapping[str, Iterable[str]]) -> pd.DataFrame:
    """``table, column, meaning`` for every column of every table (``{table name: column names}``).

    Raises :class:`UndocumentedColumn` naming every table and column without a meaning.
    """
    rows, missing = [], []
    for table, columns in tables.items():
        for column in columns:
            meaning = describe(column, table)
            if meaning is None:
                missing.append(f"{table}.{column}")
            rows.append({"table": table, "column": column, "meaning": meaning})
    if missing:
        raise UndocumentedColumn(f"no meaning declared in rmlib/dictionary.py for column(s): {', '.join(missing)}")
    return pd.DataFrame(rows, columns=["table", "column", "meaning"])


def csv_headers(folder: str | Path) -> dict[str, list[str]]:
    """``{table name: header}`` of every CSV file in ``folder``, sorted by name."""
    out = {}
    for path in sorted(Path(folder).glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as fh:
            out[path.stem] = next(csv.reader(fh), [])
    return out


def render_markdown(dictionary: pd.DataFrame, min_cell_n: int) -> str:
    """The dictionary as a plain Markdown page (how suppression shows, then one section per table)."""
    lines = [
        "# Data dictionary of the published tables",
        "",
        "Each CSV file in this folder is one table of the report; `tables.xlsx` holds the same tables, one per sheet.",
        "Scores are on the survey's scale: 1 (poor) to 4 (good); 0 meant 'no contact' and is left out of every mean.",
        "",
        f"**Suppressed cells.** A cell with fewer than {min_cell_n} respondents is not published: its estimate "
        "columns are blank and its number of respondents is not given exactly. Some further cells are blank so "
        "that a hidden cell cannot be worked out from the others by subtraction (`suppression` = complementary).",
        "",
    ]
    for table, part in dictionary.groupby("table", sort=True):
        lines += [f"## {table}.csv", "", "| column | meaning |", "|---|---|"]
        lines += [f"| `{r.column}` | {r.meaning} |" for r in part.itertuples()]
        lines.append("")
    return "\n".join(lines)
