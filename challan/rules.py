"""The rule engine: one small rule per violation, each judging one vehicle event against the plain
limits of its site. Rules only suspect; an officer validates every finding before a challan issues.
The registry below is the whole list: a rule that is not in it does not run."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from anpr.errors import ConfigError
from anpr.types import VehicleEvent
from challan.findings import Finding


@dataclass(frozen=True)
class SectionRules:
    """An average-speed section ending at the site (judged by challan.section, not by a rule here: it
    needs the sightings of the entry)."""

    entry_site: str
    distance_m: float
    limit_kmh: float
    tolerance_kmh: float = 0.0


@dataclass(frozen=True)
class SiteRules:
    """What the rules need to know about a site: numbers and switches, no geometry."""

    site_id: str
    limit_kmh: float | None = None
    tolerance_kmh: float = 0.0
    red_grace_s: float = 0.0
    enabled: frozenset[str] = field(default_factory=frozenset)
    section: SectionRules | None = None
    plate_region: str | None = None  # the site file's (the hub's non_standard_plate check at ingest)


class Rule:
    code: ClassVar[str]
    # The site data the rule judges by ("signal": a stop line and phases; "flow": the lawful
    # direction of travel); a site without it does not run the rule unless its file names it.
    needs: ClassVar[str | None] = None
    # Whether a site whose file has no `rules:` runs it. Every rule that does must be priced for every
    # vehicle class by the fine schedule in force (challan.fines checks it when it loads a schedule);
    # one the law sets no fine for runs only where a site's file names it.
    default_on: ClassVar[bool] = True

    def evaluate(self, event: VehicleEvent, site: SiteRules) -> Finding | None:
        raise NotImplementedError

    def _finding(self, event: VehicleEvent, occurred_at: datetime, **details) -> Finding:
        return Finding(code=self.code, occurred_at=occurred_at, details=details, evidence=event.evidence)


class OverSpeed(Rule):
    """Measured speed above the limit plus the site's tolerance."""

    code = "OVER_SPEED"

    def evaluate(self, event: VehicleEvent, site: SiteRules) -> Finding | None:
        if event.speed_kmh is None or site.limit_kmh is None:
            return None
        if event.speed_kmh <= site.limit_kmh + site.tolerance_kmh:
            return None
        return self._finding(
            event,
            event.crossed_stop_line_at or _middle(event),
            speed_kmh=round(event.speed_kmh, 1),
            limit_kmh=site.limit_kmh,
            tolerance_kmh=site.tolerance_kmh,
            method=event.speed_method,
        )


class RedLight(Rule):
    """Crossed the stop line after red onset (plus grace) and went on through the junction."""

    code = "RED_LIGHT"
    needs = "signal"

    def evaluate(self, event: VehicleEvent, site: SiteRules) -> Finding | None:
        into_red = _seconds_into_red(event)
        if into_red is None or into_red <= site.red_grace_s or event.stopped_past_line_at is not None:
            return None
        # _seconds_into_red is None unless both moments are known
        assert event.crossed_stop_line_at is not None and event.red_onset_at is not None
        return self._finding(
            event,
            event.crossed_stop_line_at,
            seconds_into_red=round(into_red, 2),
            amber_seconds=event.amber_seconds,
            red_onset_at=event.red_onset_at.isoformat(),
            grace_s=site.red_grace_s,
        )


class StopLine(Rule):
    """Crossed the stop line on red and came to rest past it (on the crossing or in the junction).
    Off by default: no report of the Punjab schedule (2025 or 2021) sets a stop-line fine, so such a
    finding could not be priced (docs/challans.md, "Fines"). A site's `rules:` may name it where
    the schedule in use (ANPR_FINES) prices it."""

    code = "STOP_LINE"
    needs = "signal"
    default_on = False

    def evaluate(self, event: VehicleEvent, site: SiteRules) -> Finding | None:
        into_red = _seconds_into_red(event)
        if into_red is None or into_red <= site.red_grace_s or event.stopped_past_line_at is None:
            return None
        assert event.red_onset_at is not None  # _seconds_into_red is None without it
        return self._finding(
            event,
            event.stopped_past_line_at,
            seconds_into_red=round(into_red, 2),
            red_onset_at=event.red_onset_at.isoformat(),
        )


class WrongWay(Rule):
    """Moved against the site's lawful direction of travel."""

    code = "WRONG_WAY"
    needs = "flow"

    def evaluate(self, event: VehicleEvent, site: SiteRules) -> Finding | None:
        if event.direction != "against":
            return None
        return self._finding(event, event.crossed_stop_line_at or _middle(event), direction=event.direction)


REGISTRY: tuple[Rule, ...] = (OverSpeed(), RedLight(), StopLine(), WrongWay())
CODES: tuple[str, ...] = tuple(rule.code for rule in REGISTRY)
DEFAULT_CODES: tuple[str, ...] = tuple(rule.code for rule in REGISTRY if rule.default_on)


def enabled_codes(requested: Iterable[str] | None, available: Iterable[str]) -> frozenset[str]:
    """The rules a site runs: those its file names (`rules:`, each a code of the registry), else every
    rule on by default (`Rule.default_on`) whose data (`Rule.needs`) is among what the site has
    (`available`)."""
    if requested is not None:
        unknown = sorted(set(requested) - set(CODES))
        if unknown:
            raise ConfigError(f"rules: unknown rule {', '.join(unknown)} (known: {', '.join(CODES)})")
        return frozenset(requested)
    available = set(available)
    return frozenset(
        rule.code for rule in REGISTRY if rule.default_on and (rule.needs is None or rule.needs in available)
    )


def evaluate_all(event: VehicleEvent, site: SiteRules) -> list[Finding]:
    """Every enabled rule's finding for this event, in registry order."""
    findings = []
    for rule in REGISTRY:
        if rule.code in site.enabled:
            finding = rule.evaluate(event, site)
            if finding is not None:
                findings.append(finding)
    return findings


def _seconds_into_red(event: VehicleEvent) -> float | None:
    if (
        event.crossed_stop_line_at is None
        or event.signal_state_at_crossing != "red"
        or event.red_onset_at is None
    ):
        return None
    return (event.crossed_stop_line_at - event.red_onset_at).total_seconds()


def _middle(event: VehicleEvent) -> datetime:
    return event.first_seen + (event.last_seen - event.first_seen) / 2
