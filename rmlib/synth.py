"""Generate synthetic survey-tool exports calibrated to the published figures.

We do not have the council's raw responses. This module writes exports that
look like what Essex Insight produces (title rows, question-text headers, text
answer labels, multi-select cells, personal columns, duplicates, test rows)
and whose *cleaned* contents reproduce every published number: respondents
per group and year, each overall mean, 2016's per-question means (Figures 7-8
of the 2016 review) and its average 'no contact' counts by department.

How: respondents get attributes in fixed counts (so small cells such as the
single 2018 Head of Service exist), a latent attitude plus subgroup effects
that follow the published narrative (e.g. North providers up, Medium
providers lowest), scores drawn around per-question targets, then an exact
calibration step nudges individual ratings by one point until each question
mean hits its target (and the overall mean its published value) to the
published precision. Rows the cleaner must drop (duplicates, a test response,
a late submission, an empty response) are added on top, so the numbers hold
after cleaning. Everything is seeded: regenerating gives identical bytes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .codebook import NO_CONTACT, Codebook, load_codebook
from .constants import DEPARTMENTS, QUESTIONS
from .io import atomic_write_bytes, write_manifest
from .paths import resolve

Q = QUESTIONS


@dataclass
class GroupTargets:
    """What one group's cleaned data must reproduce, and how to make it look real."""

    n: int
    question_means: dict[str, float]
    #: published overall (None: the mean of question_means is the target)
    overall: float | None = None
    #: published per-question means must hold to +-0.005 (2016); otherwise only the overall matters
    exact_questions: bool = False
    #: attribute -> {category: respondents}; "(multi)" = respondents choosing several categories
    attributes: dict[str, dict[str, int]] = field(default_factory=dict)
    #: (attribute, category) -> effect on the latent attitude, in points
    effects: dict[tuple[str, str], float] = field(default_factory=dict)
    #: department id -> effect (providers)
    department_effects: dict[str, float] = field(default_factory=dict)
    #: department id -> average "no contact" answers per question (providers)
    no_contact: dict[str, float] = field(default_factory=dict)
    comment_rate: float = 0.35


def _q(values: list[float]) -> dict[str, float]:
    return dict(zip(Q, values))


_NC_SHAPE = {
    "trust": 1,
    "inclusion": 1,
    "integration": 1,
    "share": -1,
    "conflicts": -1,
    "roles": -1,
    "direction": 0,
    "responsive": 0,
}  # 2016: trust, inclusion, integration had the most 'no contact'

#: Calibration targets. Published numbers are marked; the rest are chosen to follow the reports' narrative.
TARGETS: dict[int, dict[str, GroupTargets]] = {
    2016: {
        "provider": GroupTargets(
            n=40,  # not published; "as low as two" in some areas
            question_means=_q([1.91, 2.32, 1.92, 2.23, 2.48, 2.38, 2.27, 2.35]),  # Figure 7
            exact_questions=True,  # published overall 2.23 = mean of these (2.2325)
            attributes={
                "quadrant": {"North": 9, "South": 2, "Mid": 6, "West": 8, "Countywide": 7, "(multi)": 8},
                "service_area": {"Older People": 18, "Adults with Disabilities": 10, "Live at Home": 6, "(multi)": 6},
                "service_type": {"Residential": 22, "Homecare": 18},
                "size": {"Small": 18, "Medium": 13, "Large": 9},
                "ecc_share": {"0-25%": 8, "25-50%": 9, "50-75%": 11, "75-100%": 12},
                "age_range": {"18-64": 14, "65+": 26},
                "provider_role": {"Owner": 14, "Director/Senior manager": 12, "Care manager": 14},
            },
            effects={
                ("quadrant", "North"): 0.35,
                ("quadrant", "Countywide"): 0.2,
                ("quadrant", "West"): -0.3,
                ("quadrant", "Mid"): -0.2,
                ("size", "Small"): 0.2,
                ("ecc_share", "0-25%"): 0.4,
                ("ecc_share", "25-50%"): -0.3,
                ("provider_role", "Director/Senior manager"): 0.35,
                ("provider_role", "Care manager"): -0.1,
                ("service_type", "Homecare"): 0.35,
            },
            department_effects={"safeguarding": 0.35, "finance": -0.4},
            no_contact={
                "procurement": 12,
                "community_agents": 12,
                "commissioning": 11,
                "ao_senior": 10,  # 2016 review 10.6
                "ao_service_teams": 2,
                "placement": 2,
                "safeguarding": 2,
                "finance": 6,
                "contract_management": 5,
                "quality": 7,
            },
        ),
        "officer": GroupTargets(
            n=46,  # "about 50" invited; not published
            question_means=_q([2.40, 1.80, 1.95, 2.33, 2.28, 2.43, 1.98, 2.08]),  # Figure 8
            exact_questions=True,  # published overall 2.15 is not the mean of these (2.16): see README
            attributes={
                "quadrant": {"North": 14, "South": 1, "Mid": 1, "West": 7, "Countywide": 16, "(multi)": 7},
                "role": {"Head of Service": 5, "Manager": 15, "Officer": 26},
                "department": {"Commercial": 9, "Quality Team": 9, "Adult Operations": 16, "Commissioning": 12},
                "service_area": {"Older People": 16, "Adults with Disabilities": 11, "Live at Home": 7, "(multi)": 12},
            },
            effects={
                ("role", "Head of Service"): -0.6,
                ("role", "Manager"): -0.3,
                ("department", "Commercial"): 0.5,
                ("department", "Adult Operations"): 0.1,
                ("department", "Commissioning"): -0.1,
                ("quadrant", "North"): -0.65,
                ("quadrant", "South"): 0.4,
                ("quadrant", "Mid"): 0.35,
            },
        ),
    },
    2017: {
        "provider": GroupTargets(
            n=111,
            overall=2.46,  # 002 headline data
            question_means=_q([2.30, 2.52, 2.28, 2.40, 2.58, 2.55, 2.45, 2.60]),
            attributes={
                "quadrant": {"North": 20, "South": 18, "Mid": 17, "West": 18, "Countywide": 14, "(multi)": 24},
                "service_area": {"Older People": 44, "Adults with Disabilities": 24, "Live at Home": 19, "(multi)": 24},
                "service_type": {"Residential": 60, "Homecare": 51},
                "size": {"Small": 50, "Medium": 36, "Large": 25},
                "ecc_share": {"0-25%": 25, "25-50%": 26, "50-75%": 28, "75-100%": 32},
                "age_range": {"18-64": 40, "65+": 71},
                "provider_role": {"Owner": 36, "Director/Senior manager": 38, "Care manager": 37},
            },
            effects={
                ("quadrant", "North"): -0.4,
                ("size", "Small"): -0.3,
                ("age_range", "18-64"): -0.45,
                ("ecc_share", "0-25%"): -0.3,
                ("ecc_share", "75-100%"): -0.2,
                ("service_area", "Live at Home"): 0.3,
                ("ecc_share", "25-50%"): 0.1,
            },
            department_effects={"safeguarding": 0.2, "finance": -0.3},
            no_contact={
                "procurement": 30,
                "community_agents": 29,
                "commissioning": 27,
                "ao_senior": 25,
                "ao_service_teams": 6,
                "placement": 7,
                "safeguarding": 6,
                "finance": 15,
                "contract_management": 12,
                "quality": 16,
            },
        ),
        "officer": GroupTargets(
            n=29,
            overall=2.36,  # n derived: 2018's 85 is "193% more"
            question_means=_q([2.45, 2.10, 2.35, 2.40, 2.62, 2.60, 2.08, 2.28]),
            attributes={
                "quadrant": {"North": 5, "South": 3, "Mid": 4, "West": 5, "Countywide": 8, "(multi)": 4},
                "role": {"Head of Service": 3, "Manager": 9, "Officer": 17},
                "department": {
                    "Procurement": 6,
                    "Quality Team": 5,
                    "Adult Operations": 8,
                    "Commissioning": 6,
                    "Service Placement Team": 4,
                },
                "service_area": {"Older People": 10, "Adults with Disabilities": 6, "Live at Home": 5, "(multi)": 8},
            },
            effects={
                ("quadrant", "North"): -0.45,
                ("quadrant", "South"): 0.35,
                ("department", "Commissioning"): 0.25,
                ("department", "Quality Team"): 0.35,
                ("department", "Service Placement Team"): -0.2,
            },
        ),
    },
    2018: {
        "provider": GroupTargets(
            n=97,
            overall=2.65,  # 002 headline data
            question_means=_q([2.55, 2.62, 2.52, 2.66, 2.66, 2.80, 2.56, 2.83]),
            attributes={
                "quadrant": {"North": 18, "South": 16, "Mid": 14, "West": 15, "Countywide": 12, "(multi)": 22},
                "service_area": {
                    "Older People": 35,
                    "Adults with Disabilities": 20,
                    "Supported Living": 8,
                    "Live at Home": 14,
                    "(multi)": 20,
                },
                "service_type": {"Residential": 55, "Homecare": 42},
                "size": {"Small": 45, "Medium": 32, "Large": 20},
                "ecc_share": {"0-25%": 20, "25-50%": 22, "50-75%": 25, "75-100%": 30},
                "age_range": {"18-64": 30, "65+": 50, "All ages": 17},
                "provider_role": {"Owner": 30, "Director/Senior manager": 35, "Care manager": 32},
            },
            effects={
                ("size", "Medium"): -0.3,
                ("size", "Small"): 0.1,
                ("ecc_share", "25-50%"): -0.35,
                ("quadrant", "North"): 0.25,
                ("age_range", "18-64"): 0.15,
                ("service_area", "Live at Home"): -0.3,
            },
            department_effects={"safeguarding": 0.15, "finance": -0.25, "placement": 0.1},
            no_contact={
                "procurement": 26,
                "community_agents": 25,
                "commissioning": 23,
                "ao_senior": 21,
                "ao_service_teams": 5,
                "placement": 6,
                "safeguarding": 5,
                "finance": 13,
                "contract_management": 10,
                "quality": 14,
            },
        ),
        "officer": GroupTargets(
            n=85,
            overall=2.55,  # 002 headline data
            question_means=_q([2.62, 2.22, 2.52, 2.55, 2.58, 2.87, 2.33, 2.71]),
            attributes={
                "quadrant": {"North": 14, "South": 4, "Mid": 3, "West": 12, "Countywide": 30, "(multi)": 22},
                "role": {"Head of Service": 1, "Manager": 18, "Officer": 40, "Social Worker": 26},
                "department": {
                    "Procurement": 12,
                    "Quality Team": 10,
                    "Adult Operations": 38,
                    "Commissioning": 14,
                    "Service Placement Team": 11,
                },
                "service_area": {
                    "Older People": 20,
                    "Adults with Disabilities": 18,
                    "Supported Living": 6,
                    "Live at Home": 9,
                    "(multi)": 32,
                },
            },
            effects={
                ("quadrant", "Mid"): 0.3,
                ("quadrant", "West"): 0.25,
                ("quadrant", "South"): -0.35,
                ("department", "Commissioning"): -0.35,
                ("department", "Service Placement Team"): 0.3,
                ("department", "Quality Team"): 0.2,
                ("role", "Head of Service"): -0.5,
                ("role", "Social Worker"): -0.2,
                ("service_area", "Adults with Disabilities"): 0.2,
                ("service_area", "Supported Living"): -0.3,
            },
        ),
    },
}

# Comment fragments by theme (free text is synthetic; some carry planted personal data to test redaction).
_COMMENT_BITS = {
    "provider": [
        "Getting information from ECC is difficult and queries get passed between departments.",
        "It is hard to get hold of the safeguarding team and the community teams.",
        "Our experience depends on the department and on the person we speak to.",
        "Consultation is improving but there is still some way to go.",
        "We raised safeguards and never heard back.",
        "There is no way of appealing decisions and we are not listened to when there is a conflict.",
        "The provider newsletter is helpful for knowing the future direction.",
        "Package terminations are poorly managed by social workers.",
        "We would prefer one social worker contact so a relationship can be built.",
        "Rates do not cover the cost of care and payments are often late.",
        "The Care Provider Information Hub is useful.",
        "Relationships with the quality team are good.",
    ],
    "officer": [
        "Relationships are mixed and differ by provider.",
        "Our processes are a barrier and make our responses slow.",
        "Relationships have improved but there is further work to do.",
        "Financial pressures on both sides strain the relationship.",
        "Short term placements overrun and providers are not paid on time.",
        "Some providers are very open with us, others are defensive about safeguarding.",
        "We send providers too many messages through different routes.",
        "We need clearer roles and responsibilities internally.",
    ],
}
_PII_BITS = [
    "Please ask Sarah Jones to call me on 07700 900461.",
    "You can email me at j.smith@example.org if you want details.",
    "Our office is at CM1 1QH and the manager is Mr Patel.",
    "See www.example-care.co.uk/feedback for our full response.",
    "I spoke to David Brown in the placement team on 01245 430000.",
]
_ACCENTED = ["The café meeting with the quadrant forum was useful.", "Zoë from the hub was very helpful."]


def _allocate(rng: np.random.Generator, n: int, counts: dict[str, int], attr: str) -> list[list[str]]:
    """Give each of n respondents their categories: exact counts per sole category, then shuffled."""
    total = sum(counts.values())
    if total != n:
        raise ValueError(f"synthetic targets: {attr} counts add up to {total}, not n={n}")
    cats = [c for c in counts if c != "(multi)"]
    out: list[list[str]] = []
    for cat, k in counts.items():
        for _ in range(k):
            if cat == "(multi)":
                size = int(rng.integers(2, min(3, len(cats)) + 1))
                out.append(sorted(rng.choice(cats, size=size, replace=False).tolist(), key=cats.index))
            else:
                out.append([cat])
    order = rng.permutation(n)
    return [out[i] for i in order]


def _calibrate_cells(
    values: np.ndarray, valid_idx: np.ndarray, target: float, tol: float, rng: np.random.Generator, max_blank: int
) -> tuple[np.ndarray, np.ndarray]:
    """Nudge scores by one point (and blank a few) until their mean is within ``tol`` of ``target``.

    Returns the values and the indices that stay valid. Vectorised: each pass
    moves as many distinct ratings as the remaining gap needs.
    """
    idx = valid_idx.copy()
    for k in range(max_blank + 1):
        m = len(idx) - k
        if m > 0 and abs(round(target * m) / m - target) <= tol:
            break
    else:
        k = 0
    if k:
        drop = rng.choice(len(idx), size=k, replace=False)
        idx = np.delete(idx, drop)
        values[valid_idx[np.isin(valid_idx, idx, invert=True)]] = np.nan
    goal = int(round(target * len(idx)))
    for _ in range(10_000):
        gap = goal - int(np.nansum(values[idx]))
        if gap == 0:
            break
        movable = idx[values[idx] < 4] if gap > 0 else idx[values[idx] > 1]
        take = rng.choice(movable, size=min(abs(gap), len(movable)), replace=False)
        values[take] += np.sign(gap)
    return values, idx


@dataclass
class GroupData:
    """One group's generated responses before they are written out."""

    group: str
    attributes: dict[str, list[list[str]]]
    scores: np.ndarray  # respondents x questions x departments; nan = blank
    no_contact: np.ndarray  # bool, same shape
    comments: list[str]


def _latent_attitudes(targets: GroupTargets, attrs: dict[str, list[list[str]]], rng: np.random.Generator) -> np.ndarray:
    """Each respondent's latent attitude: a normal draw plus the subgroup effects of their categories.

    A respondent in several categories of an attribute gets each effect
    divided by how many they chose, so multi-selecting does not amplify it.
    """
    latent = rng.normal(0, 0.4, targets.n)
    for (attr, cat), eff in targets.effects.items():
        for i, cats in enumerate(attrs.get(attr, [])):
            if cat in cats:
                latent[i] += eff / len(cats)
    return latent


def _raw_scores(targets: GroupTargets, latent: np.ndarray, n_dep: int, rng: np.random.Generator) -> np.ndarray:
    """Ratings (respondents x questions x departments) around the question targets, before any blanks.

    Target mean + latent attitude + department effect + noise, rounded and
    clipped to the 1-4 scale.
    """
    dep_eff = np.array([targets.department_effects.get(d, 0.0) for d in DEPARTMENTS])[:n_dep]
    base = np.array([targets.question_means[q] for q in Q])
    noise = rng.normal(0, 0.6, (targets.n, len(Q), n_dep))
    return np.clip(np.rint(base[None, :, None] + latent[:, None, None] + dep_eff[None, None, :] + noise), 1, 4)


def _provider_no_contact(targets: GroupTargets, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Providers' 'no contact' answers: per department about its published average, shaped by question.

    The same base set of respondents has no contact on every question, topped
    up from the others in random order where a question has more.
    """
    n = targets.n
    no_contact = np.zeros(shape, dtype=bool)
    for j, dep in enumerate(DEPARTMENTS):
        avg = targets.no_contact.get(dep, 0)
        base_set = rng.choice(n, size=min(n, int(avg)), replace=False)
        in_base = np.zeros(n, dtype=bool)
        in_base[base_set] = True
        for qi, q in enumerate(Q):
            k = int(avg) + (_NC_SHAPE[q] if avg >= 2 else 0)
            perm = rng.permutation(n)  # drawn whatever k is: the random stream must not change
            # the base set first, then the others in random order (vectorised: O(n), not O(n * k))
            chosen = np.concatenate([base_set, perm[~in_base[perm]]])[:k] if k >= len(base_set) else base_set[:k]
            no_contact[chosen, qi, j] = True
    return no_contact


def _officer_no_contact(n: int, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Officers' 'no contact' answers: a couple of officers with no contact on one question."""
    no_contact = np.zeros(shape, dtype=bool)
    for i in rng.choice(n, size=max(1, n // 40), replace=False):
        no_contact[i, int(rng.integers(len(Q))), 0] = True
    return no_contact


def _blank_answers(scores: np.ndarray, no_contact: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Blank the 'no contact' ratings, then about 1% of the remaining ones (item non-response)."""
    scores[no_contact] = np.nan
    blank = (rng.random(scores.shape) < 0.01) & ~no_contact
    scores[blank] = np.nan
    return scores


def _calibrate_questions(scores: np.ndarray, targets: GroupTargets, group: str, rng: np.random.Generator) -> np.ndarray:
    """Nudge each question's ratings until its mean hits the target (to the published precision if exact).

    Raises RuntimeError when an exact target cannot be met with these respondents.
    """
    n, _, n_dep = scores.shape
    for qi, q in enumerate(Q):
        flat = scores[:, qi, :].reshape(-1)
        valid = np.flatnonzero(~np.isnan(flat))
        tol = 0.003 if targets.exact_questions else 0.0
        flat, valid = _calibrate_cells(
            flat, valid, targets.question_means[q], tol, rng, max_blank=15 if targets.exact_questions else 0
        )
        scores[:, qi, :] = flat.reshape(n, n_dep)
        if targets.exact_questions and abs(np.nanmean(flat) - targets.question_means[q]) >= 0.005:
            raise RuntimeError(
                f"synthetic calibration missed {group} {q}: {np.nanmean(flat):.4f} "
                f"vs {targets.question_means[q]} (change n or the seed)"
            )
    return scores


def _calibrate_overall(scores: np.ndarray, target: float, group: str, rng: np.random.Generator) -> np.ndarray:
    """Fine-tune the overall (mean of question means) to ``target`` on the question with most ratings.

    One rating moves by one point per step, until the overall is within half
    a step; raises RuntimeError if that does not happen.
    """
    n, _, n_dep = scores.shape
    for _ in range(10_000):
        overall = float(np.mean([np.nanmean(scores[:, qi, :]) for qi in range(len(Q))]))
        counts = [(~np.isnan(scores[:, qi, :])).sum() for qi in range(len(Q))]
        qi = int(np.argmax(counts))
        step = 1 / (len(Q) * counts[qi])
        gap = target - overall
        if abs(gap) <= step / 2 + 1e-12:
            break
        flat = scores[:, qi, :].reshape(-1)
        movable = np.flatnonzero((flat < 4) if gap > 0 else (flat > 1))
        flat[rng.choice(movable)] += np.sign(gap)
        scores[:, qi, :] = flat.reshape(n, n_dep)
    else:
        raise RuntimeError(f"synthetic calibration of the {group} overall did not converge")
    return scores


def _draw_comments(targets: GroupTargets, group: str, rng: np.random.Generator) -> list[str]:
    """Free-text comments ('' for none), a few with personal details or accents for the cleaner to handle.

    At least one comment gets a non-ASCII character, so that a cp1252 year
    really exercises encoding detection.
    """
    comments = []
    bits = _COMMENT_BITS[group]
    for _ in range(targets.n):
        if rng.random() < targets.comment_rate:
            parts = list(rng.choice(bits, size=int(rng.integers(1, 3)), replace=False))
            r = rng.random()
            if r < 0.12:
                parts.append(str(rng.choice(_PII_BITS)))
            elif r < 0.16:
                parts.append(str(rng.choice(_ACCENTED)))
            comments.append(" ".join(parts))
        else:
            comments.append("")
    first = next((i for i, c in enumerate(comments) if c), None)
    if first is not None and all(c.isascii() for c in comments):
        comments[first] += " " + _ACCENTED[0]
    return comments


def generate_group(targets: GroupTargets, group: str, rng: np.random.Generator, calibrate: bool = True) -> GroupData:
    """Generate one group's calibrated responses (numpy arrays; nothing written).

    The steps draw from ``rng`` in a fixed order (attributes, attitudes,
    ratings, no contact, blanks, calibration, comments): the bundled exports
    are generated from it, so that order must not change.
    """
    n = targets.n
    n_dep = len(DEPARTMENTS) if group == "provider" else 1
    attrs = {a: _allocate(rng, n, counts, a) for a, counts in targets.attributes.items()}
    latent = _latent_attitudes(targets, attrs, rng)
    scores = _raw_scores(targets, latent, n_dep, rng)
    if group == "provider":
        no_contact = _provider_no_contact(targets, scores.shape, rng)
    else:
        no_contact = _officer_no_contact(n, scores.shape, rng)
    scores = _blank_answers(scores, no_contact, rng)
    if calibrate:
        scores = _calibrate_questions(scores, targets, group, rng)
        if targets.overall is not None:
            scores = _calibrate_overall(scores, targets.overall, group, rng)
    comments = _draw_comments(targets, group, rng)
    return GroupData(group=group, attributes=attrs, scores=scores, no_contact=no_contact, comments=comments)


def _fieldwork(year: int) -> tuple[dt.datetime, dt.datetime]:
    from .params import load_params

    p = load_params(f"params/{year}.yaml")
    start, end = p.fieldwork
    return dt.datetime.combine(start, dt.time(8, 0)), dt.datetime.combine(end, dt.time(17, 0))


def render_export(
    codebook: Codebook,
    data: GroupData,
    year: int,
    rng: np.random.Generator,
    fieldwork: tuple[dt.datetime, dt.datetime],
    noise_rows: bool = True,
) -> list[list[str]]:
    """Lay the responses out as the survey tool would: header row of question text, text labels.

    Respondents submit at random times in the fieldwork; with ``noise_rows``
    the rows the cleaner must drop are added (:func:`_noise_records`). Rows
    are sorted by submission time and numbered in that order. The draws from
    ``rng`` come in a fixed order (times, then the noise rows), so the same
    seed gives the same bytes.
    """
    group = data.group
    writer = _RowWriter.of(codebook, data)
    n = len(data.comments)
    start, end = fieldwork
    offsets = np.sort(rng.uniform(0, (end - start).total_seconds(), n))
    times = [start + dt.timedelta(seconds=int(s)) for s in offsets]
    isnan = np.isnan(data.scores)
    flat_axes = tuple(range(1, data.scores.ndim))
    partial = isnan.any(axis=flat_axes) & ~data.no_contact.any(axis=flat_axes) & (isnan.sum(axis=flat_axes) > 3)
    all_cells = writer.rating_cells(data.scores, data.no_contact).tolist()
    records = [
        (
            times[i],
            writer.row(
                i,
                times[i],
                "partial" if partial[i] else "complete",
                f"{group}{i + 1:04d}@example.org",
                all_cells[i],
                data.comments[i],
            ),
        )
        for i in range(n)
    ]  # (time, row)
    if noise_rows:
        records += _noise_records(writer, data, rng, times, fieldwork)
    records.sort(key=lambda r: r[0])
    id_pos = next(k for k, c in enumerate(writer.cols) if c.kind == "id")
    rows = [[c.header for c in writer.cols] + [r.header for r in writer.ratings]]
    for k, (_, row) in enumerate(records):
        row[id_pos] = str(year * 10_000 + (100 if group == "officer" else 500) + k)
        rows.append(row)
    return rows


@dataclass(frozen=True)
class _RowWriter:
    """What writing one group's rows needs from the codebook, looked up once (columns, labels, positions)."""

    codebook: Codebook
    data: GroupData
    cols: list
    ratings: list
    r_q: np.ndarray  # each rating column's question (index into QUESTIONS)
    r_d: np.ndarray  # each rating column's department (index into DEPARTMENTS; 0 for officers)
    score_text: np.ndarray  # text of each score, 0 = blank
    no_contact_text: str
    inverse: dict  # attribute header -> {category: the label written}

    @classmethod
    def of(cls, codebook: Codebook, data: GroupData) -> "_RowWriter":
        """The lookups for ``data``'s group in ``codebook``."""
        ratings = codebook.rating_columns(data.group)
        dep_index = {d: j for j, d in enumerate(DEPARTMENTS)}
        q_index = {q: i for i, q in enumerate(Q)}
        label = {c: codebook.preferred_score_label(c) for c in (1, 2, 3, 4, NO_CONTACT)}
        cols = codebook.columns[data.group]
        return cls(
            codebook=codebook,
            data=data,
            cols=cols,
            ratings=ratings,
            r_q=np.array([q_index[r.question] for r in ratings], dtype=np.intp),
            r_d=np.array([dep_index.get(r.department, 0) for r in ratings], dtype=np.intp),
            score_text=np.array(["", label[1], label[2], label[3], label[4]], dtype=object),
            no_contact_text=label[NO_CONTACT],
            inverse={c.header: {v: k for k, v in c.categories.items()} for c in cols if c.kind == "attribute"},
        )

    def rating_cells(self, scores: np.ndarray, nc: np.ndarray) -> np.ndarray:
        """Rating cells of m respondents (scores, nc: m x questions x departments) as text, m x columns."""
        v = scores[:, self.r_q, self.r_d]
        cells = self.score_text[np.where(np.isnan(v), 0, v).astype(np.intp)]
        cells[nc[:, self.r_q, self.r_d]] = self.no_contact_text  # "no contact" wins over a score
        return cells

    def one(self, scores: np.ndarray, nc: np.ndarray) -> list[str]:
        """Rating cells of one respondent (questions x departments)."""
        return self.rating_cells(scores[None], nc[None])[0].tolist()

    def row(
        self, i: int, when: dt.datetime, status: str, email: str, cells: list[str] | None, comment: str
    ) -> list[str]:
        """One export row of respondent ``i`` (the id cell is left blank: filled in submission order)."""
        cb, data = self.codebook, self.data
        prefix = "P" if data.group == "provider" else "O"
        sep = cb.multi_select_separator + " "
        out = []
        for c in self.cols:
            if c.kind == "id":
                out.append("")
            elif c.kind == "timestamp":
                out.append(when.strftime(cb.timestamp_format))
            elif c.kind == "status":
                out.append(cb.preferred_status_label(status))
            elif c.kind == "key":
                out.append(email)
            elif c.kind == "personal":
                h = c.header.lower()
                out.append(
                    f"10.{(i * 7) % 250}.{(i * 13) % 250}.{(i * 31) % 250}"
                    if "ip" in h
                    else f"Example Care Home {i + 1}"
                    if "organisation" in h
                    else f"Respondent {prefix}{i + 1}"
                )
            elif c.kind == "attribute":
                cats = data.attributes.get(c.attribute, [[]])[i] if c.attribute in data.attributes else []
                out.append(sep.join(self.inverse[c.header][x] for x in cats))
            elif c.kind == "comment":
                out.append(comment)
        out.extend([""] * len(self.ratings) if cells is None else cells)
        return out


def _noise_records(
    writer: _RowWriter,
    data: GroupData,
    rng: np.random.Generator,
    times: list[dt.datetime],
    fieldwork: tuple[dt.datetime, dt.datetime],
) -> list[tuple[dt.datetime, list[str]]]:
    """(time, row) of the rows the cleaner must exclude, each for a reason it logs.

    Two earlier, superseded submissions of the same person (random scores),
    a test response, a late one (three days after fieldwork) and an empty one.
    """
    group, n = data.group, len(data.comments)
    start, end = fieldwork
    shape = data.scores[0].shape
    records = []
    for i in rng.choice(n, size=2, replace=False):
        earlier = max(times[i] - dt.timedelta(hours=3), start)
        fake = np.clip(np.rint(rng.normal(2.5, 0.9, data.scores[i].shape)), 1, 4)
        records.append(
            (
                earlier,
                writer.row(
                    i,
                    earlier,
                    "complete",
                    f"{group}{i + 1:04d}@example.org",
                    writer.one(fake, np.zeros_like(fake, dtype=bool)),
                    "",
                ),
            )
        )
    t = start + dt.timedelta(hours=1)
    records.append(
        (
            t,
            writer.row(
                0,
                t,
                "test",
                "survey.test@essex.gov.uk",
                writer.one(np.full(shape, 3.0), np.zeros(shape, dtype=bool)),
                "test response please ignore",
            ),
        )
    )
    late = end + dt.timedelta(days=3)
    records.append(
        (
            late,
            writer.row(
                1,
                late,
                "complete",
                f"{group}late@example.org",
                writer.one(np.full(shape, 2.0), np.zeros(shape, dtype=bool)),
                "",
            ),
        )
    )
    mid = start + dt.timedelta(seconds=(end - start).total_seconds() / 2)
    records.append((mid, writer.row(2, mid, "partial", f"{group}empty@example.org", None, "")))
    return records


def export_bytes(rows: list[list[str]], title: str, skip_rows: int, encoding: str) -> bytes:
    """Serialise rows as the survey tool's CSV: title rows, CRLF line ends, given encoding."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    for k in range(skip_rows):
        writer.writerow([title] if k == 0 else [])
    writer.writerows(rows)
    enc = {"auto": "utf-8"}.get(encoding, encoding)
    return buf.getvalue().encode(enc)


#: encoding each bundled year is written in (exercising the reader's detection)
YEAR_ENCODING = {2016: "utf-8", 2017: "cp1252", 2018: "utf-8-sig"}


def generate_year(
    year: int,
    out_dir: str | Path = "data/raw",
    seed: int = 20161101,
    codebook_path: str | Path | None = None,
    targets: dict[str, GroupTargets] | None = None,
    encoding: str | None = None,
    fieldwork: tuple[dt.datetime, dt.datetime] | None = None,
    noise_rows: bool = True,
) -> list[Path]:
    """Write one year's provider and officer exports (and its MANIFEST.sha256); return the files."""
    codebook = load_codebook(resolve(codebook_path or f"params/codebooks/{year}.yaml"))
    targets = targets or TARGETS[year]
    fieldwork = fieldwork or _fieldwork(year)
    folder = resolve(out_dir) / str(year)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for gi, group in enumerate(("provider", "officer")):
        rng = np.random.default_rng([seed, year, gi])
        data = generate_group(targets[group], group, rng)
        rows = render_export(codebook, data, year, rng, fieldwork, noise_rows=noise_rows)
        spec = codebook.files[group]
        title = f"Essex Insight export - {group.title()} Relationship Management Survey {year}"
        path = folder / spec.file
        atomic_write_bytes(
            path, export_bytes(rows, title, spec.skip_rows, encoding or YEAR_ENCODING.get(year, "utf-8"))
        )
        written.append(path)
    write_manifest(folder)
    return written


def generate_all(
    out_dir: str | Path = "data/raw", years: tuple[int, ...] = (2016, 2017, 2018), seed: int = 20161101
) -> list[Path]:
    """Regenerate the bundled example data."""
    return [p for y in years for p in generate_year(y, out_dir, seed)]


# ----------------------------------------------------------------------------- the same respondents in each tool's layout
#: layouts :func:`write_layout_year` writes (each read back by :func:`rmlib.reshape.read_group`)
LAYOUTS = ("default", "surveymonkey", "smartsurvey", "qualtrics", "msforms", "spss", "codes")
_SM_TIME = "%m/%d/%Y %I:%M:%S %p"
_QX_TIME = "%Y-%m-%d %H:%M:%S"
#: SurveyMonkey marks no test responses; the synthetic test one comes through a separate collector
_SM_COLLECTORS = {"complete": "214800001", "partial": "214800001", "test": "214800002"}
_QX_STATUS = {
    "complete": ("IP Address", "True"),
    "partial": ("IP Address", "False"),
    "test": ("Survey Preview", "True"),
}


def _canonical(codebook: Codebook, group: str, rows: list[list[str]]) -> list[dict]:
    """Rows written by :func:`render_export` as dicts: header -> text, plus parsed extras (status code, time)."""
    header = rows[0]
    status = codebook.column(group, "status")
    out = []
    for r in rows[1:]:
        d = dict(zip(header, r))
        d["_status"] = (
            codebook.status_labels.get(d[status.header].strip().casefold(), "complete") if status else "complete"
        )
        d["_time"] = dt.datetime.strptime(d[codebook.column(group, "timestamp").header], codebook.timestamp_format)
        out.append(d)
    return out


def _options(spec, cell: str, sep: str) -> list[str]:
    return [p.strip() for p in cell.split(sep.strip()) if p.strip()] if spec.multi else ([cell] if cell.strip() else [])


def _layout_rows(codebook: Codebook, group: str, rows: list[list[str]], tool: str) -> tuple[list[list[str]], dict]:
    """The header rows and data rows of one group's export in ``tool``'s layout, and the codebook changes it needs.

    Returns (rows, codebook fragment): the fragment holds this group's
    ``columns`` and the top-level settings (layout, timestamp_format, ...).
    Each tool's layout is written by a function of its own.
    """
    src = _LayoutSource.of(codebook, group, rows)
    if tool in ("default", "codes"):
        return _plain_rows(src, codes=tool == "codes")
    if tool in ("surveymonkey", "smartsurvey"):  # SmartSurvey's Excel export: the same two header rows, in XLSX
        return _surveymonkey_rows(src, tool)
    if tool == "qualtrics":
        return _qualtrics_rows(src)
    if tool == "msforms":
        return _msforms_rows(src)
    if tool == "spss":  # the rows are written by _write_sav; only the codebook changes here
        return rows, {"columns": [_spec_yaml(c) for c in src.specs], "layout": "spss", "timestamp_format": _QX_TIME}
    raise ValueError(f"unknown layout {tool!r}; layouts: {', '.join(LAYOUTS)}")


@dataclass(frozen=True)
class _LayoutSource:
    """One group's rows as :func:`render_export` wrote them, with the column groups every layout needs."""

    codebook: Codebook
    rows: list
    recs: list  # the data rows as dicts (see :func:`_canonical`)
    specs: list  # the codebook's non-rating columns
    ratings: list
    body: list  # the non-rating columns a tool writes after its own metadata columns
    ip: Any  # the IP address column (a tool writes its own), or None
    hdr: dict  # kind -> header of the id, timestamp, status and key columns
    sep: str

    @classmethod
    def of(cls, codebook: Codebook, group: str, rows: list[list[str]]) -> "_LayoutSource":
        """Split ``group``'s columns into the tools' metadata columns and the rest."""
        specs = codebook.columns[group]
        meta_kinds = ("id", "timestamp", "status", "key")
        is_ip = [c.kind == "personal" and "ip" in c.header.lower().split() for c in specs]
        return cls(
            codebook=codebook,
            rows=rows,
            recs=_canonical(codebook, group, rows),
            specs=specs,
            ratings=codebook.rating_columns(group),
            body=[c for c, ip in zip(specs, is_ip) if c.kind not in meta_kinds and not ip],
            ip=next((c for c, ip in zip(specs, is_ip) if ip), None),
            hdr={k: c.header for k in meta_kinds if (c := codebook.column(group, k)) is not None},
            sep=codebook.multi_select_separator,
        )


def _spec_yaml(c) -> dict:
    """A codebook column entry for the YAML the layout's codebook is written as."""
    d = {"header": c.header, "kind": c.kind}
    if c.kind == "attribute":
        d.update(attribute=c.attribute, categories=dict(c.categories))
        if c.multi:
            d["multi"] = True
    if c.kind == "comment" and c.field:
        d["field"] = c.field
    return d


def _plain_rows(src: _LayoutSource, codes: bool) -> tuple[list[list[str]], dict]:
    """Today's layout, as written; with ``codes`` every attribute answer is its option's number (1 = first option)."""
    header = src.rows[0]
    cols_yaml = [_spec_yaml(c) for c in src.specs]
    out_rows = [list(header)]
    code_maps = {}
    if codes:
        for c, y in zip(src.specs, cols_yaml):
            if c.kind == "attribute":
                code_maps[c.header] = {label: str(k + 1) for k, label in enumerate(c.categories)}
                y["codes"] = {k + 1: label for k, label in enumerate(c.categories)}
    for d in src.recs:
        row = []
        for h in header:
            v = d[h]
            if h in code_maps:
                spec = next(c for c in src.specs if c.header == h)
                v = ",".join(code_maps[h][o] for o in _options(spec, v, src.sep))  # codes joined by a bare comma
            row.append(v)
        out_rows.append(row)
    return out_rows, {"columns": cols_yaml, **({"multi_select_separator": ","} if codes else {})}


def _surveymonkey_rows(src: _LayoutSource, tool: str) -> tuple[list[list[str]], dict]:
    """SurveyMonkey's two header rows: question text over its block, a sub-label (option, department) per column."""
    cb = src.codebook
    top = {
        "layout": tool,
        "timestamp_format": _SM_TIME,
        "status_labels": {_SM_COLLECTORS["complete"]: "complete", _SM_COLLECTORS["test"]: "test"},
    }
    meta = [
        ("Respondent ID", {"kind": "id"}),
        ("Collector ID", {"kind": "status"}),
        ("Start Date", {"kind": "ignore"}),
        ("End Date", {"kind": "timestamp"}),
        ("IP Address", {"kind": "personal"}),
        ("Email Address", {"kind": "key"}),
        ("First Name", {"kind": "personal"}),
        ("Last Name", {"kind": "personal"}),
        ("Custom Data 1", {"kind": "ignore"}),
    ]
    r1 = [m for m, _ in meta]
    r2 = [""] * len(meta)
    cols_yaml = [{"header": m, **k} for m, k in meta]
    blocks = []  # (kind, spec or rating columns, options)
    for c in src.body:
        cols_yaml.append(_spec_yaml(c))
        if c.kind == "attribute" and c.multi:
            opts = list(c.categories)
            r1 += [c.header] + [""] * (len(opts) - 1)
            r2 += opts
            blocks.append(("multi", c, opts))
        else:
            r1.append(c.header)
            r2.append("Open-Ended Response" if c.kind == "comment" else "Response")
            blocks.append(("one", c, None))
    for q in QUESTIONS:
        qr = [r for r in src.ratings if r.question == q]
        r1 += [cb.questions[q]] + [""] * (len(qr) - 1)
        r2 += [cb.department_label(r.department) if r.department else "Response" for r in qr]
        blocks.append(("rating", qr, None))
    out_rows = [r1, r2]
    hdr = src.hdr
    for k, d in enumerate(src.recs):
        start = d["_time"] - dt.timedelta(minutes=7)
        row = [
            d[hdr["id"]],
            _SM_COLLECTORS[d["_status"]],
            start.strftime(_SM_TIME),
            d["_time"].strftime(_SM_TIME),
            d[src.ip.header] if src.ip else "",
            d.get(hdr.get("key"), ""),
            f"First{k + 1}",
            f"Last{k + 1}",
            "",
        ]
        for kind, c, opts in blocks:
            if kind == "multi":
                chosen = set(_options(c, d[c.header], src.sep))
                row += [o if o in chosen else "" for o in opts]
            elif kind == "one":
                row.append(d[c.header])
            else:
                row += [d[r.header] for r in c]
        out_rows.append(row)
    return out_rows, {"columns": cols_yaml, **top}


def _qualtrics_rows(src: _LayoutSource) -> tuple[list[list[str]], dict]:
    """Qualtrics' three header rows: short names (Q5_3), question text - sub-item, an ImportId JSON row."""
    top = {"layout": "qualtrics", "timestamp_format": _QX_TIME}
    meta = [
        ("StartDate", "Start Date", {"kind": "ignore"}),
        ("EndDate", "End Date", {"kind": "timestamp"}),
        ("Status", "Response Type", {"kind": "status"}),
        ("IPAddress", "IP Address", {"kind": "personal"}),
        ("Progress", "Progress", {"kind": "ignore"}),
        ("Duration (in seconds)", "Duration (in seconds)", {"kind": "ignore"}),
        ("Finished", "Finished", {"kind": "finished"}),
        ("RecordedDate", "Recorded Date", {"kind": "ignore"}),
        ("ResponseId", "Response ID", {"kind": "id"}),
        ("RecipientEmail", "Recipient Email", {"kind": "key"}),
    ]
    r1 = [m[0] for m in meta]
    r2 = [m[1] for m in meta]
    r3 = ['{"ImportId":"%s"}' % (m[0].split(" ")[0].lower()) for m in meta]
    cols_yaml = [{"header": m[1], **m[2]} for m in meta]
    for qn, c in enumerate(src.body, 1):
        cols_yaml.append(_spec_yaml(c))
        r1.append(f"Q{qn}")
        r2.append(c.header + (" - Selected Choice" if c.kind == "attribute" else ""))
        r3.append('{"ImportId":"QID%d"}' % qn)
    for qi, q in enumerate(QUESTIONS, len(src.body) + 1):
        for j, r in enumerate([r for r in src.ratings if r.question == q], 1):
            r1.append(f"Q{qi}_{j}" if r.department else f"Q{qi}")
            r2.append(r.header)
            r3.append('{"ImportId":"QID%d_%d"}' % (qi, j))
    out_rows = [r1, r2, r3]
    for d in src.recs:
        status, fin = _QX_STATUS[d["_status"]]
        row = [
            (d["_time"] - dt.timedelta(minutes=9)).strftime(_QX_TIME),
            d["_time"].strftime(_QX_TIME),
            status,
            d[src.ip.header] if src.ip else "",
            "100" if fin == "True" else "60",
            "540",
            fin,
            d["_time"].strftime(_QX_TIME),
            f"R_{int(d[src.hdr['id']]):x}Qx",
            d.get(src.hdr.get("key"), ""),
        ]
        for c in src.body:
            v = d[c.header]
            row.append(",".join(_options(c, v, src.sep)) if c.kind == "attribute" and c.multi else v)
        row += [d[r.header] for r in src.ratings]
        out_rows.append(row)
    return out_rows, {"columns": cols_yaml, **top}


def _msforms_rows(src: _LayoutSource) -> tuple[list[list], dict]:
    """Microsoft Forms' workbook: one header row, real date-times, multi-selects as 'North;South;'."""
    top = {"layout": "msforms", "timestamp_format": _QX_TIME}
    meta = [
        ("ID", {"kind": "id"}),
        ("Start time", {"kind": "ignore"}),
        ("Completion time", {"kind": "timestamp"}),
        ("Email", {"kind": "key"}),
        ("Name", {"kind": "personal"}),
        ("Status", {"kind": "status"}),
    ]
    cols_yaml = [{"header": m, **k} for m, k in meta] + [_spec_yaml(c) for c in src.body]
    out_rows = [[m for m, _ in meta] + [c.header for c in src.body] + [r.header for r in src.ratings]]
    hdr = src.hdr
    for k, d in enumerate(src.recs):
        row = [
            d[hdr["id"]],
            d["_time"] - dt.timedelta(minutes=4),
            d["_time"],
            d.get(hdr.get("key"), ""),
            f"Respondent {k + 1}",
            d[hdr["status"]] if "status" in hdr else "",
        ]
        for c in src.body:
            v = d[c.header]
            row.append("".join(o + ";" for o in _options(c, v, src.sep)) if c.kind == "attribute" and c.multi else v)
        row += [d[r.header] for r in src.ratings]
        out_rows.append(row)
    return out_rows, {"columns": cols_yaml, **top}


def _write_sav(codebook: Codebook, group: str, rows: list[list[str]], path: Path) -> None:
    """One group's responses as an SPSS .sav: answers as codes, the answer texts as value labels."""
    import pandas as pd
    import pyreadstat

    recs = _canonical(codebook, group, rows)
    sep = codebook.multi_select_separator
    data, var_labels, value_labels = {}, {}, {}
    score_codes = {
        1: codebook.preferred_score_label(1),
        2: codebook.preferred_score_label(2),
        3: codebook.preferred_score_label(3),
        4: codebook.preferred_score_label(4),
        0: codebook.preferred_score_label(NO_CONTACT),
    }
    by_label = {v: k for k, v in score_codes.items()}
    n_var = 0

    def var(label: str) -> str:
        nonlocal n_var
        n_var += 1
        return f"V{n_var}"

    for c in codebook.columns[group]:
        if c.kind == "attribute" and c.multi:
            for o in c.categories:
                name = var(f"{c.header} - {o}")
                var_labels[name] = f"{c.header} - {o}"
                value_labels[name] = {1.0: o}
                data[name] = [1.0 if o in _options(c, d[c.header], sep) else float("nan") for d in recs]
        elif c.kind in ("attribute", "status"):
            labels = list(c.categories) if c.kind == "attribute" else codebook.status_label_list
            name = var(c.header)
            var_labels[name] = c.header
            value_labels[name] = {float(k + 1): lab for k, lab in enumerate(labels)}
            data[name] = [float(labels.index(d[c.header]) + 1) if d[c.header] else float("nan") for d in recs]
        elif c.kind == "timestamp":
            name = var(c.header)
            var_labels[name] = c.header
            data[name] = pd.to_datetime([d["_time"] for d in recs])
        else:
            name = var(c.header)
            var_labels[name] = c.header
            data[name] = [d[c.header] for d in recs]
    for r in codebook.rating_columns(group):
        name = var(r.header)
        var_labels[name] = r.header
        value_labels[name] = {float(k): v for k, v in score_codes.items()}
        data[name] = [float(by_label[d[r.header]]) if d[r.header] else float("nan") for d in recs]
    frame = pd.DataFrame(data)
    pyreadstat.write_sav(
        frame, str(path), column_labels=[var_labels[c] for c in frame.columns], variable_value_labels=value_labels
    )


def _xlsx_bytes(rows: list[list]) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write_layout_year(
    year: int,
    tool: str,
    out_dir: str | Path,
    base_codebook: str | Path = "params/codebooks/2018.yaml",
    seed: int = 20161101,
    targets: dict[str, GroupTargets] | None = None,
    fieldwork: tuple[dt.datetime, dt.datetime] | None = None,
    codebook_out: str | Path | None = None,
) -> tuple[Path, list[Path]]:
    """Write one year's exports in ``tool``'s layout (see :data:`LAYOUTS`), with the codebook that reads them.

    The respondents are exactly those :func:`generate_year` writes for the
    base codebook's year and seed (same seed, same calibration, same traps:
    duplicate submissions, a blank response, a late one and a test/preview
    one), so every layout must clean to identical tidy tables. Returns
    (codebook path, export files); the folder gets a MANIFEST.sha256. The
    codebook is written to ``codebook_out`` (default ``<out_dir>/codebook_<tool>.yaml``).
    """
    import yaml

    base_path = resolve(base_codebook)
    codebook = load_codebook(base_path)
    base_raw = yaml.safe_load(base_path.read_text(encoding="utf-8"))
    targets = targets or TARGETS[codebook.year]
    fieldwork = fieldwork or _fieldwork(codebook.year)
    folder = Path(out_dir) / str(year)
    folder.mkdir(parents=True, exist_ok=True)
    # the tool's preset supplies its own separator (a codebook writes only what differs)
    cb = {k: v for k, v in base_raw.items() if k not in ("columns", "files", "layout", "multi_select_separator")}
    cb["year"] = year
    cb["survey_tool"] = f"synthetic {tool} export"
    cb["files"], cb["columns"] = {}, {}
    written = []
    ext = {"msforms": "xlsx", "smartsurvey": "xlsx", "spss": "sav"}.get(tool, "csv")
    for gi, group in enumerate(("provider", "officer")):
        rng = np.random.default_rng([seed, codebook.year, gi])
        data = generate_group(targets[group], group, rng)
        rows = render_export(codebook, data, year, rng, fieldwork)
        out_rows, frag = _layout_rows(codebook, group, rows, tool)
        cb["columns"][group] = frag.pop("columns")
        cb.update(frag)
        name = f"{group}_survey_{year}.{ext}"
        path = folder / name
        if tool == "spss":
            _write_sav(codebook, group, rows, path)
            cb["files"][group] = {"file": name}
        elif tool in ("msforms", "smartsurvey"):
            atomic_write_bytes(path, _xlsx_bytes(out_rows))
            cb["files"][group] = {"file": name}
        else:
            skip = codebook.files[group].skip_rows if tool in ("default", "codes") else 0
            title = f"Export - {group.title()} Relationship Management Survey {year}"
            atomic_write_bytes(path, export_bytes(out_rows, title, skip, "utf-8-sig"))
            cb["files"][group] = {"file": name, "skip_rows": skip}
        written.append(path)
    write_manifest(folder)
    cb_path = Path(codebook_out) if codebook_out else Path(out_dir) / f"codebook_{tool}.yaml"
    cb_path.parent.mkdir(parents=True, exist_ok=True)
    cb_path.write_text(yaml.safe_dump(cb, sort_keys=False, allow_unicode=True, width=140), encoding="utf-8")
    return cb_path, written
