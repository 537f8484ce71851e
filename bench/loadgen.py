"""The intake benchmark's load generator: one asyncio process, no Django.

    python -m bench.loadgen SPEC.json RESULT.json

SPEC names the base URL, the kind of request ("whistle": a valid filing through the case API
with a fresh Idempotency-Key; "ceiling": one row through the benchmark-only endpoint;
"helpdesk": a ticket through django-helpdesk's API, bench.helpdesk), the concurrency, the
seconds to run and the filers (API token, grid, the grid's bounding box; for tickets the token,
the address and the queues).
Each of `concurrency` clients sends one request after the other until the time is up; the
requests still running then are awaited and counted. RESULT holds, per request that
succeeded, its latency and the id it created, and the failures by status or transport error.
bench.intake starts this process once per step; it shares the machine's cores with the
servers, so it keeps its own work small (one event loop, pooled connections, no logging).
"""

import asyncio
import json
import random
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp

# Plain complaints that no screening rule refuses (see checklists ScreeningRule keywords).
PROBLEMS = [
    "Rubbish piled up beside the road",
    "Street light out at the corner",
    "Blocked drain floods the lane after rain",
    "Broken railing on the footbridge",
    "Stall blocking the pavement",
    "Smoke from burning leaves in the yard",
    "Pothole in front of the school gate",
    "Unlicensed stall selling cooked food",
    "Bins overflowing next to the market",
    "Dog without a lead chasing children",
    "Loose manhole cover on the main street",
    "Construction waste dumped by the river",
]


def whistle_body(filer: dict[str, Any], items: list[int], serial: str) -> dict[str, Any]:
    """A valid whistle by `filer` in their own grid: a random item, problem and place."""
    min_lat, max_lat, min_lng, max_lng = filer["box"]
    return {
        "item": random.choice(items),
        "description": f"{random.choice(PROBLEMS)} ({serial})",
        "grid": filer["grid"],
        "latitude": round(random.uniform(min_lat, max_lat), 6),
        "longitude": round(random.uniform(min_lng, max_lng), 6),
        "address": f"Benchmark address {serial}",
    }


def ticket_body(filer: dict[str, Any], queues: list[int], serial: str) -> dict[str, Any]:
    """A django-helpdesk ticket by staff member `filer` (bench.helpdesk): a random queue and
    problem, the filer's address as the submitter's (so it mails them, as by default)."""
    problem = random.choice(PROBLEMS)
    return {
        "queue": random.choice(queues),
        "title": f"{problem} ({serial})",
        "description": f"{problem}, reported at benchmark address {serial}.",
        "submitter_email": filer["email"],
        "priority": 3,
    }


async def _client(
    number: int,
    spec: dict[str, Any],
    session: aiohttp.ClientSession,
    deadline: float,
    result: dict[str, Any],
) -> None:
    filers = spec["filers"]
    filer = filers[number % len(filers)]
    url = spec["base_url"] + spec["path"]
    headers = {"Authorization": f"Token {filer['token']}"}
    sent = 0
    while time.perf_counter() < deadline:
        sent += 1
        serial = f"{spec['label']}-{number}-{sent}"
        if spec["kind"] == "whistle":
            body = whistle_body(filer, spec["items"], serial)
            request_headers = {**headers, "Idempotency-Key": str(uuid.uuid4())}
        elif spec["kind"] == "helpdesk":
            body = ticket_body(filer, spec["queues"], serial)
            request_headers = headers
        else:
            body = {"note": serial}
            request_headers = headers
        started = time.perf_counter()
        try:
            async with session.post(url, json=body, headers=request_headers) as response:
                payload = await response.read()
                status = response.status
        except (TimeoutError, aiohttp.ClientError, OSError) as error:
            result["transport_errors"] += 1
            result["error_samples"].append(f"{type(error).__name__}: {error}"[:200])
            continue
        finished = time.perf_counter()
        result["last_finished"] = max(result["last_finished"], finished)
        if 200 <= status < 300:
            try:
                created = json.loads(payload)["id"]
            except (ValueError, KeyError, TypeError):
                result["bad_bodies"] += 1
                continue
            result["latencies_ms"].append((finished - started) * 1000)
            result["ids"].append(created)
        else:
            key = str(status)
            result["statuses"][key] = result["statuses"].get(key, 0) + 1
            if len(result["error_samples"]) < 20:
                result["error_samples"].append(f"{status}: {payload[:200]!r}")


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "latencies_ms": [],
        "ids": [],
        "statuses": {},
        "transport_errors": 0,
        "bad_bodies": 0,
        "error_samples": [],
        "last_finished": 0.0,
    }
    concurrency = spec["concurrency"]
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=spec.get("close", False))
    timeout = aiohttp.ClientTimeout(total=spec.get("timeout", 60))
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started = time.perf_counter()
        deadline = started + spec["seconds"]
        await asyncio.gather(
            *(_client(n, spec, session, deadline, result) for n in range(concurrency))
        )
    result["elapsed"] = max(result.pop("last_finished"), deadline) - started
    return result


def main(argv: list[str]) -> int:
    spec_path, result_path = argv
    spec = json.loads(Path(spec_path).read_text())
    random.seed(spec.get("seed"))
    result = asyncio.run(run(spec))
    Path(result_path).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
