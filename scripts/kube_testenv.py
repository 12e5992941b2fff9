#!/usr/bin/env python3
"""A real Kubernetes control plane on loopback for Starling's Kubernetes-mode tests.

    kube_testenv.py serve --dir DIR [--bin BINDIR]

Starts etcd, kube-apiserver, kube-controller-manager and kube-scheduler, every port bound to 127.0.0.1 and chosen by
the OS, writes DIR/admin.kubeconfig (a bearer token in group system:masters) and DIR/ready, then waits until stdin
closes (the process that started it is gone) or SIGTERM/SIGINT, and stops them all. Nothing is left behind: each
component runs in its own process group and is killed with it; DIR holds etcd's data and the logs.

TLS: a CA and a serving certificate for 127.0.0.1/localhost made with openssl; service-account tokens are signed
with an ECDSA key (the controller-manager's token controller and kube-apiserver's verifier share it).
"""
import argparse
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.request

ADMIN_TOKEN_USER = "starling-testenv-admin"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*command, cwd):
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def make_pki(directory):
    """CA, apiserver serving certificate and service-account key, with openssl."""
    pki = os.path.join(directory, "pki")
    os.makedirs(pki, exist_ok=True)
    if os.path.exists(os.path.join(pki, "apiserver.crt")):
        return pki
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("openssl", "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "3650",
        "-subj", "/CN=starling-testenv-ca", cwd=pki)
    run("openssl", "req", *ec, "-keyout", "apiserver.key", "-out", "apiserver.csr", "-subj", "/CN=kube-apiserver",
        cwd=pki)
    with open(os.path.join(pki, "san.ext"), "w") as ext:
        ext.write("subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc,IP:10.96.0.1\n"
                  "extendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n")
    run("openssl", "x509", "-req", "-in", "apiserver.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "apiserver.crt", "-days", "3650", "-extfile", "san.ext", cwd=pki)
    run("openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "sa.key", cwd=pki)
    run("openssl", "ec", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=pki)
    return pki


def kubeconfig(server, ca_path, token):
    with open(ca_path, "rb") as f:
        import base64
        ca = base64.b64encode(f.read()).decode()
    return (f"apiVersion: v1\nkind: Config\nclusters:\n- name: testenv\n  cluster:\n    server: {server}\n"
            f"    certificate-authority-data: {ca}\nusers:\n- name: admin\n  user:\n    token: {token}\n"
            "contexts:\n- name: testenv\n  context:\n    cluster: testenv\n    user: admin\n    namespace: default\n"
            "current-context: testenv\n")


class Components:
    def __init__(self, directory):
        self.directory = directory
        self.children = []

    def start(self, name, command):
        log = open(os.path.join(self.directory, f"{name}.log"), "wb")
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
        self.children.append((name, process))
        return process

    def check(self):
        for name, process in self.children:
            if process.poll() is not None:
                tail = open(os.path.join(self.directory, f"{name}.log"), errors="replace").read()[-3000:]
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{tail}")

    def stop(self):
        for _, process in reversed(self.children):
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 10
        for _, process in reversed(self.children):
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()


def wait_until(description, predicate, components, timeout):
    deadline = time.monotonic() + timeout
    while True:
        components.check()
        try:
            if predicate():
                return
        except Exception:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {description}")
        time.sleep(0.2)


def serve(args):
    directory = os.path.abspath(args.dir)
    os.makedirs(directory, exist_ok=True)
    for stale in ("ready", "admin.kubeconfig"):
        if os.path.exists(os.path.join(directory, stale)):
            os.remove(os.path.join(directory, stale))
    binary = lambda name: os.path.join(args.bin, name)  # noqa: E731
    for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        if not os.access(binary(name), os.X_OK):
            sys.exit(f"kube_testenv: {binary(name)} is missing; build it with scripts/kube-testenv build")
    etcd = args.etcd
    pki = make_pki(directory)
    token = os.urandom(16).hex()
    with open(os.path.join(directory, "tokens.csv"), "w") as tokens:
        tokens.write(f'{token},{ADMIN_TOKEN_USER},0,"system:masters"\n')
    components = Components(directory)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        etcd_port, peer_port, api_port = free_port(), free_port(), free_port()
        etcd_url = f"http://127.0.0.1:{etcd_port}"
        components.start("etcd", [
            etcd, "--name", "testenv", "--data-dir", os.path.join(directory, "etcd"),
            "--listen-client-urls", etcd_url, "--advertise-client-urls", etcd_url,
            "--listen-peer-urls", f"http://127.0.0.1:{peer_port}",
            "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer_port}",
            "--initial-cluster", f"testenv=http://127.0.0.1:{peer_port}",
            "--unsafe-no-fsync", "--quota-backend-bytes", str(2 * 1024 ** 3), "--log-level", "warn"])
        wait_until("etcd", lambda: urllib.request.urlopen(etcd_url + "/health", timeout=1).status == 200,
                   components, 60)
        server = f"https://127.0.0.1:{api_port}"
        components.start("kube-apiserver", [
            binary("kube-apiserver"), "--etcd-servers", etcd_url,
            "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", str(api_port),
            "--insecure-port", "0",
            "--tls-cert-file", f"{pki}/apiserver.crt", "--tls-private-key-file", f"{pki}/apiserver.key",
            "--client-ca-file", f"{pki}/ca.crt",
            "--token-auth-file", os.path.join(directory, "tokens.csv"),
            "--authorization-mode", "RBAC",
            "--service-account-key-file", f"{pki}/sa.pub",
            "--service-account-signing-key-file", f"{pki}/sa.key",
            "--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
            "--service-cluster-ip-range", "10.96.0.0/24",
            "--allow-privileged=false", "--event-ttl", "1h", "--v", "1"])
        context = ssl.create_default_context(cafile=f"{pki}/ca.crt")

        def ready():
            request = urllib.request.Request(server + "/readyz", headers={"Authorization": f"Bearer {token}"})
            return urllib.request.urlopen(request, timeout=2, context=context).status == 200

        wait_until("kube-apiserver /readyz", ready, components, 120)
        path = os.path.join(directory, "admin.kubeconfig")
        with open(path, "w") as f:
            f.write(kubeconfig(server, f"{pki}/ca.crt", token))
        os.chmod(path, 0o600)
        components.start("kube-controller-manager", [
            binary("kube-controller-manager"), "--kubeconfig", path, "--leader-elect=false",
            "--port", "0", "--secure-port", "0",
            "--service-account-private-key-file", f"{pki}/sa.key", "--root-ca-file", f"{pki}/ca.crt",
            "--use-service-account-credentials=false", "--controllers", "*,-nodeipam,-cloud-node-lifecycle",
            "--v", "1"])
        components.start("kube-scheduler", [
            binary("kube-scheduler"), "--kubeconfig", path, "--leader-elect=false", "--port", "0",
            "--secure-port", "0", "--v", "1"])

        def default_service_account():
            request = urllib.request.Request(server + "/api/v1/namespaces/default/serviceaccounts/default",
                                             headers={"Authorization": f"Bearer {token}"})
            body = json.load(urllib.request.urlopen(request, timeout=2, context=context))
            return bool(body.get("secrets"))

        # Pods are admitted once the default service account has its token (the controller-manager's work).
        wait_until("the default service account's token", default_service_account, components, 120)
        with open(os.path.join(directory, "ready"), "w") as f:
            json.dump({"server": server, "kubeconfig": path, "pid": os.getpid()}, f)
        print(f"kube_testenv: ready at {server}; kubeconfig {path}", flush=True)

        def watch_stdin():
            # The caller holds the write end of our stdin: EOF means it has gone.
            while sys.stdin.buffer.read(4096):
                pass
            stop.set()

        parent = os.getppid()
        if not args.no_stdin:
            threading.Thread(target=watch_stdin, daemon=True).start()
        while not stop.wait(0.5):
            components.check()
            # Also end when the caller dies without closing our stdin (another child inherited it).
            if not args.no_stdin and os.getppid() != parent:
                break
    finally:
        components.stop()
        if args.remove_on_exit:
            shutil.rmtree(args.remove_on_exit, ignore_errors=True)
        elif os.path.exists(os.path.join(directory, "ready")):
            os.remove(os.path.join(directory, "ready"))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    serve_parser = sub.add_parser("serve", help="start the control plane; stop it when stdin closes or on SIGTERM")
    serve_parser.add_argument("--dir", required=True, help="work directory (etcd data, PKI, logs, kubeconfig)")
    serve_parser.add_argument("--bin", required=True, help="directory holding kube-apiserver and friends")
    serve_parser.add_argument("--etcd", default="/usr/bin/etcd")
    serve_parser.add_argument("--no-stdin", action="store_true", help="run until a signal, ignoring stdin")
    serve_parser.add_argument("--remove-on-exit", metavar="PATH", help="delete PATH (the work directory or a parent "
                              "holding it) once everything has stopped")
    args = parser.parse_args()
    try:
        serve(args)
    except RuntimeError as error:
        sys.exit(f"kube_testenv: {error}")


if __name__ == "__main__":
    main()
