"""Every breakdown table of the annual report, in long (tidy) form; the trend; the caveats.

One generic operation - cell means of the ratings of the respondents in each
category of an attribute (:func:`by_attribute`) - produces every table;
:data:`REPORT_TABLES` lists them with the chart titles they serve in the 2018
report and the analyses of the 2016 review (section 10) they reproduce, and
:data:`OTHER_OUTPUTS` the outputs that are not cell tables (headline, responses
by year, trend, no-contact table, maturity, caveats). ``docs/report_tables.md``
maps each title to its table id, file and function.

Multi-select attributes (quadrant, service area) follow ``multi_select_rule``
(:func:`rmlib.scoring.select_members`): ``solely_one`` counts a respondent only
if they chose exactly one category (as the 2018 report did), ``any`` counts
them in every category they chose.

Modules by concern, each importing only the ones before it:
:mod:`~rmlib.crosstab.specs` (the table definitions, data only),
:mod:`~rmlib.crosstab.cells` (a year's ratings reduced once, cell tables per
attribute), :mod:`~rmlib.crosstab.sums` (respondent sums for the tests, the
'no contact' table), :mod:`~rmlib.crosstab.tables` (two years' tables with the
change, headline, trend, display form) and :mod:`~rmlib.crosstab.caveats`.
Every public name is importable from ``rmlib.crosstab`` itself.

The researcher's API::

    import rmlib
    this, last = rmlib.load_year(2018), rmlib.load_year(2017)
    rmlib.crosstab.build_table(rmlib.crosstab.TABLE_INDEX["officer_by_quadrant"], this, last)
    tables = rmlib.crosstab.build_tables(this, last)           # every report table, long form
    rmlib.crosstab.wide(tables["officer_by_quadrant"])          # display form
    rmlib.crosstab.trend(rmlib.dataset.load_years())            # every processed year
    rmlib.crosstab.caveats(tables, this, last)                  # generated caveats
"""

from ..constants import RATED_DEPARTMENT  # noqa: F401  (imported from here by rmlib.safety)
from ..scoring import select_members
from .caveats import caveats, department_relabels
from .cells import by_attribute, order_categories
from .specs import (
    CAVEAT_COLUMNS,
    CAVEAT_KINDS,
    CELL_COLUMNS,
    CELL_KEYS,
    OTHER_OUTPUTS,
    REPORT_TABLES,
    TABLE_INDEX,
    TREND_COLUMNS,
    OutputSpec,
    TableSpec,
)
from .sums import no_contact_table, resampling_sums
from .tables import build_table, build_tables, headline, missing_years, responses_by_year, trend, wide

__all__ = [
    "CELL_KEYS",
    "CELL_COLUMNS",
    "TREND_COLUMNS",
    "CAVEAT_COLUMNS",
    "CAVEAT_KINDS",
    "TableSpec",
    "REPORT_TABLES",
    "TABLE_INDEX",
    "OutputSpec",
    "OTHER_OUTPUTS",
    "select_members",
    "order_categories",
    "by_attribute",
    "resampling_sums",
    "no_contact_table",
    "build_table",
    "build_tables",
    "headline",
    "wide",
    "trend",
    "responses_by_year",
    "missing_years",
    "department_relabels",
    "caveats",
]
