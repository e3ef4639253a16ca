"""The players page's last test of each player, kept in memory for the page to show."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from relayarr.players.report import PlayerReport


@dataclass(frozen=True, slots=True)
class Checked:
    """A player's test result and when it was made."""

    report: PlayerReport
    at: datetime


@dataclass(eq=False)
class PlayerChecks:
    """The latest test of each player (by name), shared by every session of the app: a
    test is a fact about the player, not about who pressed the button."""

    latest: dict[str, Checked] = field(default_factory=dict)

    def record(self, report: PlayerReport, at: datetime) -> Checked:
        checked = Checked(report, at)
        self.latest[report.name] = checked
        return checked

    def get(self, name: str) -> Checked | None:
        return self.latest.get(name)


__all__ = ["Checked", "PlayerChecks"]
