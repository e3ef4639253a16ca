"""The Redis engine's scripts as loaded: each carries the helpers it uses and no others."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from relayarr.jobqueue.storage.redis.scripts import NAMES, load_scripts

SCRIPTS = load_scripts()


@pytest.mark.parametrize("name", NAMES)
def test_no_script_defines_a_top_level_name_twice(name: str) -> None:
    """A script's own definition named like a helper makes the loader carry that helper
    too, and then hides it: a closure made on every call for nothing."""
    names = Counter(re.findall(r"^local (?:function )?(\w+)", SCRIPTS[name].source, re.M))
    assert [defined for defined, times in names.items() if times > 1] == []
