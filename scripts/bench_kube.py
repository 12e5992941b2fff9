#!/usr/bin/env python3
"""Starling's Kubernetes mode on the v1.20 test control plane (scripts/kube-testenv), each figure next to a peer
measured in the same run:

  ready      kubectl apply of a 16-replica ModelService (groups of 2, 4 nodes x 8 devices) to all groups Ready,
             against a 32-replica Deployment (kube-controller-manager's ReplicaSet controller) on the same nodes
  failover   SIGKILL of the operator leader to the standby acting (a scale it must carry out), against
             client-go's bound (lease duration + retry period)
  reconcile  500 ModelServices to 500 written statuses, against 500 ReplicaSets by kube-controller-manager
  memory     the operator's resident memory with 10,000 pods in its caches, against kube-controller-manager's

Usage: scripts/bench-kube [--only ready,failover,reconcile,memory] [--keep]
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


class Env:
    def __init__(self, args, workdir):
        self.args = args
        self.workdir = workdir
        self.children = []
        self.serve = subprocess.Popen([os.path.join(ROOT, "scripts/kube-testenv"), "serve", f"{workdir}/env"],
                                      stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 240
        while not os.path.exists(f"{workdir}/env/ready"):
            if self.serve.poll() is not None or time.monotonic() > deadline:
                sys.exit("bench-kube: the control plane did not start (scripts/kube-testenv build first?)")
            time.sleep(0.2)
        self.kubeconfig = f"{workdir}/env/admin.kubeconfig"
        self.kubectl_bin = os.path.join(
            subprocess.check_output([os.path.join(ROOT, "scripts/kube-testenv"), "bin"], text=True).strip(), "kubectl")

    def kubectl(self, *args, input=None, check=True):
        result = subprocess.run([self.kubectl_bin, "--kubeconfig", self.kubeconfig, *args], input=input, text=True,
                                capture_output=True)
        if check and result.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)}: {result.stdout}{result.stderr}")
        return result.stdout

    def get_json(self, *args):
        return json.loads(self.kubectl("get", *args, "-o", "json"))

    def start(self, name, command):
        log = open(f"{self.workdir}/{name}.log", "wb")
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.children.append(process)
        return process

    def stop(self):
        for p in self.children:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.children:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        self.serve.stdin.close()
        self.serve.wait(timeout=60)


def wait(what, predicate, timeout=600, every=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except (RuntimeError, json.JSONDecodeError):
            pass
        time.sleep(every)
    raise RuntimeError(f"timed out waiting for {what}")


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def pid_of(name):
    out = subprocess.run(["pgrep", "-f", name], capture_output=True, text=True).stdout.split()
    return int(out[0]) if out else None


def operator(env, starling, identity, namespace=None, lease=None, extra=()):
    """An operator process; each scenario elects on a Lease of its own (`lease`, default the identity)."""
    command = [starling, "operator", "--kubeconfig", env.kubeconfig, "--lease-namespace", "default", "--lease-name",
               lease or identity, "--identity", identity, "--image", "starling:bench", "--health-host", "127.0.0.1", "--health-port", "0",
               "--log-level", "warning", *extra]
    if namespace:
        command += ["--watch-namespace", namespace]
    return env.start(f"operator-{identity}", command)


def model_service(name, namespace, replicas, size, accelerator, count=1, profile="tiny"):
    return (f"apiVersion: starling.dev/v1alpha1\nkind: ModelService\nmetadata: {{name: {name}, namespace: {namespace}}}\n"
            f"spec:\n  model: m\n  replicas: {replicas}\n  group: {{size: {size}}}\n"
            f"  accelerators: {{type: {accelerator}, count: {count}}}\n  server: {{engine: sim, profile: {profile}}}\n")


def ready(env, starling, workdir):
    accelerator = "BENCH-H100"
    with open(f"{workdir}/nodes.yaml", "w") as f:
        f.write(f"nodes:\n- namePrefix: bench-node-\n  count: 4\n  accelerator: {accelerator}\n  devices: 8\n")
    env.start("agent", [starling, "agent", "--kubeconfig", env.kubeconfig, "--nodes-file", f"{workdir}/nodes.yaml",
                        "--state-dir", f"{workdir}/agent", "--log-level", "warning"])
    wait("4 nodes", lambda: len(env.get_json("nodes", "-l", f"nvidia.com/gpu.product={accelerator}")["items"]) == 4)
    operator(env, starling, "ready", namespace="ready")
    results = {}
    for rounds in range(1):
        # The peer: 32 pods of the same template through a Deployment.
        env.kubectl("create", "namespace", "peer")
        template = {
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "peer", "namespace": "peer"},
            "spec": {"replicas": 32, "selector": {"matchLabels": {"app": "peer"}}, "template": {
                "metadata": {"labels": {"app": "peer"}},
                "spec": {"nodeSelector": {"nvidia.com/gpu.product": accelerator}, "containers": [{
                    "name": "server", "image": "starling:bench",
                    "command": ["starling", "model-server", "--host", "$(POD_IP)", "--port", "8000", "--profile",
                                "tiny", "--served-model-name", "m"],
                    "env": [{"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}],
                    "ports": [{"name": "http", "containerPort": 8000}],
                    "readinessProbe": {"httpGet": {"path": "/health", "port": "http"}, "periodSeconds": 1},
                    "resources": {"limits": {"nvidia.com/gpu": "1"}}}]}}}}
        start = time.monotonic()
        env.kubectl("apply", "-f", "-", input=json.dumps(template))
        wait("the Deployment ready", lambda: env.get_json("deployment/peer", "-n", "peer")["status"].get(
            "readyReplicas", 0) == 32)
        results["deployment"] = time.monotonic() - start
        env.kubectl("delete", "namespace", "peer", "--wait=true", "--timeout=300s")
        wait("the peer's pods gone", lambda: not env.get_json("pods", "-n", "peer")["items"], timeout=300)
        env.kubectl("create", "namespace", "ready")
        start = time.monotonic()
        env.kubectl("apply", "-f", "-", input=model_service("llama", "ready", 16, 2, accelerator))
        wait("the ModelService ready", lambda: env.get_json("modelservice/llama", "-n", "ready").get(
            "status", {}).get("readyReplicas", 0) == 16)
        results["modelservice"] = time.monotonic() - start
        env.kubectl("delete", "namespace", "ready", "--wait=true", "--timeout=300s")
    print(f"  kubectl apply to all Ready, 32 pods on 4 nodes x 8 devices:")
    print(f"    ModelService (16 groups of 2)      {results['modelservice']:6.1f} s")
    print(f"    Deployment (32 replicas, the peer) {results['deployment']:6.1f} s", flush=True)
    return results


def failover(env, starling, workdir):
    env.kubectl("create", "namespace", "failover")
    # Default timing (15 s lease, 10 s renew deadline, 2 s retry), as shipped.
    a = operator(env, starling, "fail-a", namespace="failover", lease="failover")
    wait("fail-a leads", lambda: env.get_json("lease/failover", "-n", "default")["spec"].get(
        "holderIdentity") == "fail-a", timeout=60)
    operator(env, starling, "fail-b", namespace="failover", lease="failover")
    env.kubectl("apply", "-f", "-", input=model_service("svc", "failover", 2, 1, "NOWHERE"))
    wait("2 pods", lambda: len(env.get_json("pods", "-n", "failover")["items"]) == 2)
    time.sleep(3)  # fail-b has been following the renewing leader for a while
    killed = time.monotonic()
    os.killpg(a.pid, signal.SIGKILL)
    env.kubectl("scale", "-n", "failover", "modelservice/svc", "--replicas=3")
    wait("the standby to create the third group", lambda: len(env.get_json("pods", "-n", "failover")["items"]) == 3,
         timeout=120, every=0.1)
    took = time.monotonic() - killed
    print(f"  leader SIGKILLed to the standby acting: {took:5.1f} s (client-go's bound: 15 s lease + 2 s retry = "
          f"17 s; a released lease is taken within one retry)", flush=True)
    return {"failover": took}


def reconcile(env, starling, workdir, count=500):
    operator(env, starling, "rate", namespace="rate")
    env.kubectl("create", "namespace", "rate")
    env.kubectl("create", "namespace", "rate-peer")
    services = "".join("---\n" + model_service(f"s{i}", "rate", 1, 1, "NOWHERE") for i in range(count))
    start = time.monotonic()
    env.kubectl("apply", "-f", "-", input=services)
    applied = time.monotonic() - start

    def statuses():
        items = env.get_json("modelservices", "-n", "rate")["items"]
        return sum(1 for i in items if i.get("status", {}).get("replicas") == 1)

    wait("every status", lambda: statuses() == count, every=1)
    ours = time.monotonic() - start
    peers = "".join("---\n" + json.dumps({
        "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": f"r{i}", "namespace": "rate-peer"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": f"r{i}"}}, "template": {
            "metadata": {"labels": {"app": f"r{i}"}}, "spec": {"nodeSelector": {"nvidia.com/gpu.product": "NOWHERE"},
                                                               "containers": [{"name": "c", "image": "x"}]}}}}) + "\n"
        for i in range(count))
    start = time.monotonic()
    env.kubectl("apply", "-f", "-", input=peers)
    peer_applied = time.monotonic() - start

    def peer_statuses():
        items = env.get_json("replicasets", "-n", "rate-peer")["items"]
        return sum(1 for i in items if i.get("status", {}).get("replicas") == 1)

    wait("every peer status", lambda: peer_statuses() == count, every=1)
    theirs = time.monotonic() - start
    print(f"  {count} objects, apply to every status written (each with its pod created):")
    print(f"    ModelServices by the operator          {ours:6.1f} s  ({count / ours:5.1f}/s; kubectl apply took "
          f"{applied:.1f} s)")
    print(f"    ReplicaSets by kube-controller-manager {theirs:6.1f} s  ({count / theirs:5.1f}/s; kubectl apply took "
          f"{peer_applied:.1f} s)", flush=True)
    return {"operator_s": ours, "peer_s": theirs}


def memory(env, starling, workdir, pods=10000):
    env.kubectl("create", "namespace", "mem")
    op = operator(env, starling, "mem", namespace="mem")
    time.sleep(5)
    before = rss_mib(op.pid)
    kcm = pid_of("kube-controller-manager --kubeconfig " + env.kubeconfig)
    kcm_before = rss_mib(kcm)
    # 1,000 pods per service (500 groups of 2): within the default limits of 1,000 replicas and 5,000 pods.
    per = 1000
    services = "".join("---\n" + model_service(f"m{i}", "mem", per // 2, 2, "NOWHERE") for i in range(pods // per))
    start = time.monotonic()
    env.kubectl("apply", "-f", "-", input=services)

    def count():
        out = env.kubectl("get", "pods", "-n", "mem", "--no-headers", "-o", "name")
        return len(out.split())

    wait(f"{pods} pods", lambda: count() >= pods, timeout=1800, every=5)
    took = time.monotonic() - start
    time.sleep(10)
    ours, theirs = rss_mib(op.pid), rss_mib(kcm)
    print(f"  {pods} pods created by the operator in {took:.0f} s ({pods / took:.0f} pods/s); resident memory with "
          f"them in cache:")
    print(f"    starling operator          {ours:6.0f} MiB (idle before: {before:.0f} MiB)")
    print(f"    kube-controller-manager    {theirs:6.0f} MiB (idle before: {kcm_before:.0f} MiB; it caches every kind)",
          flush=True)
    return {"operator_mib": ours, "kcm_mib": theirs, "create_s": took}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--starling", required=True)
    parser.add_argument("--only", default="ready,failover,reconcile,memory")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    args = parser.parse_args()
    # SIGTERM ends the run as Ctrl-C does, through the `finally` that stops every process started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workdir = tempfile.mkdtemp(prefix="starling-bench-kube-")
    print(f"work directory: {workdir}", flush=True)
    env = Env(args, workdir)
    try:
        manifests = subprocess.check_output([args.starling, "manifests", "--operator-replicas", "0",
                                             "--gateway-replicas", "0"], text=True)
        env.kubectl("apply", "-f", "-", input=manifests)
        env.kubectl("wait", "--for=condition=Established", "crd/modelservices.starling.dev")
        parts = args.only.split(",")
        for name, run in [("ready", ready), ("failover", failover), ("reconcile", reconcile), ("memory", memory)]:
            if name in parts:
                print(f"\n== {name}", flush=True)
                run(env, args.starling, workdir)
    finally:
        env.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
