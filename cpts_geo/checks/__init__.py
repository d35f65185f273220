"""The checks of a CPTS territory: :class:`Territory`, the six rules, :class:`Report` and its text,
findings by unit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cpts_geo._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "ACI_SIZE_BOUNDS": "territory",
        "Territory": "territory",
        "aci_size_class": "territory",
        "RULE_IDS": "rules",
        "as_territory": "rules",
        "check_register": "rules",
        "check_territory": "rules",
        "RULE_LABELS": "report",
        "STATUS_LABELS": "report",
        "RegisterReport": "report",
        "Report": "report",
        "RuleResult": "report",
        "register_text": "report",
        "report_text": "report",
        "findings_by_unit": "findings",
    },
)

if TYPE_CHECKING:
    from cpts_geo.checks.findings import findings_by_unit as findings_by_unit
    from cpts_geo.checks.report import RULE_LABELS as RULE_LABELS
    from cpts_geo.checks.report import STATUS_LABELS as STATUS_LABELS
    from cpts_geo.checks.report import RegisterReport as RegisterReport
    from cpts_geo.checks.report import Report as Report
    from cpts_geo.checks.report import RuleResult as RuleResult
    from cpts_geo.checks.report import register_text as register_text
    from cpts_geo.checks.report import report_text as report_text
    from cpts_geo.checks.rules import RULE_IDS as RULE_IDS
    from cpts_geo.checks.rules import as_territory as as_territory
    from cpts_geo.checks.rules import check_register as check_register
    from cpts_geo.checks.rules import check_territory as check_territory
    from cpts_geo.checks.territory import ACI_SIZE_BOUNDS as ACI_SIZE_BOUNDS
    from cpts_geo.checks.territory import Territory as Territory
    from cpts_geo.checks.territory import aci_size_class as aci_size_class
