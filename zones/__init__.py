"""The hall's zones and the rules that differ between them."""

from zones.definitions import STANDARD_ZONES, ZoneRules, rules_for

__all__ = ["STANDARD_ZONES", "ZoneRules", "rules_for"]
