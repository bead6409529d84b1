"""rmlib: the tested helper package behind the Relationship Management Survey notebooks.

The researcher's entry points::

    import rmlib
    data = rmlib.load_year(2018)                      # tidy tables of a processed year
    rmlib.crosstab.by_attribute(data.ratings, data.memberships, "quadrant")
"""

from . import constants, crosstab, params, report, scoring
from .dataset import YearData, available_years, load_year

__all__ = ["constants", "crosstab", "params", "report", "scoring", "YearData", "available_years", "load_year"]
__version__ = "0.1.0"
