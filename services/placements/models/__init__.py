"""Tables of the placements service (its own database only), and the mapping between
rows and the pure domain values of ``services.placements.domain``.

Searchable facts are columns; histories (fees, status, reviews) are rows of their own so
"who changed what, when and why" is queryable. Children are held by the council's
pseudonymous reference only: no table has a name column. A module per concept; every
table is registered on ``PlacementsModel``'s metadata when this package is imported.
"""

from __future__ import annotations

from services.placements.models._base import (
    PlacementsModel,
    one_off_in,
    one_off_out,
)
from services.placements.models.blocks import (
    BlockContractRow,
    BlockOfferRow,
    BlockPlaceRow,
    blocks_for,
    load_block,
    offer_from_row,
    offer_into_row,
    open_offer_for_need,
    save_block,
)
from services.placements.models.needs import (
    NeedRow,
    need_from_row,
    need_into_row,
    new_need_row,
)
from services.placements.models.placements import (
    FeeChangeRow,
    PlacementRow,
    ReviewRow,
    StatusChangeRow,
    UpliftRow,
    VariationRow,
    load_placement,
    placement_histories,
    placement_of,
    save_placement,
    uplift_from_row,
    uplift_into_row,
)
from services.placements.models.plans import (
    ChildPlanRow,
    load_plans,
    plan_columns,
    plan_from_columns,
    plan_from_row,
    save_plans,
)
from services.placements.models.spend import (
    ProviderNameRow,
    SpendLedgerRow,
)

__all__ = [
    "BlockContractRow",
    "BlockOfferRow",
    "BlockPlaceRow",
    "ChildPlanRow",
    "FeeChangeRow",
    "NeedRow",
    "PlacementRow",
    "PlacementsModel",
    "ProviderNameRow",
    "ReviewRow",
    "SpendLedgerRow",
    "StatusChangeRow",
    "UpliftRow",
    "VariationRow",
    "blocks_for",
    "load_block",
    "load_placement",
    "load_plans",
    "need_from_row",
    "need_into_row",
    "new_need_row",
    "offer_from_row",
    "offer_into_row",
    "one_off_in",
    "one_off_out",
    "open_offer_for_need",
    "placement_histories",
    "placement_of",
    "plan_columns",
    "plan_from_columns",
    "plan_from_row",
    "save_block",
    "save_placement",
    "save_plans",
    "uplift_from_row",
    "uplift_into_row",
]
