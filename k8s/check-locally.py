"""Runs the suite on this machine as a rendered kustomization describes it, without a cluster.

    cargo build -p gateway -p identity-svc -p access-svc -p case-svc -p partner-svc -p notify-svc
    kubectl kustomize k8s/overlays/production > /tmp/portal.yaml
    PORTAL_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
    PORTAL_TEST_REDIS_URL=redis://127.0.0.1:6379/9 python3 k8s/check-locally.py /tmp/portal.yaml

Each container gets the environment Kubernetes would build for it (ConfigMap envFrom, env,
secretKeyRef against test values), with Service host names and listen addresses moved to
127.0.0.1. It runs every `migrate` init container, starts every `serve` container, asks
each gRPC probe's health name, logs in and calls each service through the gateway, then
stops case-svc with SIGTERM to watch it drain. Needs grpcurl and psql; it drops the
PostgreSQL schemas it made (prefix `k8scheck_`) at the end. Exits non-zero on a failure.
"""

import json
import os
import re
import subprocess
import sys
import time

import yaml

BIN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "target", "debug")
DATABASE_URL = os.environ["PORTAL_TEST_DATABASE_URL"]
SCHEMA_PREFIX = "k8scheck_"
SECRET = {
    "assertion-secret": "k8s-check-assertion-secret-of-40-chars!!",
    "database-url": DATABASE_URL,
    "redis-url": os.environ.get("PORTAL_TEST_REDIS_URL", ""),
    "admin-password": "k8s check administrator password",
}
# Kept off the network: nothing here may reach the example hosts.
LOCAL = {"PORTAL__MAIL__SMTP_HOST": "127.0.0.1", "PORTAL__DATABASE__SCHEMA_PREFIX": SCHEMA_PREFIX}
AREAS = ("identity", "access", "case", "partner", "notify")

docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
config_map = next(d for d in docs if d["kind"] == "ConfigMap")
deployments = [d for d in docs if d["kind"] == "Deployment"]
failures = []


def expect(what, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + what + (f": {detail}" if detail else ""))
    if not ok:
        failures.append(what)


def environment(container):
    env = {}
    for source in container.get("envFrom", []):
        assert source["configMapRef"]["name"] == config_map["metadata"]["name"], source
        env.update(config_map["data"])
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = var["value"]
            continue
        ref = var["valueFrom"]["secretKeyRef"]
        assert ref["name"] == "portal-secrets", ref
        if ref["key"] in SECRET:
            env[var["name"]] = SECRET[ref["key"]]
        else:
            assert ref.get("optional"), f"secret key {ref['key']} is required but has no test value"
    env.update(LOCAL)
    loopback = {k: re.sub(r"http://[a-z-]+:(\d+)", r"http://127.0.0.1:\1", v) for k, v in env.items()}
    loopback = {k: v.replace("0.0.0.0:", "127.0.0.1:") for k, v in loopback.items()}
    return {"PATH": os.environ["PATH"], **loopback}


def command(container):
    return [os.path.join(BIN_DIR, container["command"][0])] + container.get("args", [])


def grpcurl(address, method, body="{}", token=None):
    args = ["grpcurl", "-plaintext", "-max-time", "5", "-d", body]
    if token:
        args += ["-H", f"authorization: Bearer {token}"]
    result = subprocess.run(args + [address, method], capture_output=True, text=True)
    return result.returncode, (result.stdout + result.stderr).strip()


def health(port, service=None):
    body = json.dumps({"service": service} if service else {})
    code, out = grpcurl(f"127.0.0.1:{port}", "grpc.health.v1.Health/Check", body)
    return json.loads(out)["status"] if code == 0 else out


def drop_schemas():
    for area in AREAS:
        subprocess.run(["psql", "-q", DATABASE_URL, "-c", f'DROP SCHEMA IF EXISTS "{SCHEMA_PREFIX}{area}" CASCADE'],
                       capture_output=True)


drop_schemas()
for deployment in deployments:
    for init in deployment["spec"]["template"]["spec"].get("initContainers", []):
        result = subprocess.run(command(init), env=environment(init), capture_output=True, text=True)
        expect(f"{deployment['metadata']['name']} {init['name']}", result.returncode == 0, result.stderr[-300:])

log = open(os.path.join(os.environ.get("TMPDIR", "/tmp"), "k8s-check-locally.log"), "w")
processes = {}
for deployment in deployments:
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    processes[deployment["metadata"]["name"]] = (container, subprocess.Popen(
        command(container), env=environment(container), stdout=log, stderr=log))
try:
    time.sleep(8)
    for name, (container, process) in processes.items():
        expect(f"{name} running", process.poll() is None)
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            if "grpc" in container.get(probe, {}):
                grpc = container[probe]["grpc"]
                status = health(grpc["port"], grpc.get("service"))
                expect(f"{name} {probe} {grpc.get('service', '(overall)')}", status == "SERVING", status)

    gateway = "127.0.0.1:50051"
    code, out = grpcurl(gateway, "portal.identity.v1.SessionService/Login",
                        json.dumps({"email": "admin@portal.local", "password": SECRET["admin-password"]}))
    expect("login through the gateway", code == 0, "" if code == 0 else out)
    token = json.loads(out)["token"] if code == 0 else None
    for method in ("portal.identity.v1.SessionService/WhoAmI", "portal.access.v1.PortalObjectService/ListPortalObjects",
                   "portal.case.v1.ServiceCatalogService/ListServiceItems",
                   "portal.partner.v1.PartnerProgramService/ListPromotions",
                   "portal.notify.v1.TemplateService/ListTemplates"):
        code, out = grpcurl(gateway, method, token=token)
        # A domain answer (here partner's NotFound for an unnamed partnership) proves the call got there.
        reached = code == 0 or "Code: NotFound" in out
        expect(f"{method} through the gateway", reached, "" if reached else out[:200])

    container, case = processes["case-svc"]
    stopped_at = time.time()
    case.terminate()
    time.sleep(0.5)
    readiness = container["readinessProbe"]["grpc"]
    status = health(readiness["port"], readiness.get("service"))
    expect("case-svc NOT_SERVING right after SIGTERM", status == "NOT_SERVING", status)
    time.sleep(3)
    gateway_ready = processes["gateway"][0]["readinessProbe"]["grpc"]
    status = health(gateway_ready["port"], gateway_ready.get("service"))
    expect("gateway stays ready while case-svc is gone", status == "SERVING", status)
    case.wait(timeout=60)
    expect(f"case-svc exited cleanly after {time.time() - stopped_at:.1f} s", case.returncode == 0)
finally:
    for _, process in processes.values():
        if process.poll() is None:
            process.terminate()
    for _, process in processes.values():
        process.wait(timeout=60)
    drop_schemas()

print(f"{len(failures)} failed" if failures else "all checks passed")
sys.exit(1 if failures else 0)
