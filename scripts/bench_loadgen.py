#!/usr/bin/env python3
"""Drives scripts/bench-loadgen: for each rate, `starling bench` then the peer, against the same model server.

A client sustains a rate when every request succeeds, its sends keep the schedule (p99 send lag at most 5 ms)
and its TTFT exceeds the server's by at most 5 ms. Timing error is each client's mean TTFT (and mean inter-token gap) minus the server's own, from the server's
vLLM histograms over the same requests: what the client adds by measuring over HTTP on loopback, an upper bound
on its measurement error. CPU is the client process's user+system time per 1,000 requests.
"""
import argparse
import json
import os
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

SERVER_METRICS = {
    "ttft_sum": "vllm:time_to_first_token_seconds_sum", "ttft_count": "vllm:time_to_first_token_seconds_count",
    "itl_sum": "vllm:inter_token_latency_seconds_sum", "itl_count": "vllm:inter_token_latency_seconds_count",
}


def scrape(base):
    text = urllib.request.urlopen(base + "/metrics", timeout=10).read().decode()
    values = {}
    for key, name in SERVER_METRICS.items():
        match = re.search(r"^" + re.escape(name) + r"\{[^}]*\} (\S+)$", text, re.M)
        values[key] = float(match.group(1)) if match else 0.0
    return values


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_client(command):
    before = children_cpu()
    started = time.monotonic()
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return output, children_cpu() - before, time.monotonic() - started


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--starling", required=True)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("rates", nargs="*", type=float, default=[200, 400, 600, 800, 1000])
    args = parser.parse_args()

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [args.starling, "model-server", "--profile", "tiny", "--port", str(port), "--max-num-seqs", "1024"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        model = json.load(urllib.request.urlopen(base + "/v1/models"))["data"][0]["id"]
        rows = []
        peer = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peer_loadgen.py")
        for rate in args.rates:
            for tool in ["starling bench", "python aiohttp peer"]:
                m0 = scrape(base)
                if tool == "starling bench":
                    report_path = tempfile.mktemp(suffix=".json")
                    _, cpu, _ = run_client([
                        args.starling, "bench", "--url", base, "--model", model, "--rate", str(rate),
                        "--duration", str(args.duration), "--input-len", "16", "--output-len", "16",
                        "--json", report_path])
                    overall = json.load(open(report_path))["overall"]
                    os.unlink(report_path)
                    figures = {
                        "requests": overall["requests"], "succeeded": overall["succeeded"],
                        "requestThroughput": overall["requestThroughput"],
                        "ttftMean": overall["timeToFirstToken"]["mean"], "ttftP99": overall["timeToFirstToken"]["p99"],
                        "itlMean": overall["interTokenLatency"]["mean"], "sendLagP50": overall["sendLag"]["p50"],
                        "sendLagP99": overall["sendLag"]["p99"], "sendLagMax": overall["sendLag"]["max"],
                    }
                else:
                    output, cpu, _ = run_client([
                        sys.executable, peer, "--url", base, "--model", model, "--rate", str(rate),
                        "--duration", str(args.duration), "--input-len", "16", "--output-len", "16"])
                    figures = json.loads(output.strip().splitlines()[-1])
                m1 = scrape(base)
                server_ttft = (m1["ttft_sum"] - m0["ttft_sum"]) / max(1, m1["ttft_count"] - m0["ttft_count"])
                server_itl = (m1["itl_sum"] - m0["itl_sum"]) / max(1, m1["itl_count"] - m0["itl_count"])
                # Kept up: every request answered, sends on schedule, and the client adds little to the server's TTFT.
                sustained = (
                    figures["succeeded"] == figures["requests"] and figures["sendLagP99"] <= 0.005
                    and figures["ttftMean"] is not None and figures["ttftMean"] - server_ttft <= 0.005)
                rows.append((rate, tool, figures, cpu, server_ttft, server_itl, sustained))
                print(f"rate {rate:g}: {tool} done", file=sys.stderr)
        header = ("rate/s", "client", "ok/sent", "achieved/s", "send lag p50/p99/max ms", "TTFT mean/p99 ms",
                  "TTFT error ms", "ITL error ms", "client CPU s per 1k req", "sustained")
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for rate, tool, f, cpu, s_ttft, s_itl, ok in rows:
            ms = lambda v: f"{v * 1000:.2f}" if v is not None else "-"  # noqa: E731
            print("| " + " | ".join([
                f"{rate:g}", tool, f"{f['succeeded']}/{f['requests']}", f"{f['requestThroughput']:.1f}",
                f"{ms(f['sendLagP50'])} / {ms(f['sendLagP99'])} / {ms(f['sendLagMax'])}",
                f"{ms(f['ttftMean'])} / {ms(f['ttftP99'])}", ms(f["ttftMean"] - s_ttft) if f["ttftMean"] else "-",
                ms(f["itlMean"] - s_itl) if f["itlMean"] else "-", f"{1000 * cpu / max(1, f['requests']):.2f}",
                "yes" if ok else "no"]) + " |")
        for tool in ["starling bench", "python aiohttp peer"]:
            best = max([r[0] for r in rows if r[1] == tool and r[6]], default=None)
            print(f"highest sustained rate, {tool}: {best if best is not None else 'none of those tried'} requests/s")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
