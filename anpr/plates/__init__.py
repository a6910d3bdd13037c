"""Number-plate grammars: Pakistani layouts first, US / EU / Brazil as weaker priors."""

from anpr.plates.formats import (
    REGIONS,
    ParsedPlate,
    confusable_variants,
    format_prior,
    guess_region,
    normalise,
    parse,
    parse_all,
    plate_region,
    rerank,
)

__all__ = [
    "REGIONS",
    "ParsedPlate",
    "confusable_variants",
    "format_prior",
    "guess_region",
    "normalise",
    "parse",
    "parse_all",
    "plate_region",
    "rerank",
]
