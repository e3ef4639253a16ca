"""The highest webhook rate, measured with wrk: a C load generator, far lighter than ours.

On a 2-CPU machine the load generator shares the CPUs with the server, so a Python client
pushing 2,000 requests/s takes CPU the server could have used. wrk (Debian's ``wrk``
package; ``scripts/ensure-wrk.sh`` installs it) sends the same Radarr body over keep-alive
connections as fast as the server answers: closed loop, so its latency figures are those
of a saturated server, and the figure that matters is the rate it kept up. A Lua script
sets the method, headers and body, and writes every 202's job id to a file so that each
can be matched with a stored job afterwards.

>>> phase = run_wrk(wrk_path(), port, seconds=10, connections=64)  # doctest: +SKIP
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

_SCRIPT = r"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Api-Key"] = "{key}"
local file = io.open("{body}", "rb")
wrk.body = file:read("*a")
file:close()

local threads = {{}}
function setup(thread)
  table.insert(threads, thread)
end

ids = {{}}
others = {{}}
function response(status, headers, body)
  if status == 202 then
    ids[#ids + 1] = body:match('"job_id":(%d+)')
  else
    others[status] = (others[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local out = io.open("{report}", "w")
  out:write(string.format("duration_us %d\n", summary.duration))
  out:write(string.format("requests %d\n", summary.requests))
  local e = summary.errors
  out:write(string.format("socket_errors %d\n", e.connect + e.read + e.write + e.timeout))
  for _, p in ipairs({{50, 90, 99, 99.9}}) do
    out:write(string.format("p%s_us %d\n", p, latency:percentile(p)))
  end
  out:write(string.format("max_us %d\n", latency.max))
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("others")) do
      out:write(string.format("status %d %d\n", status, count))
    end
    for _, id in ipairs(thread:get("ids")) do
      out:write("id " .. id .. "\n")
    end
  end
  out:close()
end
"""


def wrk_path() -> str | None:
    """The wrk executable on the PATH, or None."""
    return shutil.which("wrk")


def run_wrk(
    wrk: str, port: int, seconds: float, connections: int, key: str, body_file: Path
) -> dict[str, Any]:
    """Run wrk against the Radarr webhook route; return the fields of a
    :class:`benchmarks.webhooks.Phase` (``offered`` is 0: wrk offers what is answered)."""
    with tempfile.TemporaryDirectory(prefix="relayarr-wrk-") as tmp:
        script = Path(tmp) / "webhook.lua"
        report = Path(tmp) / "report.txt"
        script.write_text(_SCRIPT.format(key=key, body=body_file.resolve(), report=report))
        argv = [wrk, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
        argv += ["-s", str(script), f"http://127.0.0.1:{port}/api/v1/webhooks/radarr"]
        subprocess.run(argv, capture_output=True, text=True, check=True, timeout=seconds + 120)
        fields: dict[str, float] = {}
        other: dict[str, int] = {}
        ids: list[int] = []
        for line in report.read_text().splitlines():
            name, *values = line.split()
            if name == "id":
                ids.append(int(values[0]))
            elif name == "status":
                other[values[0]] = other.get(values[0], 0) + int(values[1])
            else:
                fields[name] = float(values[0])
    errors = int(fields["socket_errors"])
    if errors:
        other["socket error"] = errors
    elapsed = fields["duration_us"] / 1e6
    answered = int(fields["requests"])
    return {
        "offered": 0.0,
        "seconds": elapsed,
        "sent": answered,
        "answered_202": len(ids),
        "other": other,
        "achieved": answered / elapsed,
        "p50_ms": fields["p50_us"] / 1000,
        "p90_ms": fields["p90_us"] / 1000,
        "p99_ms": fields["p99_us"] / 1000,
        "p999_ms": fields["p99.9_us"] / 1000,
        "max_ms": fields["max_us"] / 1000,
        "job_ids": ids,
    }


__all__ = ["run_wrk", "wrk_path"]
