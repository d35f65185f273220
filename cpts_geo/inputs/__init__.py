"""What users send, read as they send it: proposals, registers (:class:`Register`), stages,
indicator tables, zone layers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cpts_geo._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "IndicatorTable": "read",
        "Proposal": "read",
        "as_register": "read",
        "proposal_from_codes": "read",
        "read_indicators": "read",
        "read_proposal": "read",
        "read_register": "read",
        "Register": "register",
        "empty_register": "register",
        "register_from_frame": "register",
        "STAGES": "stages",
        "STAGE_LABELS": "stages",
        "parse_stage": "stages",
        "history_from_frame": "history",
        "read_history": "history",
        "ZoneLayer": "zones",
        "read_zones": "zones",
        "zone_layer_from_codes": "zones",
    },
)

if TYPE_CHECKING:
    from cpts_geo.inputs.history import history_from_frame as history_from_frame
    from cpts_geo.inputs.history import read_history as read_history
    from cpts_geo.inputs.read import IndicatorTable as IndicatorTable
    from cpts_geo.inputs.read import Proposal as Proposal
    from cpts_geo.inputs.read import as_register as as_register
    from cpts_geo.inputs.read import proposal_from_codes as proposal_from_codes
    from cpts_geo.inputs.read import read_indicators as read_indicators
    from cpts_geo.inputs.read import read_proposal as read_proposal
    from cpts_geo.inputs.read import read_register as read_register
    from cpts_geo.inputs.register import Register as Register
    from cpts_geo.inputs.register import empty_register as empty_register
    from cpts_geo.inputs.register import register_from_frame as register_from_frame
    from cpts_geo.inputs.stages import STAGE_LABELS as STAGE_LABELS
    from cpts_geo.inputs.stages import STAGES as STAGES
    from cpts_geo.inputs.stages import parse_stage as parse_stage
    from cpts_geo.inputs.zones import ZoneLayer as ZoneLayer
    from cpts_geo.inputs.zones import read_zones as read_zones
    from cpts_geo.inputs.zones import zone_layer_from_codes as zone_layer_from_codes
