"""The council's statutory returns built from the placements the system holds: the SEN2
return's placement detail (``sen2``) and the Local Government Transparency Code 2015
quarterly list of contracts over £5,000 (``lgtc``). Pure: no I/O."""

from __future__ import annotations

from services.placements.domain.returns.lgtc import (
    LGTC_COLUMNS,
    THRESHOLD,
    ContractLine,
    block_contract_line,
    contracts_csv,
    in_force,
    over_threshold,
    placement_contract_line,
    quarter_bounds,
)
from services.placements.domain.returns.sen2 import (
    SEN2_RULES,
    Sen2Issue,
    Sen2Placement,
    Sen2Return,
    build_return,
    census_date,
    collection_year,
    in_scope,
    sen2_placement,
    sen2_xml,
    validate_sen2,
)

__all__ = [
    "LGTC_COLUMNS",
    "SEN2_RULES",
    "THRESHOLD",
    "ContractLine",
    "Sen2Issue",
    "Sen2Placement",
    "Sen2Return",
    "block_contract_line",
    "build_return",
    "census_date",
    "collection_year",
    "contracts_csv",
    "in_force",
    "in_scope",
    "over_threshold",
    "placement_contract_line",
    "quarter_bounds",
    "sen2_placement",
    "sen2_xml",
    "validate_sen2",
]
