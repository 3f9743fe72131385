"""A bounded HTTP/1.1 load generator for bench/filing.py: N keep-alive connections, each sending its
next request as soon as the previous answer is read, for a fixed time after a warm-up.

Runs in its own process so its CPU is not the server's. Plain asyncio streams, no dependency.

    python bench/loadgen.py --port 8765 --mode bare --clients 50 --seconds 20 --out /tmp/bare.json
    python bench/loadgen.py --port 8765 --mode file --tokens /tmp/tokens.json --clients 50 --seconds 20 --out ...

`--mode file` posts a new event per request (a fresh client_uuid, the worker's own grid, a random
category, urgency, point and address) with one of the API tokens in the tokens file; the client
uuids answered 201 are written to the output so the caller can check that each became one event.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
import uuid

BARE_PATH = "/bench/bare/"
FILE_PATH = "/api/v1/events/"
URGENCIES = ("normal", "normal", "normal", "urgent", "critical")
WORDS = ("路灯", "井盖", "积水", "垃圾", "噪音", "占道", "漏水", "纠纷", "隐患", "围挡", "电线", "堆物")


class Workers:
    """The filing bodies: one grid worker (token, grid, centroid) and category per request."""

    def __init__(self, path: str, seed: int):
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        self.workers = data["workers"]
        self.categories = data["categories"]
        self.random = random.Random(seed)

    def request(self, host: str) -> tuple[bytes, str]:
        r = self.random
        worker = r.choice(self.workers)
        client_uuid = str(uuid.uuid4())
        body = {
            "client_uuid": client_uuid,
            "category": r.choice(self.categories),
            "title": f"{r.choice(WORDS)}{r.choice(WORDS)}问题 {r.randrange(10_000)}",
            "description": "巡查发现：" + "".join(r.choice(WORDS) for _ in range(r.randrange(4, 40))),
            "urgency": r.choice(URGENCIES),
            "region": worker["grid"],
        }
        if worker.get("lat") is not None and r.random() < 0.8:
            body["lat"] = round(worker["lat"] + r.uniform(-0.004, 0.004), 6)
            body["lng"] = round(worker["lng"] + r.uniform(-0.004, 0.004), 6)
        if r.random() < 0.5:
            body["address"] = f"{r.randrange(1, 300)}号 {r.choice(WORDS)}旁"
        payload = json.dumps(body, ensure_ascii=False).encode()
        head = (
            f"POST {FILE_PATH} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Token {worker['token']}\r\n"
            f"Content-Type: application/json\r\nAccept: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        ).encode()
        return head + payload, client_uuid


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """(status, body, server keeps the connection open)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            parts.append(chunk[:-2])
        body = b"".join(parts)
    else:
        body = await reader.read()
        return status, body, False
    keep = headers.get("connection", "").lower() != "close"
    return status, body, keep


async def client(args, workers: Workers | None, results: dict, started: float, warm_until: float, stop: float):
    host = f"{args.host}:{args.port}"
    bare = f"GET {BARE_PATH} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\n\r\n".encode()
    reader = writer = None
    while time.perf_counter() < stop:
        if writer is None:
            try:
                reader, writer = await asyncio.open_connection(args.host, args.port)
            except OSError:
                results["connect_errors"] += 1
                await asyncio.sleep(0.05)
                continue
        request, client_uuid = workers.request(host) if workers else (bare, None)
        sent = time.perf_counter()
        try:
            writer.write(request)
            status, body, keep = await asyncio.wait_for(read_response(reader), args.timeout)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            results["io_errors"] += 1
            writer.close()
            reader = writer = None
            continue
        done = time.perf_counter()
        if sent >= warm_until:
            results["latencies"].append(done - sent)
            results["statuses"][str(status)] = results["statuses"].get(str(status), 0) + 1
            if client_uuid and status == 201:
                results["created"].append(client_uuid)
            elif client_uuid and len(results["error_samples"]) < 5 and status >= 300:
                results["error_samples"].append([status, body[:300].decode("utf-8", "replace")])
        elif client_uuid and status == 201:
            results["warmup_created"].append(client_uuid)
        if not keep:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


async def run(args) -> dict:
    workers = Workers(args.tokens, args.seed) if args.mode == "file" else None
    results = {
        "latencies": [],
        "statuses": {},
        "created": [],
        "warmup_created": [],
        "error_samples": [],
        "io_errors": 0,
        "connect_errors": 0,
    }
    started = time.perf_counter()
    warm_until = started + args.warmup
    stop = warm_until + args.seconds
    await asyncio.gather(*(client(args, workers, results, started, warm_until, stop) for _ in range(args.clients)))
    measured = time.perf_counter() - warm_until
    latencies = sorted(results.pop("latencies"))

    def pct(q: float) -> float | None:
        if not latencies:
            return None
        return round(1000 * latencies[min(len(latencies) - 1, int(q * len(latencies)))], 1)

    ok = 201 if args.mode == "file" else 200
    requests = len(latencies)
    return {
        "mode": args.mode,
        "clients": args.clients,
        "seconds": round(measured, 2),
        "requests": requests,
        "rps": round(requests / measured, 1),
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "max_ms": round(1000 * latencies[-1], 1) if latencies else None,
        "errors": requests - results["statuses"].get(str(ok), 0) + results["io_errors"],
        **results,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mode", choices=("bare", "file"), required=True)
    parser.add_argument("--tokens", help="JSON of the grid workers and categories (mode file)")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--timeout", type=float, default=30)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    result = asyncio.run(run(args))
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(result, handle)


if __name__ == "__main__":
    main()
