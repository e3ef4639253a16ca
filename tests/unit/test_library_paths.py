"""Path mapping: whole components, longest match, sources and instances, Windows and UNC
sources, URL and Windows targets, case-insensitive rules, and the trace the API shows.
Examples first, then properties (Hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relayarr.errors import NoPathMapping
from relayarr.library.paths import Outcome, PathMapper, PathRule, split_path

RADARR = PathRule("/movies", "/srv/media/movies", source="radarr")


def mapped(rules: list[PathRule], path: str, source: str | None = "radarr") -> str:
    return PathMapper(rules).map(path, source=source).path


def test_maps_a_radarr_path_onto_the_local_folder() -> None:
    result = PathMapper([RADARR]).map("/movies/Arrival (2016)/Arrival.mkv", source="radarr")
    assert result.path == "/srv/media/movies/Arrival (2016)/Arrival.mkv"
    assert result.original == "/movies/Arrival (2016)/Arrival.mkv"
    assert result.rule is RADARR


def test_the_folder_itself_maps_and_trailing_slashes_do_not_matter() -> None:
    rules = [PathRule("/movies/", "/srv/media/movies/", source="radarr")]
    assert mapped(rules, "/movies") == "/srv/media/movies"
    assert mapped(rules, "/movies/") == "/srv/media/movies"
    assert (
        mapped(rules, "/movies//Arrival (2016)/./x.mkv") == "/srv/media/movies/Arrival (2016)/x.mkv"
    )


def test_a_rule_never_matches_part_of_a_component() -> None:
    with pytest.raises(NoPathMapping) as caught:
        PathMapper([RADARR]).map("/movies-4k/Arrival (2016)/a.mkv", source="radarr")
    message = str(caught.value)
    assert "/movies-4k/Arrival (2016)/a.mkv" in message
    assert "radarr: /movies -> /srv/media/movies" in message
    assert "'movies-4k' is not 'movies'" in message


def test_dot_dot_is_resolved_before_matching() -> None:
    with pytest.raises(NoPathMapping):
        PathMapper([RADARR]).map("/movies/../etc/passwd", source="radarr")
    assert mapped([RADARR], "/movies/a/../b/x.mkv") == "/srv/media/movies/b/x.mkv"


def test_the_longest_rule_wins_whatever_the_order() -> None:
    rules = [
        PathRule("/data", "/mnt/data", source="radarr"),
        PathRule("/data/media/movies", "/srv/movies", source="radarr"),
        PathRule("/data/media", "/srv/media", source="radarr"),
    ]
    assert mapped(rules, "/data/media/movies/X/x.mkv") == "/srv/movies/X/x.mkv"
    assert mapped(rules, "/data/media/tv/X") == "/srv/media/tv/X"
    assert mapped(rules, "/data/downloads/x") == "/mnt/data/downloads/x"


def test_app_rules_cover_every_instance_and_an_instance_rule_wins_a_tie() -> None:
    rules = [
        PathRule("/movies", "/srv/4k", source="radarr/4k"),
        PathRule("/movies", "/srv/movies", source="radarr"),
        PathRule("/tv", "/srv/tv", source="sonarr"),
    ]
    assert mapped(rules, "/movies/X", "radarr") == "/srv/movies/X"
    assert mapped(rules, "/movies/X", "radarr/4k") == "/srv/4k/X"
    assert mapped(rules, "/movies/X", "radarr/anime") == "/srv/movies/X"
    assert mapped(rules, "/movies/X", "Radarr/4K") == "/srv/4k/X"  # sources compare folded
    with pytest.raises(NoPathMapping, match="for radarr, not sonarr"):
        PathMapper(rules).map("/movies/X", source="sonarr")


def test_a_longer_app_rule_beats_a_shorter_instance_rule() -> None:
    rules = [
        PathRule("/movies", "/srv/4k", source="radarr/4k"),
        PathRule("/movies/special", "/srv/special", source="radarr"),
    ]
    assert mapped(rules, "/movies/special/X", "radarr/4k") == "/srv/special/X"


def test_rules_without_a_source_apply_to_every_source_and_to_none() -> None:
    rules = [PathRule("/srv/media", "smb://nas/media"), PathRule("/srv", "/x", source="sonarr")]
    assert mapped(rules, "/srv/media/tv/S/e.mkv", None) == "smb://nas/media/tv/S/e.mkv"
    assert mapped(rules, "/srv/media/tv/S/e.mkv", "sonarr") == "smb://nas/media/tv/S/e.mkv"
    # With no source given, rules for a source do not apply.
    with pytest.raises(NoPathMapping, match="for sonarr, not any source"):
        PathMapper(rules).map("/srv/other", source=None)


def test_equal_rules_prefer_the_earlier_one() -> None:
    rules = [PathRule("/movies", "/first", "radarr"), PathRule("/movies", "/second", "radarr")]
    assert mapped(rules, "/movies/x") == "/first/x"


@pytest.mark.parametrize(
    "sent",
    [
        "D:\\Movies\\X (2010)\\x.mkv",
        "d:\\Movies\\X (2010)\\x.mkv",
        "D:/Movies/X (2010)/x.mkv",
        "d:/Movies\\X (2010)/x.mkv",
        "D:\\\\Movies\\X (2010)\\\\x.mkv",
    ],
)
def test_windows_drive_paths_map_onto_posix(sent: str) -> None:
    rules = [PathRule("D:\\Movies", "/srv/media/movies", source="radarr")]
    assert mapped(rules, sent) == "/srv/media/movies/X (2010)/x.mkv"


def test_windows_components_are_case_sensitive_unless_the_rule_says_so() -> None:
    rules = [PathRule("D:\\Movies", "/srv/media/movies", source="radarr")]
    with pytest.raises(NoPathMapping, match="'movies' is not 'Movies'"):
        PathMapper(rules).map("d:\\movies\\X\\x.mkv", source="radarr")
    folded = [PathRule("D:\\Movies", "/srv/media/movies", "radarr", case_insensitive=True)]
    assert mapped(folded, "d:\\MOVIES\\X\\x.mkv") == "/srv/media/movies/X/x.mkv"


@pytest.mark.parametrize(
    "sent",
    [
        "\\\\nas\\media\\movies\\X\\x.mkv",
        "//nas/media/movies/X/x.mkv",
        "\\\\NAS\\Media\\movies/X/x.mkv",
    ],
)
def test_unc_paths_map_onto_posix(sent: str) -> None:
    rules = [PathRule("\\\\nas\\media\\movies", "/srv/media/movies", source="radarr")]
    assert mapped(rules, sent) == "/srv/media/movies/X/x.mkv"


def test_a_unc_share_is_not_another_share_or_a_drive() -> None:
    rules = [PathRule("\\\\nas\\media", "/srv/media", source="radarr")]
    with pytest.raises(NoPathMapping, match=r"starts at \\\\nas\\other"):
        PathMapper(rules).map("\\\\nas\\other\\x", source="radarr")
    with pytest.raises(NoPathMapping, match="starts at D:"):
        PathMapper(rules).map("D:\\media\\x", source="radarr")


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("nfs://nas/movies", "nfs://nas/movies/X (2010)/x.mkv"),
        ("smb://nas/movies/", "smb://nas/movies/X (2010)/x.mkv"),
        ("nfs://nas", "nfs://nas/X (2010)/x.mkv"),
        ("D:\\Media\\Movies", "D:\\Media\\Movies\\X (2010)\\x.mkv"),
        ("e:/", "E:\\X (2010)\\x.mkv"),
        ("\\\\nas\\movies", "\\\\nas\\movies\\X (2010)\\x.mkv"),
        ("/", "/X (2010)/x.mkv"),
    ],
)
def test_the_remainder_is_joined_in_the_targets_style(target: str, expected: str) -> None:
    assert mapped([PathRule("/movies", target)], "/movies/X (2010)/x.mkv") == expected


def test_unicode_components_pass_through_untouched() -> None:
    name = "Amélie (2001)/Le Fabuleux Destin d\u2019Amélie Poulain 🎬.mkv"
    assert mapped([RADARR], f"/movies/{name}") == f"/srv/media/movies/{name}"


def test_relative_paths_and_no_rules_are_explained() -> None:
    with pytest.raises(NoPathMapping, match="not absolute"):
        PathMapper([RADARR]).map("movies/x", source="radarr")
    with pytest.raises(NoPathMapping, match="no mapping rules are configured"):
        PathMapper([]).map("/movies/x", source="radarr")


def test_a_rule_with_a_relative_side_never_matches_and_says_why() -> None:
    mapper = PathMapper([PathRule("movies", "/srv"), PathRule("/movies", "srv")])
    trace = mapper.explain("/movies/x", "radarr")
    assert trace.mapped is None
    assert [trial.reason for trial in trace.trials] == [
        "from 'movies' is not an absolute path",
        "to 'srv' is not an absolute path or URL",
    ]


def test_explain_shows_every_rule_with_its_outcome() -> None:
    mapper = PathMapper(
        [
            PathRule("/movies", "/srv/4k", source="radarr/4k"),
            PathRule("/movies", "/srv/movies", source="radarr"),
            PathRule("/movies/a", "/srv/a", source="radarr"),
            PathRule("/tv", "/srv/tv", source="sonarr"),
        ]
    )
    trace = mapper.explain("/movies/a/x.mkv", "radarr")
    assert [trial.outcome for trial in trace.trials] == [
        Outcome.OTHER_SOURCE,
        Outcome.OUTRANKED,
        Outcome.CHOSEN,
        Outcome.OTHER_SOURCE,
    ]
    assert trace.mapped is not None
    assert trace.mapped.path == "/srv/a/x.mkv"
    document = trace.to_json()
    assert document["mapped"] == "/srv/a/x.mkv"
    assert document["rule"] == {
        "source": "radarr",
        "from": "/movies/a",
        "to": "/srv/a",
        "case_insensitive": False,
    }
    assert document["problem"] is None
    rules = document["rules"]
    assert isinstance(rules, list)
    assert len(rules) == 4
    outranked = rules[1]
    assert isinstance(outranked, dict)
    assert "radarr: /movies/a -> /srv/a" in str(outranked["reason"])


def test_split_path_recognises_every_style() -> None:
    assert split_path("relative/x") is None
    posix = split_path("/a/b")
    drive = split_path("c:")
    unc = split_path("//Nas/Share")
    url = split_path("nfs://Nas/x")
    assert posix is not None
    assert (posix.anchor, posix.parts) == ("/", ("a", "b"))
    assert drive is not None
    assert (drive.anchor, drive.parts) == ("C:", ())
    assert unc is not None
    assert (unc.anchor, unc.anchor_key) == ("\\\\Nas\\Share", "\\\\nas\\share")
    assert url is not None
    assert (url.anchor, url.parts) == ("nfs://Nas", ("x",))


# -- properties ----------------------------------------------------------------------------

component = st.text(
    alphabet=st.characters(
        exclude_characters="/\\\x00", exclude_categories=["Cs"], min_codepoint=32
    ),
    min_size=1,
    max_size=12,
).filter(lambda part: part not in (".", ".."))
components = st.lists(component, min_size=0, max_size=5)


@given(origin=st.lists(component, min_size=1, max_size=4), target=components, rest=components)
def test_property_a_mapped_path_keeps_its_remainder(
    origin: list[str], target: list[str], rest: list[str]
) -> None:
    rule = PathRule("/" + "/".join(origin), "/" + "/".join(target), source="radarr")
    result = mapped([rule], "/" + "/".join(origin + rest), "radarr")
    assert result == "/" + "/".join(target + rest)


@given(origin=st.lists(component, min_size=1, max_size=4), suffix=component, rest=components)
def test_property_a_longer_last_component_never_matches(
    origin: list[str], suffix: str, rest: list[str]
) -> None:
    rule = PathRule("/" + "/".join(origin), "/target", source="radarr")
    sent = "/" + "/".join([*origin[:-1], origin[-1] + suffix, *rest])
    with pytest.raises(NoPathMapping):
        PathMapper([rule]).map(sent, source="radarr")


@given(
    drive=st.sampled_from("cdeZ"),
    origin=st.lists(component, min_size=1, max_size=3),
    rest=components,
    separators=st.lists(st.sampled_from(["\\", "/"]), min_size=8, max_size=8),
)
def test_property_windows_paths_map_whatever_slashes_and_drive_case(
    drive: str, origin: list[str], rest: list[str], separators: list[str]
) -> None:
    rule = PathRule(f"{drive.upper()}:\\" + "\\".join(origin), "/srv/x", source="sonarr")
    parts = origin + rest
    sent = (
        drive.lower()
        + ":"
        + "".join(separators[i % len(separators)] + part for i, part in enumerate(parts))
    )
    assert mapped([rule], sent, "sonarr") == "/" + "/".join(["srv", "x", *rest])


@given(origin=st.lists(component, min_size=1, max_size=3), rest=components, data=st.data())
def test_property_case_insensitive_rules_ignore_case_and_others_do_not(
    origin: list[str], rest: list[str], data: st.DataObject
) -> None:
    changed = [data.draw(st.sampled_from([part.upper(), part.lower(), part])) for part in origin]
    sent = "/" + "/".join(changed + rest)
    folded = PathRule("/" + "/".join(origin), "/t", case_insensitive=True)
    if all(a.casefold() == b.casefold() for a, b in zip(origin, changed, strict=True)):
        assert mapped([folded], sent) == "/" + "/".join(["t", *rest])
    exact = PathRule("/" + "/".join(origin), "/t")
    if changed == origin:
        assert mapped([exact], sent) == "/" + "/".join(["t", *rest])
    else:
        with pytest.raises(NoPathMapping):
            PathMapper([exact]).map(sent)


@given(
    rules=st.lists(
        st.tuples(st.lists(st.sampled_from("abc"), min_size=1, max_size=3), st.booleans()),
        min_size=1,
        max_size=6,
    ),
    sent=st.lists(st.sampled_from("abc"), min_size=0, max_size=4),
)
def test_property_the_chosen_rule_is_a_longest_matching_prefix(
    rules: list[tuple[list[str], bool]], sent: list[str]
) -> None:
    path_rules = [
        PathRule("/" + "/".join(parts), f"/t{index}", source="radarr" if app else "radarr/4k")
        for index, (parts, app) in enumerate(rules)
    ]
    matching = [
        (len(parts), 2 if not app else 1, -index)
        for index, (parts, app) in enumerate(rules)
        if sent[: len(parts)] == parts
    ]
    trace = PathMapper(path_rules).explain("/" + "/".join(sent), "radarr/4k")
    if not matching:
        assert trace.mapped is None
        return
    best = max(matching)
    assert trace.mapped is not None
    assert trace.mapped.rule is path_rules[-best[2]]
    assert sum(trial.outcome is Outcome.CHOSEN for trial in trace.trials) == 1
