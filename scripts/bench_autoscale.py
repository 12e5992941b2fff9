#!/usr/bin/env python3
"""Starling's autoscaler against the HorizontalPodAutoscaler's algorithm, side by side in one run (BENCHMARKS.md).

Each policy gets a fresh `starling up` (one node, 8 simulated H100s) serving a simulated Llama-3.1-8B whose
replicas take 30 s to load, and the same trace through the gateway (`starling bench`, Poisson arrivals): idle,
a burst, a steady low rate, a step up 4x, a step down, idle again. Starling's policy starts at zero replicas (the
gateway holds requests while the first replica loads); the HPA baseline (`--autoscaler-algorithm hpa`: every 15 s,
its tolerance, default behavior and 300 s scale-down window, the same `queue` metric, no holding, at least one
replica) starts with one Ready replica.

Reported per policy: the time from the step up to the first scale decision and to the new replicas serving,
goodput (requests meeting TTFT <= 2 s and TPOT <= 50 ms), failed requests, and replica-seconds (replicas existing,
loading included, integrated over the trace), with a chart of replicas and queue over time in an HTML report.

Usage: scripts/bench-autoscale [--quick] [--keep] [--out DIR]
"""
import argparse
import base64
import json
import os
import re
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
MODEL = "meta-llama/Llama-3.1-8B-Instruct"
SLO = {"ttft_ms": 2000, "tpot_ms": 50}


def trace(quick):
    """(rate req/s, seconds) stages after the initial idle; the step up is the third."""
    scale = 0.5 if quick else 1.0
    return [(12, 30 * scale), (12, 45 * scale), (48, 120 * scale), (12, 60 * scale), (0, 60 * scale)]


def service(policy):
    # Two sequences a replica (about 8 requests/s of 200 in / 32 out) keep the peak near 6-7 replicas at a rate two
    # CPU cores can stream; 30 simulated seconds of load at time scale 1.
    replicas = 0 if policy == "starling" else 1
    return f"""apiVersion: starling.dev/v1alpha1
kind: ModelService
metadata: {{name: llama}}
spec:
  model: {MODEL}
  replicas: {replicas}
  accelerators: {{type: H100-80GB, count: 1}}
  server:
    engine: sim
    profile: llama-3.1-8b-h100
    args: ["--startup-seconds", "30", "--max-num-seqs", "2", "--shutdown-timeout", "0"]
    terminationGracePeriodSeconds: 60
  autoscaling:
    minReplicas: {0 if policy == "starling" else 1}
    maxReplicas: 8
    metric: queue
    target: 2
    scaleToZeroAfterSeconds: 30
  routing: {{holdTimeoutSeconds: 120}}
"""


class Cluster:
    """One `starling up` and a small API client on its kubeconfig."""

    def __init__(self, starling, policy, workdir):
        self.dir = os.path.join(workdir, policy)
        os.makedirs(self.dir, exist_ok=True)
        with open(os.path.join(self.dir, "llama.yaml"), "w") as f:
            f.write(service(policy))
        self.log = open(os.path.join(self.dir, "up.log"), "wb")
        self.process = subprocess.Popen(
            [starling, "up", "--data-dir", os.path.join(self.dir, "data"), "--api-port", "0", "--gateway-port", "0",
             "--no-demo", "--autoscaler-algorithm", policy, "--log-level", "notice", "-f",
             os.path.join(self.dir, "llama.yaml")],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        while True:
            text = open(os.path.join(self.dir, "up.log"), encoding="utf-8", errors="replace").read()
            if "Starling is up." in text:
                break
            if self.process.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"bench-autoscale: starling up did not start:\n{text[-2000:]}")
            time.sleep(0.2)
        self.gateway = re.search(r"Gateway:\s+(http://\S+)", text).group(1)
        kubeconfig = open(os.path.join(self.dir, "data", "kubeconfig")).read()
        self.server = re.search(r"server:\s*(\S+)", kubeconfig).group(1)
        self.token = re.search(r"token:\s*(\S+)", kubeconfig).group(1)
        ca = re.search(r"certificate-authority-data:\s*(\S+)", kubeconfig).group(1)
        self.tls = ssl.create_default_context(cadata=base64.b64decode(ca).decode())

    def get(self, path):
        request = urllib.request.Request(self.server + path, headers={"Authorization": f"Bearer {self.token}"})
        with urllib.request.urlopen(request, context=self.tls, timeout=5) as response:
            return json.loads(response.read())

    def service(self):
        return self.get("/apis/starling.dev/v1alpha1/namespaces/default/modelservices/llama")

    def events(self):
        return self.get("/api/v1/namespaces/default/events")["items"]

    def queue(self):
        """Requests held at the gateway and waiting at the model servers."""
        with urllib.request.urlopen(self.gateway + "/metrics", timeout=5) as response:
            text = response.read().decode()
        held = sum(float(m) for m in re.findall(r'starling_gateway_queue_length\{pool="llama"[^}]*\} (\S+)', text))
        waiting = re.search(r'starling_gateway_pool_requests_waiting\{pool="llama"\} (\S+)', text)
        return held, float(waiting.group(1)) if waiting else 0.0

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


class ReplicaWatch(threading.Thread):
    """Every change of the service's asked replicas, as a watch delivers it, with the time it arrived: the
    autoscaler's decisions to the millisecond, where polling would see them up to a poll late."""

    def __init__(self, cluster):
        super().__init__(daemon=True)
        self.cluster = cluster
        self.changes = []
        self.done = threading.Event()

    def run(self):
        path = "/apis/starling.dev/v1alpha1/namespaces/default/modelservices?watch=true&fieldSelector=metadata.name%3Dllama"
        while not self.done.is_set():
            try:
                request = urllib.request.Request(
                    self.cluster.server + path, headers={"Authorization": f"Bearer {self.cluster.token}"})
                with urllib.request.urlopen(request, context=self.cluster.tls, timeout=30) as response:
                    for line in response:
                        event = json.loads(line)
                        replicas = event.get("object", {}).get("spec", {}).get("replicas", 0)
                        if not self.changes or self.changes[-1][1] != replicas:
                            self.changes.append((time.time(), replicas))
                        if self.done.is_set():
                            return
            except Exception:
                self.done.wait(0.1)


class Sampler(threading.Thread):
    """Replicas (asked, existing, Ready) and queue every half second."""

    def __init__(self, cluster):
        super().__init__(daemon=True)
        self.cluster = cluster
        self.samples = []
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            try:
                s = self.cluster.service()
                held, waiting = self.cluster.queue()
                status = s.get("status", {})
                self.samples.append({
                    "t": time.time(), "desired": s["spec"].get("replicas", 0),
                    "existing": status.get("replicas", 0), "ready": status.get("readyReplicas", 0),
                    "held": held, "waiting": waiting})
            except Exception:
                pass
            self.done.wait(0.5)


def run_policy(args, policy, workdir):
    cluster = Cluster(args.starling, policy, workdir)
    try:
        if policy == "hpa":
            deadline = time.monotonic() + 180
            while cluster.service().get("status", {}).get("readyReplicas", 0) < 1:
                if time.monotonic() > deadline:
                    sys.exit("bench-autoscale: the HPA baseline's first replica did not become Ready")
                time.sleep(0.5)
        sampler = Sampler(cluster)
        sampler.start()
        watch = ReplicaWatch(cluster)
        watch.start()
        idle = 10 if args.quick else 20
        time.sleep(idle)
        stages = trace(args.quick)
        report = os.path.join(cluster.dir, "bench.json")
        command = [args.starling, "bench", "run", "--url", cluster.gateway, "--model", MODEL, "--api", "completions",
                   "--input-len", "200", "--output-len", "32", "--warmup", "0", "--timeout", "180",
                   "--slo-ttft-ms", str(SLO["ttft_ms"]), "--slo-tpot-ms", str(SLO["tpot_ms"]), "--seed", "1",
                   "--json", report]
        for rate, seconds in stages:
            command += ["--stage", f"{rate}:{seconds:g}"]
        started = time.time()
        with open(os.path.join(cluster.dir, "bench.log"), "wb") as log:
            subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, check=False)
        ended = time.time()
        sampler.done.set()
        sampler.join()
        watch.done.set()
        events = cluster.events()
    finally:
        cluster.stop()
    bench = json.load(open(report))
    return summarize(policy, bench, sampler.samples, watch.changes, events, started, ended, stages)


def summarize(policy, bench, samples, changes, events, started, ended, stages):
    # The step is timed from the load generator's own start (its first stage's wall-clock time), not from when
    # it was launched; the decision from the watch, to the millisecond.
    origin = bench.get("startedAt") or started
    step_at = origin + stages[0][1] + stages[1][1]
    before = [c for c in changes if c[0] <= step_at]
    base = before[-1][1] if before else 0
    change = next((c for c in changes if c[0] > step_at and c[1] > base), None)
    decided = {"t": change[0], "desired": change[1]} if change else None
    asked = decided["desired"] if decided else None
    serving = next((s for s in samples if decided and s["t"] >= decided["t"] and s["ready"] >= asked), None)
    window = [s for s in samples if started <= s["t"] <= ended]
    replica_seconds = sum(
        a["existing"] * (b["t"] - a["t"]) for a, b in zip(window, window[1:]))
    overall = bench["overall"]
    errors = sum(overall.get("errors", {}).values())
    return {
        "policy": policy,
        "decision_s": round(decided["t"] - step_at, 2) if decided else None,
        "serving_s": round(serving["t"] - step_at, 1) if serving else None,
        "replicas_after_step": asked,
        "peak_replicas": max((s["desired"] for s in samples), default=0),
        "requests": overall["requests"], "succeeded": overall["succeeded"], "failed": errors,
        "errors": overall.get("errors", {}),
        "good": overall["goodRequests"], "goodput_share": round(overall["goodRequests"] / max(1, overall["requests"]), 3),
        "ttft_p99_s": overall["timeToFirstToken"]["p99"], "tpot_p99_s": overall["timePerOutputToken"]["p99"],
        "replica_seconds": round(replica_seconds),
        "scale_events": sorted(
            [(e.get("lastTimestamp") or "", e.get("reason"), e.get("message")) for e in events
             if e.get("reason") in ("ScaledUp", "ScaledDown")]),
        "samples": [{**s, "t": round(s["t"] - started, 2)} for s in samples],
    }


def chart(results):
    """An inline SVG per policy: replicas asked, existing and Ready, and the queue, over time."""
    parts = []
    for r in results:
        samples = r["samples"]
        if not samples:
            continue
        t0, t1 = min(s["t"] for s in samples), max(s["t"] for s in samples)
        top = max(8, max(s["held"] + s["waiting"] for s in samples) / 4)
        w, h = 900, 240

        def line(key, color, scale=1.0):
            points = " ".join(
                f"{(s['t'] - t0) / max(1, t1 - t0) * w:.1f},{h - min(top, s[key] * scale) / top * h:.1f}"
                for s in samples)
            return f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{points}"/>'

        queue = [{**s, "queue": s["held"] + s["waiting"]} for s in samples]
        qpoints = " ".join(
            f"{(s['t'] - t0) / max(1, t1 - t0) * w:.1f},{h - min(top, s['queue'] / 4) / top * h:.1f}" for s in queue)
        parts.append(
            f"<h2>{r['policy']}</h2><svg width='{w}' height='{h}' style='border:1px solid #ccc'>"
            + line("desired", "#1f77b4") + line("existing", "#aec7e8") + line("ready", "#2ca02c")
            + f'<polyline fill="none" stroke="#d62728" stroke-width="1" points="{qpoints}"/></svg>'
            + f"<p>{t1 - t0:.0f} s; blue: replicas asked, light blue: existing, green: Ready, red: queue / 4 "
            + f"(held + waiting); y up to {top:.0f}</p>")
    return "<html><body><h1>Autoscaling: Starling vs the HPA algorithm</h1>" + "".join(parts) + "</body></html>"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--starling", required=True)
    parser.add_argument("--quick", action="store_true", help="halve every stage (a smoke run)")
    parser.add_argument("--keep", action="store_true", help="keep the working directory")
    parser.add_argument("--out", default=".", help="where autoscale.json and autoscale.html go")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    workdir = tempfile.mkdtemp(prefix="starling-bench-autoscale-")
    results = []
    try:
        for policy in ["starling", "hpa"]:
            print(f"== {policy}", flush=True)
            results.append(run_policy(args, policy, workdir))
    finally:
        if not args.keep:
            subprocess.run(["rm", "-rf", workdir])
        else:
            print(f"kept {workdir}")
    rows = [("", "starling", "hpa")]
    keys = [("step -> decision (s)", "decision_s"), ("step -> new replicas serving (s)", "serving_s"),
            ("replicas asked at the step", "replicas_after_step"), ("peak replicas", "peak_replicas"),
            ("requests", "requests"), ("failed", "failed"), ("meeting the SLOs", "good"),
            ("goodput share", "goodput_share"), ("TTFT p99 (s)", "ttft_p99_s"), ("replica-seconds", "replica_seconds")]
    for label, key in keys:
        rows.append((label, *[str(r[key]) for r in results]))
    width = max(len(r[0]) for r in rows)
    for row in rows:
        print(f"{row[0]:<{width}}  {row[1]:>10}  {row[2]:>10}")
    for r in results:
        if r["errors"]:
            print(f"{r['policy']} errors: {r['errors']}")
    # The figures are printed first, so a run is never lost to a file that cannot be written.
    with open(os.path.join(args.out, "autoscale.json"), "w") as f:
        json.dump(results, f, indent=1)
    with open(os.path.join(args.out, "autoscale.html"), "w") as f:
        f.write(chart(results))
    print(f"wrote {os.path.join(args.out, 'autoscale.json')} and autoscale.html")


if __name__ == "__main__":
    main()
