#!/usr/bin/env python3
"""A peer open-loop load generator for comparing `starling bench` against, in the style of vLLM's
benchmark_serving: one asyncio task per request on aiohttp, streaming completions, every chunk timestamped with
time.perf_counter(). Arrivals are Poisson, computed ahead and kept against absolute deadlines (so the peer does
not drift, which relative sleeps would). Prints one JSON object with the same figures starling bench reports.

    peer_loadgen.py --url http://127.0.0.1:8000 --model m --rate 200 --duration 10 --input-len 16 --output-len 16
"""
import argparse
import asyncio
import json
import random
import statistics
import time

import aiohttp

WORDS = "time year way day man thing life child world state group hand part place case week".split()


def percentile(values, p):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def send(session, url, body, scheduled, start, results):
    sent = time.perf_counter() - start
    chunks = []
    error = None
    try:
        async with session.post(url, json=body) as response:
            if response.status != 200:
                error = f"http_{response.status}"
                await response.read()
            else:
                buffer = b""
                async for data in response.content.iter_any():
                    now = time.perf_counter() - start
                    buffer += data
                    while b"\n\n" in buffer:
                        event, buffer = buffer.split(b"\n\n", 1)
                        if event.startswith(b"data: ") and b'"text":"' in event and b'"text":""' not in event:
                            chunks.append(now)
    except Exception as exc:  # noqa: BLE001 - every failure is a counted error
        error = type(exc).__name__
    end = time.perf_counter() - start
    results.append({"scheduled": scheduled, "sent": sent, "chunks": chunks, "end": end, "error": error})


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--duration", type=float, required=True)
    parser.add_argument("--input-len", type=int, default=16)
    parser.add_argument("--output-len", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    arrivals = []
    t = 0.0
    while True:
        t += rng.expovariate(args.rate)
        if t >= args.duration:
            break
        arrivals.append(t)
    url = args.url.rstrip("/") + "/v1/completions"
    results = []
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=300)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        tasks = []
        start = time.perf_counter()
        for scheduled in arrivals:
            delay = start + scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            prompt = " ".join(rng.choice(WORDS) for _ in range(args.input_len))
            body = {
                "model": args.model, "prompt": prompt, "max_tokens": args.output_len, "ignore_eos": True,
                "stream": True, "stream_options": {"include_usage": True},
            }
            tasks.append(asyncio.create_task(send(session, url, body, scheduled, start, results)))
        await asyncio.gather(*tasks)

    ok = [r for r in results if r["error"] is None and r["chunks"]]
    ttft = [r["chunks"][0] - r["sent"] for r in ok]
    itl = [b - a for r in ok for a, b in zip(r["chunks"], r["chunks"][1:])]
    lag = [r["sent"] - r["scheduled"] for r in results]
    print(json.dumps({
        "requests": len(results), "succeeded": len(ok), "requestThroughput": len(ok) / args.duration,
        "ttftMean": statistics.fmean(ttft) if ttft else None, "ttftP50": percentile(ttft, 50),
        "ttftP99": percentile(ttft, 99), "itlMean": statistics.fmean(itl) if itl else None,
        "sendLagP50": percentile(lag, 50), "sendLagP99": percentile(lag, 99), "sendLagMax": max(lag) if lag else None,
    }))


if __name__ == "__main__":
    asyncio.run(main())
