#!/usr/bin/env python3
"""Probes what RELIABILITY.md reports: hostile and careless clients against a running `starling gateway` and
`starling up`, on loopback only, each probe bounded in clients and seconds.

slow-headers   N clients that send one header byte a second to the gateway: when are they closed, how much memory
               does the gateway hold, and is a normal request served meanwhile (and how fast)?
stalled-bodies N clients that each send S MB of a larger declared body to the gateway and stall: peak memory,
               how many are refused (503, the buffered-body cap), and when the rest are closed (body timeout).
no-tls         N clients that connect to `starling up`'s HTTPS API port and never start TLS: when are they closed,
               and does kubectl-style traffic (an authenticated GET) still get through?
burst          N connections opened at once to the gateway, each sending one request: how many are answered.

Usage: scripts/probe-reliability [--only slow-headers,stalled-bodies,no-tls,burst] [--clients N]
"""
import argparse
import json
import os
import select
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def binary():
    for candidate in [".build/release/starling", ".build/debug/starling"]:
        path = os.path.join(ROOT, candidate)
        if os.path.exists(path):
            return path
    sys.exit("build starling first (swift build -c release)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def wait_port(port, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"nothing listens on {port}")


def raise_nofile():
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def timed_get(url, headers=None, context=None):
    start = time.time()
    try:
        request = urllib.request.Request(url, headers=headers or {})
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            response.read()
            return response.status, (time.time() - start) * 1000
    except Exception as error:
        return f"{type(error).__name__}", (time.time() - start) * 1000


class Gateway:
    def __init__(self, tmp):
        self.sim_port = free_port()
        self.port = free_port()
        self.sim = subprocess.Popen(
            [binary(), "model-server", "--port", str(self.sim_port), "--profile", "tiny"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.sim_port)
        self.process = subprocess.Popen(
            [binary(), "gateway", "--port", str(self.port), "--endpoint", f"http://127.0.0.1:{self.sim_port}"],
            stdout=open(os.path.join(tmp, "gateway.log"), "w"), stderr=subprocess.STDOUT)
        wait_port(self.port)

    def metric(self, reason):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as response:
            for line in response.read().decode().splitlines():
                if line.startswith("starling_gateway_connection_limit_total") and f'reason="{reason}"' in line:
                    return int(float(line.split()[-1]))
        return 0

    def stop(self):
        for p in (self.process, self.sim):
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


def open_many(port, n):
    sockets = []
    for _ in range(n):
        s = socket.socket()
        s.setblocking(True)
        s.connect(("127.0.0.1", port))
        sockets.append(s)
    return sockets


def count_closed(sockets):
    closed = 0
    for s in sockets:
        try:
            if s.fileno() < 0:
                closed += 1
                continue
            poller = select.poll()
            poller.register(s, select.POLLIN)
            if poller.poll(0) and s.recv(4096, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b"":
                closed += 1
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            closed += 1
    return closed


def probe_slow_headers(gateway, n, seconds=15):
    sockets = open_many(gateway.port, n)
    head = b"POST /v1/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
    start = time.time()
    peak = rss_mib(gateway.process.pid)
    latencies = []
    all_closed_at = None
    for i in range(seconds):
        for s in sockets:
            try:
                s.send(head[i % len(head):i % len(head) + 1])
            except OSError:
                pass
        status, ms = timed_get(f"http://127.0.0.1:{gateway.port}/v1/models")
        latencies.append((status, ms))
        peak = max(peak, rss_mib(gateway.process.pid))
        if all_closed_at is None and count_closed(sockets) == n:
            all_closed_at = time.time() - start
        time.sleep(max(0, start + i + 1 - time.time()))
    closed = count_closed(sockets)
    for s in sockets:
        s.close()
    served = sum(1 for status, _ in latencies if status == 200)
    return {
        "clients": n, "closed": closed, "all closed after s": all_closed_at and round(all_closed_at, 1),
        "peak RSS MiB": round(peak, 1), "normal requests served": f"{served}/{len(latencies)}",
        "normal request max ms": round(max(ms for _, ms in latencies), 1),
        "counted header_timeout": gateway.metric("header_timeout"),
    }


def probe_stalled_bodies(gateway, n, megabytes):
    body = b"x" * (megabytes << 20)
    declared = (megabytes + 1) << 20
    refused = 0
    sockets = []
    peak = rss_mib(gateway.process.pid)
    start = time.time()
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", gateway.port))
        s.sendall(
            f"POST /v1/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: "
            f"{declared}\r\n\r\n".encode())
        try:
            s.settimeout(0.05)
            answer = s.recv(4096)
            if answer.startswith(b"HTTP/1.1 503"):
                refused += 1
                s.close()
                continue
        except socket.timeout:
            pass
        s.settimeout(10)
        try:
            s.sendall(body)
        except OSError:
            pass
        sockets.append(s)
        peak = max(peak, rss_mib(gateway.process.pid))
    status, ms = timed_get(f"http://127.0.0.1:{gateway.port}/v1/models")
    peak = max(peak, rss_mib(gateway.process.pid))
    deadline = time.time() + 90
    while time.time() < deadline and count_closed(sockets) < len(sockets):
        peak = max(peak, rss_mib(gateway.process.pid))
        time.sleep(0.5)
    closed_after = time.time() - start
    for s in sockets:
        s.close()
    time.sleep(1)
    return {
        "clients": n, "MB each (declared +1)": megabytes, "refused 503": refused, "held": len(sockets),
        "peak RSS MiB": round(peak, 1), "RSS after MiB": round(rss_mib(gateway.process.pid), 1),
        "normal request while held": f"{status} in {ms:.0f} ms", "held ones closed after s": round(closed_after, 1),
        "counted body_timeout": gateway.metric("body_timeout"),
    }


def probe_burst(gateway, n):
    answered = [0]
    statuses = {}
    lock = threading.Lock()
    barrier = threading.Barrier(min(n, 200))

    def client(count):
        try:
            barrier.wait(timeout=10)
        except threading.BrokenBarrierError:
            pass
        for _ in range(count):
            try:
                s = socket.create_connection(("127.0.0.1", gateway.port), timeout=20)
                s.sendall(b"GET /v1/models HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
                data = s.recv(64)
                code = data[9:12].decode() if data.startswith(b"HTTP/1.1") else "none"
                s.close()
            except OSError as error:
                code = type(error).__name__
            with lock:
                statuses[code] = statuses.get(code, 0) + 1
    threads = [threading.Thread(target=client, args=(n // 200,)) for _ in range(200)]
    start = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"connections": n, "statuses": statuses, "seconds": round(time.time() - start, 1)}


def probe_no_tls(n, seconds=40):
    tmp = tempfile.mkdtemp(prefix="starling-probe-")
    port = free_port()
    up = subprocess.Popen(
        [binary(), "up", "--data-dir", tmp, "--api-port", str(port), "--gateway-port", "0", "--no-demo"],
        stdout=open(os.path.join(tmp, "up.log"), "w"), stderr=subprocess.STDOUT)
    try:
        wait_port(port)
        time.sleep(2)
        token = open(os.path.join(tmp, "token")).read().strip()
        context = ssl.create_default_context(cafile=os.path.join(tmp, "ca.crt")) if os.path.exists(
            os.path.join(tmp, "ca.crt")) else ssl._create_unverified_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        sockets = open_many(port, n)
        start = time.time()
        peak = rss_mib(up.pid)
        results = []
        all_closed_at = None
        while time.time() - start < seconds:
            results.append(timed_get(
                f"https://127.0.0.1:{port}/api/v1/namespaces/default/pods",
                {"Authorization": f"Bearer {token}"}, context))
            peak = max(peak, rss_mib(up.pid))
            if all_closed_at is None and count_closed(sockets) == n:
                all_closed_at = time.time() - start
                break
            time.sleep(1)
        closed = count_closed(sockets)
        for s in sockets:
            s.close()
        served = sum(1 for status, _ in results if status == 200)
        return {
            "clients": n, "closed": closed, "all closed after s": all_closed_at and round(all_closed_at, 1),
            "peak RSS MiB": round(peak, 1), "authenticated GETs served": f"{served}/{len(results)}",
            "GET max ms": round(max(ms for _, ms in results), 1),
        }
    finally:
        up.terminate()
        up.wait(20)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="slow-headers,stalled-bodies,no-tls,burst")
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--body-clients", type=int, default=200)
    parser.add_argument("--body-mb", type=int, default=7)
    parser.add_argument("--burst", type=int, default=5000)
    args = parser.parse_args()
    raise_nofile()
    only = args.only.split(",")
    results = {}
    tmp = tempfile.mkdtemp(prefix="starling-probe-")
    if any(p in only for p in ["slow-headers", "stalled-bodies", "burst"]):
        gateway = Gateway(tmp)
        try:
            if "slow-headers" in only:
                results["slow-headers"] = probe_slow_headers(gateway, args.clients)
                print("slow-headers", json.dumps(results["slow-headers"]), flush=True)
            if "stalled-bodies" in only:
                results["stalled-bodies"] = probe_stalled_bodies(gateway, args.body_clients, args.body_mb)
                print("stalled-bodies", json.dumps(results["stalled-bodies"]), flush=True)
            if "burst" in only:
                results["burst"] = probe_burst(gateway, args.burst)
                print("burst", json.dumps(results["burst"]), flush=True)
        finally:
            gateway.stop()
    if "no-tls" in only:
        results["no-tls"] = probe_no_tls(args.clients)
        print("no-tls", json.dumps(results["no-tls"]), flush=True)


if __name__ == "__main__":
    main()
