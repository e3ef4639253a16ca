"""Path mapping: a path as Radarr or Sonarr sends it, translated to the same place as
relayarr (or a player) sees it.

>>> mapper = PathMapper([PathRule("/movies", "/srv/media/movies", source="radarr")])
>>> mapper.map("/movies/Arrival (2016)/Arrival.mkv", source="radarr").path
'/srv/media/movies/Arrival (2016)/Arrival.mkv'

The rules:

- A rule matches whole path components: ``/movies`` matches ``/movies/x`` but never
  ``/movies-4k/x``. Of the rules that match, the longest ``from`` wins; on a tie the rule
  for the more specific source, then the earlier rule.
- A rule for ``radarr`` applies to ``radarr`` and every ``radarr/<instance>``; a rule for
  ``radarr/4k`` only to that instance; a rule without a source to every source, and it is
  the only kind that applies when :meth:`PathMapper.map` is given no source (the players
  map local paths to their own view that way).
- Paths may be POSIX (``/movies``), Windows drive (``D:\\Movies``, ``d:/Movies``: either
  slash, drive letter in any case), UNC (``\\\\nas\\media`` or ``//nas/media``; server and
  share in any case, as SMB treats them) or URLs (``nfs://nas/movies``). The remainder is
  joined in the target's style: ``D:\\Movies\\X\\x.mkv`` onto ``/srv/movies`` gives
  ``/srv/movies/X/x.mkv``; onto ``smb://nas/movies`` gives ``smb://nas/movies/X/x.mkv``.
- ``.`` and ``..`` are resolved by name before matching, so ``/movies/../etc`` is matched
  as ``/etc``; whether the result is inside a library root is checked afterwards
  (:mod:`relayarr.library.roots`).
- No matching rule raises :class:`~relayarr.errors.NoPathMapping` naming the path and every
  rule tried: a path is never passed through unmapped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from relayarr.errors import NoPathMapping
from relayarr.library.jsontypes import JSONObject

_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://([^/]*)(.*)$", re.DOTALL)
_UNC = re.compile(r"^[\\/]{2}([^\\/]+)[\\/]+([^\\/]+)(.*)$", re.DOTALL)
_DRIVE = re.compile(r"^([A-Za-z]):(?:[\\/](.*))?$", re.DOTALL)
_WINDOWS_SEPARATORS = re.compile(r"[\\/]")


class Style(StrEnum):
    """How a path is written, which decides its separator and how its start compares."""

    POSIX = "posix"
    WINDOWS = "windows"
    URL = "url"


@dataclass(frozen=True, slots=True)
class SplitPath:
    """A path taken apart: its start (``/``, ``D:``, ``\\\\nas\\media``, ``nfs://nas``) and
    its components, with ``.`` and ``..`` resolved."""

    style: Style
    anchor: str
    parts: tuple[str, ...]

    @property
    def anchor_key(self) -> str:
        """The start as it compares: drive letters, UNC servers and shares and URL schemes
        and hosts are case-insensitive everywhere."""
        return self.anchor if self.style is Style.POSIX else self.anchor.lower()

    def join(self, tail: Iterable[str]) -> str:
        """This path with ``tail`` appended, written in this path's style."""
        parts = [*self.parts, *tail]
        if self.style is Style.POSIX:
            return "/" + "/".join(parts)
        if self.style is Style.URL:
            return self.anchor + "/" + "/".join(parts)
        sep = "\\"
        if self.anchor.endswith(":"):  # a drive: its root needs the separator
            return self.anchor + sep + sep.join(parts)
        return sep.join([self.anchor, *parts])


def split_path(text: str) -> SplitPath | None:
    """Take an absolute path or URL apart; ``None`` for a relative path."""
    if match := _URL.match(text):
        scheme, host, rest = match.groups()
        return SplitPath(Style.URL, f"{scheme}://{host}", _clean(rest.split("/")))
    if match := _UNC.match(text):
        server, share, rest = match.groups()
        return SplitPath(
            Style.WINDOWS, f"\\\\{server}\\{share}", _clean(_WINDOWS_SEPARATORS.split(rest))
        )
    if match := _DRIVE.match(text):
        drive, rest = match.groups()
        return SplitPath(
            Style.WINDOWS, f"{drive.upper()}:", _clean(_WINDOWS_SEPARATORS.split(rest or ""))
        )
    if text.startswith("/"):
        return SplitPath(Style.POSIX, "/", _clean(text.split("/")))
    return None


def _clean(parts: Iterable[str]) -> tuple[str, ...]:
    kept: list[str] = []
    for part in parts:
        if part in ("", "."):
            continue
        if part == "..":
            if kept:
                kept.pop()
            continue
        kept.append(part)
    return tuple(kept)


@dataclass(frozen=True, slots=True)
class PathRule:
    """One mapping: paths under ``from_path`` (as ``source`` sends them) live under
    ``to_path``. ``source`` ``None`` applies to every source."""

    from_path: str
    to_path: str
    source: str | None = None
    case_insensitive: bool = False

    def describe(self) -> str:
        """``radarr: /movies -> /srv/media/movies``, for messages and traces."""
        who = self.source or "any source"
        flag = " (ignoring case)" if self.case_insensitive else ""
        return f"{who}: {self.from_path} -> {self.to_path}{flag}"

    def to_json(self) -> JSONObject:
        """The rule as JSON, keyed as in the config file."""
        return {
            "source": self.source,
            "from": self.from_path,
            "to": self.to_path,
            "case_insensitive": self.case_insensitive,
        }


@dataclass(frozen=True, slots=True)
class MappedPath:
    """The outcome of a mapping: the path as sent, as mapped, and the rule that did it."""

    original: str
    path: str
    rule: PathRule


class Outcome(StrEnum):
    """What happened to one rule while mapping a path."""

    CHOSEN = "chosen"
    OUTRANKED = "outranked"  # it matched, but a longer or more specific rule won
    NO_MATCH = "no-match"
    OTHER_SOURCE = "other-source"


@dataclass(frozen=True, slots=True)
class RuleTrial:
    """One rule as tried against one path: its outcome and why."""

    rule: PathRule
    outcome: Outcome
    reason: str

    def to_json(self) -> JSONObject:
        return {"rule": self.rule.to_json(), "outcome": self.outcome.value, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class MappingTrace:
    """How a path maps: every rule in order with its outcome, and the result (or ``None``
    with ``problem`` saying why there is none)."""

    path: str
    source: str | None
    trials: tuple[RuleTrial, ...]
    mapped: MappedPath | None
    problem: str | None

    def to_json(self) -> JSONObject:
        """The trace as ``POST /api/v1/mappings/try`` answers it."""
        return {
            "path": self.path,
            "source": self.source,
            "mapped": None if self.mapped is None else self.mapped.path,
            "rule": None if self.mapped is None else self.mapped.rule.to_json(),
            "problem": self.problem,
            "rules": [trial.to_json() for trial in self.trials],
        }


@dataclass(frozen=True, slots=True)
class _Compiled:
    rule: PathRule
    origin: SplitPath | None
    target: SplitPath | None


class PathMapper:
    """Maps paths by an ordered list of :class:`PathRule`; see the module docs for the rules.

    Rules whose ``from`` or ``to`` is not an absolute path or URL never match (the trace
    says so); the settings refuse blank ones, not relative ones, since a player's view may
    legitimately be anything its API accepts.
    """

    def __init__(self, rules: Iterable[PathRule]) -> None:
        self._rules = tuple(
            _Compiled(rule, split_path(rule.from_path), split_path(rule.to_path)) for rule in rules
        )

    @property
    def rules(self) -> tuple[PathRule, ...]:
        return tuple(compiled.rule for compiled in self._rules)

    def map(self, path: str, source: str | None = None) -> MappedPath:
        """``path`` as seen through the best rule for ``source``.

        Raises :class:`~relayarr.errors.NoPathMapping` naming the path and each rule tried.
        """
        trace = self.explain(path, source)
        if trace.mapped is None:
            tried = "; ".join(f"[{t.rule.describe()}] {t.reason}" for t in trace.trials)
            who = source or "any source"
            raise NoPathMapping(
                f"no mapping for {path!r} from {who}: {trace.problem}"
                + (f"; rules tried: {tried}" if tried else "")
            )
        return trace.mapped

    def explain(self, path: str, source: str | None = None) -> MappingTrace:
        """How ``path`` from ``source`` maps: every rule's outcome, and the result if any."""
        who = source.lower() if source else None
        split = split_path(path)
        if split is None:
            return MappingTrace(path, who, (), None, "the path is not absolute")
        verdicts = [
            _judge(index, compiled, split, who) for index, compiled in enumerate(self._rules)
        ]
        matching = [verdict for verdict in verdicts if verdict.target is not None]
        if not matching:
            problem = "no rule matches" if self._rules else "no mapping rules are configured"
            trials = tuple(RuleTrial(v.rule, v.outcome, v.reason) for v in verdicts)
            return MappingTrace(path, who, trials, None, problem)
        best = max(matching, key=lambda verdict: verdict.rank)
        assert best.target is not None  # every matching verdict has one
        mapped = MappedPath(path, best.target.join(split.parts[best.rank[0] :]), best.rule)
        lost = f", but [{best.rule.describe()}] is longer, more specific or earlier"
        trials = tuple(
            RuleTrial(v.rule, Outcome.CHOSEN, v.reason)
            if v is best
            else RuleTrial(v.rule, v.outcome, v.reason + (lost if v.target else ""))
            for v in verdicts
        )
        return MappingTrace(path, who, trials, mapped, None)


@dataclass(frozen=True, slots=True)
class _Verdict:
    rule: PathRule
    outcome: Outcome
    reason: str
    target: SplitPath | None = None  # set when the rule matches
    rank: tuple[int, int, int] = (0, 0, 0)  # matched parts, source specificity, -order


def _judge(index: int, compiled: _Compiled, path: SplitPath, source: str | None) -> _Verdict:
    rule = compiled.rule
    specificity = _source_rank(rule.source, source)
    if specificity is None:
        return _Verdict(
            rule, Outcome.OTHER_SOURCE, f"for {rule.source}, not {source or 'any source'}"
        )
    mismatch = _mismatch(compiled, path)
    if mismatch is not None or compiled.origin is None or compiled.target is None:
        return _Verdict(rule, Outcome.NO_MATCH, mismatch or "")
    depth = len(compiled.origin.parts)
    reason = f"matched {depth} part(s)"
    return _Verdict(rule, Outcome.OUTRANKED, reason, compiled.target, (depth, specificity, -index))


def _source_rank(rule_source: str | None, source: str | None) -> int | None:
    """How specifically a rule's source fits: 2 same instance, 1 the app, 0 any source;
    ``None`` when it does not apply."""
    if rule_source is None:
        return 0
    if source is None:
        return None
    rule_source = rule_source.lower()
    if rule_source == source:
        return 2 if "/" in rule_source else 1
    if "/" not in rule_source and source.startswith(rule_source + "/"):
        return 1
    return None


def _mismatch(compiled: _Compiled, path: SplitPath) -> str | None:
    """Why the rule's ``from`` does not cover ``path``; ``None`` when it does."""
    origin, rule = compiled.origin, compiled.rule
    if origin is None:
        return f"from {rule.from_path!r} is not an absolute path"
    if compiled.target is None:
        return f"to {rule.to_path!r} is not an absolute path or URL"
    if origin.style is not path.style or origin.anchor_key != path.anchor_key:
        return f"the path starts at {path.anchor}, the rule at {origin.anchor}"
    if len(origin.parts) > len(path.parts):
        return "the path is shorter than the rule's from"
    head = path.parts[: len(origin.parts)]
    if rule.case_insensitive:
        same = [a.casefold() == b.casefold() for a, b in zip(origin.parts, head, strict=True)]
    else:
        same = [a == b for a, b in zip(origin.parts, head, strict=True)]
    if not all(same):
        index = same.index(False)
        return f"part {index + 1} differs: {head[index]!r} is not {origin.parts[index]!r}"
    return None


__all__ = [
    "MappedPath",
    "MappingTrace",
    "Outcome",
    "PathMapper",
    "PathRule",
    "RuleTrial",
    "SplitPath",
    "Style",
    "split_path",
]
