"""Which law a scheme, a call-off and a contract are under, in words: the one place the
console turns procurement's regime code into what a person reads (issue 19: a council
runs its legacy PCR 2015 DPS and a Procurement Act 2023 arrangement side by side, and
every screen says which is which)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

PCR2015 = "Public Contracts Regulations 2015"
PA2023 = "Procurement Act 2023"


@dataclass(frozen=True, slots=True)
class RegimeWords:
    """A regime as a person reads it: the law, the kind of arrangement, and where the
    law sets the arrangement up (shown next to the words on a scheme's page)."""

    law: str
    arrangement: str
    source: str
    tag: str  # the short name on a GOV.UK tag, for lists
    tag_colour: str

    @property
    def words(self) -> str:
        return f"{self.law} — {self.arrangement}"


_PCR_TAG = ("PCR 2015", "govuk-tag--grey")
_PA_TAG = ("Procurement Act 2023", "govuk-tag--blue")

REGIME_WORDS: dict[str, RegimeWords] = {
    "pcr2015": RegimeWords(
        PCR2015,
        "dynamic purchasing system",
        "PCR 2015 reg 34 (dynamic purchasing systems)",
        *_PCR_TAG,
    ),
    "pcr2015_light_touch": RegimeWords(
        PCR2015,
        "dynamic purchasing system, light-touch regime",
        "PCR 2015 reg 34, under the light-touch regime for social and other specific "
        "services (regs 74-76)",
        *_PCR_TAG,
    ),
    "pa2023_dynamic_market": RegimeWords(
        PA2023, "dynamic market", "Procurement Act 2023 ss. 34-40 (dynamic markets)", *_PA_TAG
    ),
    "pa2023_dynamic_market_light_touch": RegimeWords(
        PA2023,
        "dynamic market, light-touch contracts",
        "Procurement Act 2023 ss. 34-40 (dynamic markets), for light touch contracts (s. 9)",
        *_PA_TAG,
    ),
    "pa2023_open_framework": RegimeWords(
        PA2023, "open framework", "Procurement Act 2023 s. 49 (open frameworks)", *_PA_TAG
    ),
    "pa2023_open_framework_light_touch": RegimeWords(
        PA2023,
        "open framework, light-touch contracts",
        "Procurement Act 2023 s. 49 (open frameworks), for light touch contracts (s. 9)",
        *_PA_TAG,
    ),
}
NOT_RECORDED = "Regime not recorded"


def effective_code(code: Any, light_touch: Any = False) -> str:
    """A Procurement Act scheme for light touch services (its ``light_touch`` flag, Act
    s.9) reads as its regime's light touch variant; PCR 2015 has its own code for it."""
    text = str(code or "")
    if light_touch and text.startswith("pa2023") and not text.endswith("light_touch"):
        return f"{text}_light_touch"
    return text


def regime_of(code: Any, light_touch: Any = False) -> RegimeWords | None:
    """The words for a regime code; a code this console does not know yet (a newer
    procurement) still reads as its law and arrangement, never as a bare code."""
    if not code:
        return None
    text = effective_code(code, light_touch)
    if text in REGIME_WORDS:
        return REGIME_WORDS[text]
    law, tag = (PA2023, _PA_TAG) if text.startswith("pa2023") else (PCR2015, _PCR_TAG)
    rest = text.removeprefix("pa2023").removeprefix("pcr2015").strip("_")
    light = rest.endswith("light_touch")
    kind = rest.removesuffix("light_touch").strip("_").replace("_", " ") or "procurement"
    arrangement = f"{kind}, light-touch" if light else kind
    return RegimeWords(law, arrangement, law, *tag)


def regime_words(code: Any, light_touch: Any = False) -> str:
    """In words, as "Procurement Act 2023 — dynamic market"; or that none is recorded."""
    found = regime_of(code, light_touch)
    return found.words if found else NOT_RECORDED


def regime_source(code: Any, light_touch: Any = False) -> str:
    found = regime_of(code, light_touch)
    return found.source if found else ""


def regime_tag(code: Any, light_touch: Any = False) -> Markup:
    """A GOV.UK tag with the law's short name, the full words for screen readers."""
    found = regime_of(code, light_touch)
    if found is None:
        return Markup('<strong class="govuk-tag govuk-tag--grey">Not recorded</strong>')
    # The colour is one of this module's constants; the words are escaped.
    return Markup(  # nosec B704
        f'<strong class="govuk-tag {found.tag_colour}">{escape(found.tag)}</strong>'
        f'<span class="govuk-visually-hidden"> {escape(found.words)}</span>'
    )


def contract_regime(scheme_ref: Any, code: Any) -> str:
    """What a placement's page says of the law its contract was let under."""
    if not scheme_ref:
        return "Not let under a scheme"
    if not code:
        return f"Under scheme {scheme_ref} (its regime is not known here)"
    return regime_words(code)


def contract_tag(scheme_ref: Any, code: Any) -> Markup:
    """A placement list's cell: the law's tag, or in words that there is none."""
    if not scheme_ref:
        return Markup("Not under a scheme")
    if not code:
        return Markup("Not known")
    return regime_tag(code)


def regime_by_scheme(schemes: list[dict[str, Any]]) -> dict[str, str]:
    """Scheme id (and reference: imported placements may name the scheme by it) -> its
    regime code (its light touch variant where it is one), to say the regime of call-offs
    and contracts the API lists without it."""
    found: dict[str, str] = {}
    for s in schemes:
        code = effective_code(s.get("regime"), s.get("light_touch"))
        found[str(s.get("reference") or "")] = code
        found[str(s["scheme_id"])] = code
    found.pop("", None)
    return found


# The regimes a council may choose when setting up a scheme: the PCR 2015 DPS it records
# with its original date (light-touch first, as placements are social and other specific
# services), and the Act's arrangements every procurement begun from 24 February 2025
# runs under. Procurement decides which it supports and says so if it refuses one.
CHOICES = (
    "pcr2015_light_touch",
    "pcr2015",
    "pa2023_dynamic_market",
    "pa2023_open_framework",
)


def regime_choices(chosen: str) -> list[dict[str, Any]]:
    """The scheme form's radios: each regime in words, its source as the hint."""
    picked = chosen or CHOICES[0]
    return [
        {
            "value": code,
            "text": REGIME_WORDS[code].words,
            "hint": {"text": REGIME_WORDS[code].source},
            "checked": code == picked,
        }
        for code in CHOICES
    ]
