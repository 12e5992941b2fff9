#!/usr/bin/env python3
"""Drives scripts/bench-gateway: Starling's gateway next to PyPI's vllm-router and Debian's nginx, in front of the
same simulated replicas, with the same client (`starling bench`), in one run.

quality   Four `starling model-server` replicas (Llama-3.1-8B on H100, time scale 1), a shared-prefix workload
          (32 groups, 2,000-token prefix, 100-token question, 200 output tokens, Poisson arrivals) at 50%, 80% and
          100% of the rate round-robin saturates at. Every router gets fresh replicas (cold caches).
balance   The same replicas with no shared prefixes (lognormal input and output lengths): default vs least-queue.
streaming The CPU each router spends streaming the shared-prefix workload, paired with a peer (Starling's policy
          next to vllm-router's) running at the same time under the same load, as a ratio.
overhead  Small non-streaming requests to a fast simulator: direct, and through each router; added p50/p99 latency
          at a fixed rate, and the most requests/s each sustains.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

MODEL = "meta-llama/Llama-3.1-8B-Instruct"


def free_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def wait_http(url, timeout=60, expect=200):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == expect:
                    return response.read().decode()
        except Exception as error:  # noqa: BLE001 - anything means "not yet"
            last = error
        time.sleep(0.1)
    raise RuntimeError(f"{url} not ready: {last}")


def group_cpu_seconds(pgid):
    """User plus system CPU seconds of every live process in process group `pgid` (a router and its workers)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the command: state, ppid, pgrp, ..., utime (14th field overall), stime (15th).
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


class Processes:
    """Child processes of one configuration, always stopped."""

    def __init__(self, workdir):
        self.children = []
        self.workdir = workdir

    def start(self, name, command):
        log = open(os.path.join(self.workdir, f"{name}.log"), "w")
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.children.append(process)
        return process

    def stop(self):
        for process in reversed(self.children):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in reversed(self.children):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.children = []


def start_replicas(procs, args, count, profile, extra=()):
    urls = []
    for i in range(count):
        port = free_port()
        procs.start(f"replica{i}", [args.starling, "model-server", "--profile", profile, "--port", str(port),
                                    "--seed", str(i), "--log-level", "warning", *extra])
        urls.append(f"http://127.0.0.1:{port}")
    for url in urls:
        wait_http(url + "/health")
    return urls


NGINX_CONF = """
worker_processes auto;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    client_max_body_size 8m;
    # Bodies stay in memory, as they do in the other routers (and nginx's workers may not write the work directory).
    client_body_buffer_size 8m;
    upstream replicas {{
{servers}
        keepalive 512;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://replicas;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_read_timeout 600s;
        }}
    }}
}}
"""


def start_router(procs, args, router, urls):
    """Starts `kind:policy` in front of `urls`; returns its base URL and the header naming the endpoint."""
    kind, policy = router.split(":")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    if kind == "direct":
        return urls[0], None
    if kind in ("starling", "starling-config", "starling-baseline"):
        # starling-config:FILE runs the gateway on a configuration file's only pool (its own profiles and weights);
        # starling-baseline:POLICY runs the --starling-baseline build's gateway, for an A/B of two builds.
        selection = ["--config", policy] if kind == "starling-config" else ["--policy", policy]
        binary = args.starling_baseline if kind == "starling-baseline" else args.starling
        if not binary:
            raise ValueError("starling-baseline needs --starling-baseline PATH")
        command = [binary, "gateway", "--port", str(port), *selection, "--log-level", "warning"]
        for url in urls:
            command += ["--endpoint", url]
        procs.start("router", command)
        wait_http(base + "/health")
        # Ready once the pool has read every endpoint's model list.
        deadline = time.monotonic() + 30
        while MODEL not in wait_http(base + "/v1/models") and time.monotonic() < deadline:
            time.sleep(0.1)
        return base, "x-starling-endpoint"
    if kind == "vllm-router":
        procs.start("router", [args.vllm_router, "--host", "127.0.0.1", "--port", str(port), "--policy", policy,
                               "--log-level", "warning", "--prometheus-port", str(free_port()),
                               "--worker-urls", *urls])
        wait_http(base + "/health")
        return base, None
    if kind == "nginx":
        directory = os.path.join(procs.workdir, "nginx")
        os.makedirs(directory, exist_ok=True)
        servers = "\n".join(f"        server {url[len('http://'):]};" for url in urls)
        path = os.path.join(directory, "nginx.conf")
        with open(path, "w") as conf:
            conf.write(NGINX_CONF.format(dir=directory, servers=servers, port=port))
        procs.start("router", [args.nginx, "-c", path, "-p", directory, "-g", "daemon off;"])
        wait_http(base + "/v1/models")
        return base, None
    raise ValueError(router)


def bench(args, procs, url, header, flags, name):
    return bench_finish(bench_start(args, procs, url, header, flags, name))


def bench_start(args, procs, url, header, flags, name):
    """Starts a `starling bench run`; `bench_finish` waits for it and returns its report."""
    path = os.path.join(procs.workdir, f"{name}.json")
    command = [args.starling, "bench", "run", "--url", url, "--model", MODEL, "--json", path, "--seed", "1", *flags]
    if header:
        command += ["--endpoint-header", header]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return name, path, process


def bench_finish(started):
    name, path, process = started
    stdout, stderr = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"bench failed for {name}:\n{stdout[-2000:]}\n{stderr[-2000:]}")
    with open(path) as report:
        data = json.load(report)
    data.pop("requests", None)
    return data


def slug(router):
    """A file name for a router spec (`kind:policy`, where a policy may be a path)."""
    return router.replace(":", "-").replace("/", "_")


def ms(summary, key, pct):
    value = summary.get(key) or {}
    return value.get(pct, float("nan")) * 1000


def quality(args, workdir):
    """Each router gets fresh replicas and runs every stage, in `--quality-rounds` rounds (the order rotating
    each round, as in `overhead`); with more than one round the figures are medians over the rounds."""
    routers = args.routers.split(",")
    slo = ["--slo-ttft-ms", str(args.slo_ttft_ms), "--slo-tpot-ms", str(args.slo_tpot_ms)]
    workload = ["--shared-prefix", f"32,2000,100,{args.questions}", "--output-len", "200", "--arrivals", "poisson"]
    fractions = [float(f) for f in args.fractions.split(",")]
    saturation = args.saturation
    runs = {(router, fraction): [] for router in routers for fraction in fractions}
    for round_index in range(args.quality_rounds):
        for router in rotated(routers, round_index):
            procs = Processes(workdir)
            try:
                urls = start_replicas(procs, args, 4, "llama-3.1-8b-h100", replica_flags(args))
                url, header = start_router(procs, args, router, urls)
                if saturation is None:
                    # The rate round-robin saturates at: a closed-loop probe through Starling's round-robin policy.
                    if router != "starling:round-robin":
                        raise SystemExit("the first router must be starling:round-robin (it sets the saturation rate)")
                    report = bench(args, procs, url, header,
                                   workload + ["--sweep", "1", "--sweep-probe-concurrency", str(args.probe_concurrency),
                                               "--sweep-probe-duration", str(args.probe_duration),
                                               "--duration", "1"], "probe")
                    saturation = report["sweep"]["saturationRate"]
                    print(f"round-robin saturates at {saturation:.2f} requests/s "
                          f"(closed loop, {args.probe_concurrency} in flight)", flush=True)
                    # Fresh replicas for the measured run.
                    procs.stop()
                    urls = start_replicas(procs, args, 4, "llama-3.1-8b-h100", replica_flags(args))
                    url, header = start_router(procs, args, router, urls)
                stages = []
                for fraction in fractions:
                    stages += ["--stage", f"{saturation * fraction:.3f}:{args.stage_seconds}"]
                name = slug(router) if args.quality_rounds == 1 else f"{slug(router)}-{round_index}"
                # The router's CPU over all stages (its process group: nginx's workers, vllm-router's threads).
                router_group = procs.children[-1].pid
                cpu_before = group_cpu_seconds(router_group)
                report = bench(args, procs, url, header, workload + slo + stages, name)
                cpu = group_cpu_seconds(router_group) - cpu_before
                label = router if args.quality_rounds == 1 else f"round {round_index + 1}  {router}"
                for fraction, stage in zip(fractions, report["stages"]):
                    runs[(router, fraction)].append(stage)
                    print(f"  {label:34} {int(fraction * 100):3}%  {stage_line(stage)}{per_replica(stage)}",
                          flush=True)
                tokens = sum(s["outputTokens"] for s in report["stages"])
                print(f"  {label:34} router CPU {cpu:.1f} s over the stages, {cpu / max(tokens, 1) * 1e6:.0f} us per "
                      "output token", flush=True)
            finally:
                procs.stop()
    rows = [(router, fraction, median_stage(runs[(router, fraction)])) for router in routers for fraction in fractions]
    if args.quality_rounds > 1:
        print(f"\nmedians over {args.quality_rounds} rounds:")
        for router, fraction, stage in rows:
            print(f"  {router:34} {int(fraction * 100):3}%  {stage_line(stage)}", flush=True)
    return saturation, rows


def rotated(routers, round_index):
    """The routers in the order of one round: each round starts one further on, so drift on a shared machine
    hits every router alike."""
    shift = round_index % len(routers)
    return routers[shift:] + routers[:shift]


def stage_line(stage):
    return (f"TTFT p50 {ms(stage, 'timeToFirstToken', 'p50'):8.1f}  p90 {ms(stage, 'timeToFirstToken', 'p90'):8.1f}"
            f"  ITL p90 {ms(stage, 'interTokenLatency', 'p90'):6.1f}  out tok/s {stage['outputTokenThroughput']:8.0f}"
            f"  goodput {stage.get('goodput', 0) * 100:5.1f}%  errors {stage['requests'] - stage['succeeded']}")


def median_stage(stages):
    """The figures the tables use, each the median over rounds (errors summed)."""
    if len(stages) == 1:
        return stages[0]

    def median_of(key, pct):
        return statistics.median((s.get(key) or {}).get(pct, float("nan")) for s in stages)

    return {
        "timeToFirstToken": {pct: median_of("timeToFirstToken", pct) for pct in ("p50", "p90")},
        "interTokenLatency": {"p90": median_of("interTokenLatency", "p90")},
        "outputTokenThroughput": statistics.median(s["outputTokenThroughput"] for s in stages),
        "goodput": statistics.median(s.get("goodput", 0) for s in stages),
        "requests": sum(s["requests"] for s in stages),
        "succeeded": sum(s["succeeded"] for s in stages),
    }


def per_replica(stage):
    """Requests per replica, where the router names the one that served each (Starling does)."""
    counts = sorted(stage.get("endpoints", {}).values())
    return f"  per replica {'/'.join(map(str, counts))}" if counts else ""


def replica_flags(args):
    # The KV cache is cut so that the 32 prefixes (64k tokens) do not fit in one replica but a quarter of them do:
    # the regime where routing by prefix matters. With the H100's full 27k blocks every replica holds every prefix
    # and round-robin hits the cache as often as any policy; and a prefill-bound replica saturates at a rate two
    # CPU cores can stream (a decode-bound one would need far more tokens per second than they push).
    # --startup-seconds 0: these benchmarks measure routing, not the profile's modelled cold start.
    flags = ["--num-gpu-blocks", str(args.num_gpu_blocks), "--startup-seconds", "0"]
    if args.max_num_seqs:
        flags += ["--max-num-seqs", str(args.max_num_seqs)]
    return flags


def balance(args, workdir, saturation_hint):
    routers = args.balance_routers.split(",")
    workload = ["--input-len", "lognormal:1000,0.8,16,4000", "--output-len", "lognormal:200,0.8,4,1000",
                "--arrivals", "poisson"]
    rows = []
    rate = args.balance_rate
    for router in routers:
        procs = Processes(workdir)
        try:
            urls = start_replicas(procs, args, 4, "llama-3.1-8b-h100", replica_flags(args))
            url, header = start_router(procs, args, router, urls)
            report = bench(args, procs, url, header,
                           workload + ["--slo-ttft-ms", str(args.slo_ttft_ms), "--slo-tpot-ms", str(args.slo_tpot_ms),
                                       "--stage", f"{rate}:{args.stage_seconds}"], "balance-" + slug(router))
            stage = report["stages"][0]
            rows.append((router, stage))
            print(f"  {router:26} {rate:6.1f}/s  TTFT p50 {ms(stage, 'timeToFirstToken', 'p50'):8.1f}  p90 "
                  f"{ms(stage, 'timeToFirstToken', 'p90'):8.1f}  ITL p90 {ms(stage, 'interTokenLatency', 'p90'):6.1f}"
                  f"  out tok/s {stage['outputTokenThroughput']:8.0f}  goodput {stage.get('goodput', 0) * 100:5.1f}%",
                  flush=True)
        finally:
            procs.stop()
    return rows


def overhead(args, workdir):
    """Each router (and direct) is measured in `--overhead-rounds` rounds, the order rotating each round, so
    drift on a shared machine hits every router alike; the figures are medians over the rounds, and the added
    latency is taken against the direct figure of the same round."""
    routers = ["direct:-"] + args.overhead_routers.split(",")
    small = ["--no-stream", "--input-len", "16", "--output-len", "1", "--arrivals", "constant"]
    results = {router: [] for router in routers}
    for round_index in range(args.overhead_rounds):
        for router in rotated(routers, round_index):
            procs = Processes(workdir)
            try:
                urls = start_replicas(procs, args, 1, "tiny", ["--time-scale", "1000", "--served-model-name", MODEL])
                url, header = start_router(procs, args, router, urls)
                name = f"{slug(router)}-{round_index}"
                # Warm up in a run of its own, so the router's CPU is read around the measured stage alone.
                bench(args, procs, url, header, small + ["--stage", f"{args.overhead_rate}:2"], "warmup-" + name)
                router_group = procs.children[-1].pid if router != "direct:-" else None
                cpu_before = group_cpu_seconds(router_group) if router_group else 0
                fixed = bench(args, procs, url, header,
                              small + ["--warmup", "0", "--stage", f"{args.overhead_rate}:{args.overhead_seconds}"],
                              "overhead-" + name)
                cpu = group_cpu_seconds(router_group) - cpu_before if router_group else float("nan")
                # The most requests/s: completions in the second half of a closed loop of 32 in flight.
                peak = bench(args, procs, url, header,
                             small + ["--sweep", "1", "--sweep-probe-concurrency", "32", "--sweep-probe-duration",
                                      str(args.peak_seconds), "--duration", "1"], "peak-" + name)
                stage = fixed["stages"][0]
                e2e = stage["endToEndLatency"]
                errors = stage["requests"] - stage["succeeded"]
                cpu_per_request = cpu / max(stage["requests"], 1) * 1e6
                results[router].append((e2e["p50"], e2e["p99"], peak["sweep"]["saturationRate"], errors,
                                        cpu_per_request))
                print(f"  round {round_index + 1}  {router:26} p50 {e2e['p50'] * 1000:7.3f} ms  "
                      f"p99 {e2e['p99'] * 1000:7.3f} ms  errors {errors}  "
                      f"max {peak['sweep']['saturationRate']:7.0f} req/s  router CPU {cpu_per_request:5.0f} us/request",
                      flush=True)
            finally:
                procs.stop()
    direct = results["direct:-"]
    rows = []
    print(f"\nmedians over {args.overhead_rounds} rounds; added latency at {args.overhead_rate:g} requests/s is the "
          "router's figure minus direct's in the same round:")
    for router in routers:
        runs = results[router]
        p50 = statistics.median(r[0] for r in runs)
        p99 = statistics.median(r[1] for r in runs)
        peak = statistics.median(r[2] for r in runs)
        added50 = statistics.median(r[0] - d[0] for r, d in zip(runs, direct))
        added99 = statistics.median(r[1] - d[1] for r, d in zip(runs, direct))
        errors = sum(r[3] for r in runs)
        cpu = statistics.median(r[4] for r in runs)
        rows.append((router, p50, p99, peak, added50, added99, cpu))
        extra = "" if router == "direct:-" else (f"  added p50 {added50 * 1000:+6.3f} ms  p99 {added99 * 1000:+6.3f} ms"
                                                 f"  router CPU {cpu:4.0f} us/request")
        print(f"  {router:26} p50 {p50 * 1000:7.3f} ms  p99 {p99 * 1000:7.3f} ms  max {peak:7.0f} req/s"
              f"  errors {errors}{extra}")
    return rows


def streaming(args, workdir):
    """The CPU a router spends streaming, next to a peer's under the same load at the same time: each pair of
    routers runs side by side, each in front of four fresh replicas of its own with its own client, so the host's
    drift (15% and more within the hour here) hits both alike. The rounds alternate which of the two starts first.
    The figure is the ratio of the two routers' user + system CPU over the same window."""
    pairs = [pair.split("=") for pair in args.streaming_pairs.split(",")]
    workload = ["--shared-prefix", "32,2000,100,100", "--output-len", "200", "--arrivals", "poisson",
                "--stage", f"{args.streaming_rate}:{args.streaming_seconds}"]
    rows = []
    for ours, peer in pairs:
        ratios = []
        for round_index in range(args.streaming_rounds):
            order = [ours, peer] if round_index % 2 == 0 else [peer, ours]
            procs = Processes(workdir)
            try:
                sides = {}
                for router in order:
                    urls = start_replicas(procs, args, 4, "llama-3.1-8b-h100", replica_flags(args))
                    url, header = start_router(procs, args, router, urls)
                    sides[router] = (url, header, procs.children[-1].pid)
                before = {router: group_cpu_seconds(side[2]) for router, side in sides.items()}
                started = [bench_start(args, procs, sides[router][0], sides[router][1], workload,
                                       f"streaming-{slug(router)}-{round_index}") for router in order]
                reports = dict(zip(order, [bench_finish(one) for one in started]))
                cpu = {router: group_cpu_seconds(side[2]) - before[router] for router, side in sides.items()}
            finally:
                procs.stop()
            tokens = {router: max(reports[router]["stages"][0]["outputTokens"], 1) for router in order}
            errors = {router: reports[router]["stages"][0]["requests"] - reports[router]["stages"][0]["succeeded"]
                      for router in order}
            ratio = cpu[ours] / max(cpu[peer], 1e-9)
            ratios.append(ratio)
            print(f"  round {round_index + 1}  {ours} {cpu[ours]:5.1f} s ({cpu[ours] / tokens[ours] * 1e6:3.0f} us/token,"
                  f" {errors[ours]} errors)  {peer} {cpu[peer]:5.1f} s ({cpu[peer] / tokens[peer] * 1e6:3.0f} us/token,"
                  f" {errors[peer]} errors)  ratio {ratio:.3f}", flush=True)
        median = statistics.median(ratios)
        rows.append((ours, peer, median))
        print(f"  {ours} / {peer}: median CPU ratio {median:.3f} over {len(ratios)} rounds "
              f"(range {min(ratios):.3f}-{max(ratios):.3f})", flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--starling", required=True)
    parser.add_argument("--starling-baseline", help="another build's starling binary, run as router kind "
                        "starling-baseline (an A/B of two builds in one run)")
    parser.add_argument("--vllm-router", default=shutil.which("vllm-router") or "vllm-router")
    parser.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx")
    parser.add_argument("--only", default="quality,balance,streaming,overhead")
    parser.add_argument("--routers", default="starling:round-robin,starling:least-queue,starling:prefix,"
                        "starling:default,vllm-router:round_robin,vllm-router:power_of_two,"
                        "vllm-router:cache_aware,nginx:round-robin")
    parser.add_argument("--balance-routers", default="starling:round-robin,starling:least-queue,starling:default")
    parser.add_argument("--overhead-routers", default="starling:round-robin,vllm-router:round_robin,nginx:round-robin")
    parser.add_argument("--fractions", default="0.5,0.8,1.0", help="quality stages, as fractions of saturation")
    parser.add_argument("--saturation", type=float, help="skip the probe: round-robin's saturation rate")
    parser.add_argument("--max-num-seqs", type=int, help="batch size of each replica (default: the profile's)")
    parser.add_argument("--num-gpu-blocks", type=int, default=4000, help="KV-cache blocks of each replica")
    parser.add_argument("--probe-concurrency", type=int, default=128)
    parser.add_argument("--probe-duration", type=float, default=30)
    parser.add_argument("--stage-seconds", type=float, default=40)
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--balance-rate", type=float, default=8)
    parser.add_argument("--slo-ttft-ms", type=float, default=1000)
    parser.add_argument("--slo-tpot-ms", type=float, default=50)
    parser.add_argument("--overhead-rate", type=float, default=500)
    parser.add_argument("--overhead-seconds", type=float, default=10)
    parser.add_argument("--peak-seconds", type=float, default=20,
                        help="closed-loop probe for the most requests/s (its second half is measured)")
    parser.add_argument("--overhead-rounds", type=int, default=3)
    parser.add_argument("--quality-rounds", type=int, default=1,
                        help="rounds of the quality runs (figures are medians over them)")
    parser.add_argument("--streaming-pairs",
                        default="starling:round-robin=vllm-router:round_robin,starling:default=vllm-router:cache_aware",
                        help="OURS=PEER router pairs whose streaming CPU is compared side by side")
    parser.add_argument("--streaming-rate", type=float, default=20, help="requests/s for each router of a pair")
    parser.add_argument("--streaming-seconds", type=float, default=40)
    parser.add_argument("--streaming-rounds", type=int, default=4)
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, JSON reports)")
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="starling-bench-gateway-")
    print(f"work directory: {workdir}", flush=True)
    parts = args.only.split(",")
    try:
        if "quality" in parts:
            print("\n== routing quality: shared prefixes (32 groups x 2000 tokens), 4 replicas", flush=True)
            saturation, rows = quality(args, workdir)
            by = {(router, fraction): stage for router, fraction, stage in rows}

            def p90(router):
                return ms(by[(router, 0.8)], "timeToFirstToken", "p90")

            def tokens(router):
                return by[(router, 0.8)]["outputTokenThroughput"]

            if ("starling:default", 0.8) in by and ("starling:round-robin", 0.8) in by:
                peers = [r for r in args.routers.split(",") if r.startswith("vllm-router:")]
                best = min(peers, key=p90) if peers else None
                print("\ntargets at 80%:")
                print(f"  default TTFT p90 {p90('starling:default'):.1f} ms vs round-robin "
                      f"{p90('starling:round-robin'):.1f} ms: {p90('starling:default') / p90('starling:round-robin'):.2f}x"
                      f" (target <= 0.5x)")
                if best:
                    print(f"  vs best vllm-router ({best}) {p90(best):.1f} ms: {p90('starling:default') / p90(best):.2f}x"
                          f" (target <= 0.8x)")
                    print(f"  output tok/s: default {tokens('starling:default'):.0f}, round-robin "
                          f"{tokens('starling:round-robin'):.0f}, {best} {tokens(best):.0f}")
        if "balance" in parts:
            print("\n== balance: no shared prefixes (lognormal lengths), 4 replicas", flush=True)
            balance(args, workdir, None)
        if "streaming" in parts:
            print("\n== streaming CPU: two routers side by side, each with 4 replicas and a client of its own, "
                  f"{args.streaming_rate:g} requests/s each", flush=True)
            streaming(args, workdir)
        if "overhead" in parts:
            print("\n== overhead: small non-streaming requests, one fast replica", flush=True)
            overhead(args, workdir)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
