"""The item page's metadata form: built from an item detail's ``fields`` and ``locks`` (the
metadata service's contract), rendered by the real template, submitted back, turned into
the edit of only what changed, and saved through the metadata service's own verb."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.datastructures import FormData, UploadFile

from relayarr.jobqueue import JSONObject
from relayarr.library.db import ItemKind
from relayarr.pipeline.edits import item_metadata
from relayarr.web.dashboard.editing import EditRefused, changes, edit_form
from relayarr.web.dashboard.state import template_environment
from web.library_dash import LibraryDash, library_dash, poster_files

Pairs = list[tuple[str, str | UploadFile]]  # a form as Starlette reads it
DOCUMENT: JSONObject = {
    "fields": {
        "title": "Arrival",
        "plot": "A linguist is recruited.",
        "year": 2016,
        "genres": ["Drama", "Science Fiction"],
        "tagline": None,
    },
    "locks": {"title": True, "plot": False, "poster": True},
}


def submitted(page: str) -> Pairs:
    """What a browser sends for the edit form on ``page`` as it stands."""
    form = re.search(r'<form method="post" action="[^"]+/edit"[^>]*>(.*?)</form>', page, re.S)
    assert form is not None
    pairs: Pairs = []
    tags = r"<textarea([^>]*)>(.*?)</textarea>|<input([^>]*)>"
    for tag in re.finditer(tags, form.group(1), re.S):
        area, text, attributes = tag.groups()
        name = re.search(r'name="([^"]*)"', area or attributes)
        if name is None:
            continue
        if area is not None:
            pairs.append((html.unescape(name.group(1)), html.unescape(text)))
            continue
        if 'type="checkbox"' in attributes and " checked" not in attributes:
            continue
        value = re.search(r'value="([^"]*)"', attributes)
        shown = html.unescape(value.group(1)) if value else "on"
        pairs.append((html.unescape(name.group(1)), shown))
    return pairs


def edited(pairs: Pairs, **values: str | None) -> FormData:
    """The form with ``values`` typed in (a value of None unticks that lock box)."""
    result: Pairs = []
    for key, value in pairs:
        name = key.removeprefix("f:")
        if key.startswith("f:") and name in values and values[name] is not None:
            value = str(values[name])
        if key.startswith("lock:") and values.get(key, "") is None:
            continue
        result.append((key, value))
    return FormData(result)


def test_the_form_follows_the_detail_fields_and_locks() -> None:
    form = edit_form(DOCUMENT)
    assert form is not None
    shown = {field.name: (field.value, field.kind, field.locked) for field in form.fields}
    assert shown == {
        "title": ("Arrival", "text", True),
        "plot": ("A linguist is recruited.", "long", False),
        "year": ("2016", "number", False),
        "tagline": ("", "long", False),
    }
    assert form.readonly == (("genres", '["Drama", "Science Fiction"]', False),)
    assert form.other_locks == (("poster", True),)
    assert edit_form({"item": {}, "files": []}) is None  # no metadata service yet


def test_only_what_changed_is_sent() -> None:
    form = edit_form(DOCUMENT)
    assert form is not None
    base: Pairs = [("csrf", "t")]
    for field in form.fields:
        base += [(f"f:{field.name}", field.value), (f"was:{field.name}", field.value)]
        base += [(f"type:{field.name}", field.kind), (f"waslock:{field.name}", "01"[field.locked])]
        if field.locked:
            base.append((f"lock:{field.name}", "on"))
    base += [("waslock:poster", "1"), ("lock:poster", "on")]
    assert changes(FormData(base)) == {}
    assert changes(edited(base, plot="Better.\r\nTwo lines.", year="2017")) == {
        "fields": {"plot": "Better.\nTwo lines.", "year": 2017}
    }
    assert changes(edited(base, **{"lock:poster": None, "lock:title": None})) == {
        "locks": {"title": False, "poster": False}
    }
    assert changes(edited(base, year="")) == {"fields": {"year": None}}
    with pytest.raises(EditRefused, match="year must be a whole number"):
        changes(edited(base, year="twenty"))
    with pytest.raises(EditRefused, match="is not a field name"):
        changes(FormData([("was:Bad Name", ""), ("f:Bad Name", "x")]))


@pytest.fixture
async def dash(tmp_path: Path) -> AsyncIterator[LibraryDash]:
    async with library_dash(tmp_path) as running:
        yield running


async def rendered_item_page(dash: LibraryDash, movie: int, document: JSONObject) -> str:
    """The real item template with the detail and the form a metadata-aware detail gives."""
    detail = await dash.store.get_movie(movie)
    assert detail is not None
    locks = document.get("locks")
    assert isinstance(locks, dict)
    return template_environment().get_template("item.html").render(
        nav=(), active="library", session=None, csrf="token", flash=None,
        detail=detail, item=detail.item, kind="movie", poster=None, files=[], assets=[],
        locks=sorted(locks.items()), form=edit_form(document), now=datetime.now(UTC),
    )  # fmt: skip


async def test_the_rendered_form_round_trips_to_the_patch_body(dash: LibraryDash) -> None:
    movie, _ = await dash.movie("Arrival (2016)", poster_files())
    hostile: JSONObject = {
        "fields": {"title": '"><script>alert(1)</script>', "plot": "</textarea><b>x</b>"},
        "locks": {"title": True},
    }
    page = await rendered_item_page(dash, movie, hostile)
    assert "<script>alert(1)" not in page
    assert "</textarea><b>" not in page
    pairs = submitted(page)
    assert changes(FormData(pairs)) == {}  # the values survive the page exactly
    assert changes(edited(pairs, title="Arrival")) == {"fields": {"title": "Arrival"}}
    assert '<span class="chip lock">title</span>' in page


async def test_saving_applies_the_edit_through_the_metadata_verb(dash: LibraryDash) -> None:
    movie, _ = await dash.movie("Arrival (2016)", poster_files())
    form = {"was:title": "Arrival", "f:title": "Arrival!", "type:title": "text"}
    form |= {"waslock:poster": "0", "lock:poster": "on"}
    response = await dash.post(f"/library/movie/{movie}/edit", form)
    assert response.status_code == 303
    assert response.headers["location"] == f"/library/movie/{movie}"
    metadata = await item_metadata(dash.library, ItemKind.MOVIE, movie)
    assert metadata["locks"] == ["poster", "title"]
    fields = metadata["fields"]
    assert isinstance(fields, dict)
    assert fields["title"] == "Arrival!"
    page = await dash.client.get(f"/library/movie/{movie}")
    assert "Saved title. Locked: poster, title." in page.text

    unchanged = await dash.post(f"/library/movie/{movie}/edit", {"was:title": "A", "f:title": "A"})
    assert unchanged.status_code == 303
    assert "Nothing changed." in (await dash.client.get(f"/library/movie/{movie}")).text
    assert (await dash.client.post(f"/library/movie/{movie}/edit", data=form)).status_code == 403


async def test_an_edit_the_metadata_verb_refuses_is_not_saved(dash: LibraryDash) -> None:
    movie, _ = await dash.movie("Arrival (2016)", poster_files())
    form = {"was:nonsense": "", "f:nonsense": "x", "type:nonsense": "text"}
    response = await dash.post(f"/library/movie/{movie}/edit", form)
    assert response.status_code == 303
    page = (await dash.client.get(f"/library/movie/{movie}")).text
    assert "Not saved: fields.nonsense: unknown field" in html.unescape(page)
    assert (await item_metadata(dash.library, ItemKind.MOVIE, movie))["locks"] == []
    missing = await dash.post("/library/movie/999/edit", form)
    assert missing.status_code == 404
