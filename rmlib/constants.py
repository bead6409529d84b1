"""Fixed vocabulary of the survey: questions, groups, departments, maturity levels.

These never change between years (the same eight questions have been asked
since 2016). Labels that *do* change (department names, answer labels, header
text) live in the per-year codebooks under ``params/codebooks/``.
"""

from __future__ import annotations

#: The eight questions, in the order the survey asks them.
QUESTIONS: tuple[str, ...] = (
    "share",
    "trust",
    "inclusion",
    "integration",
    "conflicts",
    "roles",
    "direction",
    "responsive",
)

#: Full question text (identical in every year's survey).
QUESTION_TEXT: dict[str, str] = {
    "share": "How well do care providers and ECC share information?",
    "trust": "How well do we trust each other?",
    "inclusion": "How inclusive and involving are we when planning and making key decisions that will impact upon service users?",
    "integration": "How integrated is our working?",
    "conflicts": "How well do we manage conflicts?",
    "roles": "Do we understand what our respective roles and responsibilities are?",
    "direction": "How clear are we of our strategic direction?",
    "responsive": "How responsive are we to each other's needs?",
}

#: Short labels for tables and figures.
QUESTION_LABEL: dict[str, str] = {
    "share": "Share information",
    "trust": "Trust",
    "inclusion": "Inclusion in planning",
    "integration": "Integrated working",
    "conflicts": "Manage conflicts",
    "roles": "Roles & responsibilities",
    "direction": "Strategic direction",
    "responsive": "Responsiveness",
}

GROUPS: tuple[str, ...] = ("provider", "officer")
GROUP_LABEL: dict[str, str] = {"provider": "Providers", "officer": "Officers"}

#: Stable ids of the ten ECC departments providers rate, with their 2018 labels.
DEPARTMENTS: dict[str, str] = {
    "ao_senior": "Adult Operations - Senior Managers",
    "ao_service_teams": "Adult Operations - Service Teams (including social workers)",
    "placement": "Service Placement Team",
    "safeguarding": "Adults Safeguarding Team",
    "community_agents": "Community Agents",
    "commissioning": "Commissioning Officers",
    "finance": "Finance Officers",
    "procurement": "Procurement - Category Officers",
    "contract_management": "Contract Managers",
    "quality": "Quality Improvement Officers",
}

#: Appendix H of the 2016 review: the five elements behind questions 1-5 ...
MATURITY_ELEMENTS: dict[str, str] = {
    "share": "Openness of communications",
    "trust": "Degree of trust",
    "inclusion": "Inclusion in planning and decisions",
    "integration": "Integration",
    "conflicts": "Ability to manage and resolve difficult issues",
}
#: ... and its four levels.
MATURITY_LEVELS: dict[int, str] = {
    1: "Securing the basics",
    2: "Thinking differently",
    3: "Developing strategically",
    4: "Sustaining high performance",
}

#: Breakdown attributes recorded in ``memberships``, in report order.
ATTRIBUTES: tuple[str, ...] = (
    "quadrant",
    "role",
    "department",
    "service_area",
    "service_type",
    "size",
    "ecc_share",
    "age_range",
    "provider_role",
)
ATTRIBUTE_LABEL: dict[str, str] = {
    "quadrant": "Quadrant",
    "role": "Role",
    "department": "ECC team",
    "service_area": "Service area",
    "service_type": "Service type",
    "size": "Provider size",
    "ecc_share": "Share of business with ECC",
    "age_range": "Age range of service users",
    "provider_role": "Respondent's role",
    "rated_department": "ECC department rated",
}

#: Display order of categories (unknown categories follow, alphabetically).
CATEGORY_ORDER: dict[str, list[str]] = {
    "quadrant": ["North", "South", "Mid", "West", "Countywide"],
    "role": ["Head of Service", "Manager", "Officer", "Social Worker"],
    "department": [
        "Procurement",
        "Commercial",
        "Quality Team",
        "Adult Operations",
        "Commissioning",
        "Service Placement Team",
    ],
    "service_area": ["Older People", "Adults with Disabilities", "Supported Living", "Live at Home"],
    "service_type": ["Residential", "Homecare"],
    "size": ["Small", "Medium", "Large"],
    "ecc_share": ["0-25%", "25-50%", "50-75%", "75-100%"],
    "age_range": ["18-64", "65+", "All ages"],
    "provider_role": ["Owner", "Director/Senior manager", "Care manager"],
    "rated_department": list(DEPARTMENTS.values()),
}

#: ``attribute`` / ``category`` of whole-group rows in a cell table (docs/contracts.md).
ALL_ATTRIBUTE: str = "all"
ALL_CATEGORY: str = "All"
#: ``attribute`` of providers' ratings broken down by the ECC department rated (a breakdown of ratings, not respondents).
RATED_DEPARTMENT: str = "rated_department"
