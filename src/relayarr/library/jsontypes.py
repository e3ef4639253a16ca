"""JSON as the library's results carry it into job results and API answers.

The same shape as :data:`relayarr.jobqueue.JSONValue`, declared here so that loading the
settings (which import the library's value types) does not import the whole queue.
"""

from __future__ import annotations

from typing import TypeAlias

JSONValue: TypeAlias = "str | int | float | bool | list[JSONValue] | dict[str, JSONValue] | None"
JSONObject: TypeAlias = dict[str, JSONValue]

__all__ = ["JSONObject", "JSONValue"]
