"""Steering the deployment: coverage by area and stage, coverage over time, register changes,
funding, migration to the current COG."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cpts_geo._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "Coverage": "coverage",
        "coverage_summary": "coverage",
        "coverage_table": "coverage",
        "cpts_table": "coverage",
        "covered_by_stage": "by_stage",
        "population_covered_by_stage": "by_stage",
        "CoverageHistory": "history",
        "coverage_history": "history",
        "register_history": "history",
        "RegisterChanges": "changes",
        "compare_registers": "changes",
        "register_changes": "changes",
        "FundingEstimate": "funding",
        "funding_estimate": "funding",
        "read_funding_table": "funding",
        "Migration": "migrate",
        "migrate_register": "migrate",
    },
    moved={"read_history": "cpts_geo.inputs.history"},
)

if TYPE_CHECKING:
    from cpts_geo.inputs.history import read_history as read_history
    from cpts_geo.steering.by_stage import covered_by_stage as covered_by_stage
    from cpts_geo.steering.by_stage import population_covered_by_stage as population_covered_by_stage
    from cpts_geo.steering.changes import RegisterChanges as RegisterChanges
    from cpts_geo.steering.changes import compare_registers as compare_registers
    from cpts_geo.steering.changes import register_changes as register_changes
    from cpts_geo.steering.coverage import Coverage as Coverage
    from cpts_geo.steering.coverage import coverage_summary as coverage_summary
    from cpts_geo.steering.coverage import coverage_table as coverage_table
    from cpts_geo.steering.coverage import cpts_table as cpts_table
    from cpts_geo.steering.funding import FundingEstimate as FundingEstimate
    from cpts_geo.steering.funding import funding_estimate as funding_estimate
    from cpts_geo.steering.funding import read_funding_table as read_funding_table
    from cpts_geo.steering.history import CoverageHistory as CoverageHistory
    from cpts_geo.steering.history import coverage_history as coverage_history
    from cpts_geo.steering.history import register_history as register_history
    from cpts_geo.steering.migrate import Migration as Migration
    from cpts_geo.steering.migrate import migrate_register as migrate_register
