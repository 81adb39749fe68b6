"""Checks what kubernetes-validate cannot: the custom resources of rendered kustomizations.

    kubectl kustomize k8s/overlays/production > /tmp/production.yaml
    python3 k8s/check-gateway-api.py /tmp/production.yaml [more rendered files…]

kubernetes-validate bundles the schemas of Kubernetes' own APIs only; a Gateway, a
GRPCRoute or an NGINX Gateway Fabric policy gets a warning from it and passes. This
program validates each such object against the schema of its CRD, vendored in
k8s/schemas/ (every vendored version of it: the oldest and newest Gateway API releases
this suite supports), strictly: a field the schema does not name is an error, as
`kubectl apply` rejects it. The CEL rules of the CRDs (x-kubernetes-validations) are not
evaluated; the reference checks below cover the ones these manifests depend on. An object
whose API is neither Kubernetes' own nor vendored is an error, so nothing passes unchecked.

Then, per rendered file, the references a cluster would resolve: each route's parentRefs
name a Gateway of the file and a listener of it that admits the route's kind and shares
one of its hostnames; its backendRefs name a Service of the file and a port that Service
has; a terminating TLS listener names a Secret (which is created outside, so only its name
is checked) and has a hostname; a policy's targetRefs name an object of the file; and a
NetworkPolicy that lets the entry reach the gateway selects the gateway's pods.

    python3 k8s/check-gateway-api.py vendor k8s/schemas/NAME.json CRD.yaml VERSION SOURCE

writes the schema of one served VERSION of a CRD file (as published by its project) in
the form used here: `spec` only, without descriptions, status or CEL rules.
"""

import copy
import glob
import json
import os
import sys

import jsonschema
import yaml

SCHEMA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schemas")
# Kubernetes' own API groups, which kubernetes-validate checks.
CORE_API_VERSIONS = {
    "v1",
    "apps/v1",
    "autoscaling/v2",
    "policy/v1",
    "networking.k8s.io/v1",
    "rbac.authorization.k8s.io/v1",
    "batch/v1",
}
ROUTE_KINDS = {"GRPCRoute", "HTTPRoute"}
GATEWAY_GROUP = "gateway.networking.k8s.io"


def strip(schema):
    """A CRD schema without what JSON Schema does not check, closed against unknown fields."""
    if isinstance(schema, list):
        return [strip(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    kept = {
        key: strip(value)
        for key, value in schema.items()
        if key != "description" and not key.startswith("x-kubernetes-")
    }
    if schema.get("x-kubernetes-int-or-string"):
        kept.pop("type", None)
        kept["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if (
        kept.get("type") == "object"
        and "properties" in kept
        and "additionalProperties" not in kept
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        kept["additionalProperties"] = False
    return kept


def vendor(out_path, crd_path, version, source):
    crd = yaml.safe_load(open(crd_path))
    served = next(v for v in crd["spec"]["versions"] if v["name"] == version and v.get("served"))
    spec = served["schema"]["openAPIV3Schema"]["properties"]["spec"]
    document = {
        "source": source,
        "apiVersion": f"{crd['spec']['group']}/{version}",
        "kind": crd["spec"]["names"]["kind"],
        "spec": strip(spec),
    }
    with open(out_path, "w") as out:
        json.dump(document, out, indent=1, sort_keys=True)
        out.write("\n")


def load_schemas():
    schemas = {}
    for path in sorted(glob.glob(os.path.join(SCHEMA_DIR, "*.json"))):
        document = json.load(open(path))
        key = (document["apiVersion"], document["kind"])
        schemas.setdefault(key, []).append((os.path.basename(path), document["spec"]))
    return schemas


class Checker:
    def __init__(self, schemas):
        self.schemas = schemas
        self.failures = []
        self.checked = 0

    def fail(self, where, message):
        self.failures.append(f"{where}: {message}")

    def check_file(self, path):
        self.check_docs(path, [d for d in yaml.safe_load_all(open(path)) if d])

    def check_docs(self, path, docs):
        index = {(d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"]): d for d in docs}
        # References are followed only in objects of a valid shape.
        valid = [doc for doc in docs if self.check_schema(path, doc)]
        for doc in valid:
            where = f"{path}: {doc['kind']}/{doc['metadata']['name']}"
            if doc["kind"] in ROUTE_KINDS:
                self.check_route(where, doc, index)
            elif doc["kind"] == "Gateway":
                self.check_gateway(where, doc)
            elif "targetRef" in doc.get("spec", {}) or "targetRefs" in doc.get("spec", {}):
                self.check_policy(where, doc, index)
        self.check_entry_policy(path, docs, index)

    def check_schema(self, path, doc):
        api_version, kind = doc["apiVersion"], doc["kind"]
        where = f"{path}: {kind}/{doc['metadata']['name']}"
        if api_version in CORE_API_VERSIONS:
            return True
        versions = self.schemas.get((api_version, kind))
        if not versions:
            self.fail(where, f"no schema for {api_version} {kind} (vendor its CRD into k8s/schemas/)")
            return False
        valid = True
        for name, schema in versions:
            self.checked += 1
            for error in jsonschema.Draft7Validator(schema).iter_errors(doc.get("spec", {})):
                field = ".".join(str(p) for p in error.absolute_path)
                self.fail(where, f"{name}: spec{'.' if field else ''}{field}: {error.message}")
                valid = False
        return valid

    def check_gateway(self, where, gateway):
        for listener in gateway["spec"]["listeners"]:
            name = f"listener {listener['name']}"
            if listener["protocol"] not in ("HTTPS", "TLS"):
                self.fail(where, f"{name}: protocol {listener['protocol']}; the entry terminates TLS")
                continue
            tls = listener.get("tls", {})
            if tls.get("mode", "Terminate") != "Terminate" or not tls.get("certificateRefs"):
                self.fail(where, f"{name}: a terminating TLS listener needs tls.certificateRefs")
            for ref in tls.get("certificateRefs", []):
                if ref.get("kind", "Secret") != "Secret" or ref.get("group", "") != "":
                    self.fail(where, f"{name}: certificateRef {ref['name']} is not a core Secret")
                if ref.get("namespace", gateway["metadata"].get("namespace")) != gateway["metadata"].get("namespace"):
                    self.fail(where, f"{name}: certificateRef {ref['name']} in another namespace needs a ReferenceGrant")
            if not listener.get("hostname"):
                self.fail(where, f"{name}: no hostname; the certificate is for one")

    def check_route(self, where, route, index):
        namespace = route["metadata"].get("namespace")
        hostnames = set(route["spec"].get("hostnames", []))
        if not route["spec"].get("parentRefs"):
            self.fail(where, "no parentRefs: no Gateway would carry it")
        for parent in route["spec"].get("parentRefs", []):
            if parent.get("group", GATEWAY_GROUP) != GATEWAY_GROUP or parent.get("kind", "Gateway") != "Gateway":
                self.fail(where, f"parentRef {parent['name']} is not a Gateway")
                continue
            gateway = index.get(("Gateway", parent.get("namespace", namespace), parent["name"]))
            if gateway is None:
                self.fail(where, f"parentRef names Gateway {parent['name']}, which this kustomization lacks")
                continue
            listeners = [
                listener
                for listener in gateway["spec"]["listeners"]
                if parent.get("sectionName") in (None, listener["name"])
                and parent.get("port") in (None, listener["port"])
            ]
            if not listeners:
                self.fail(where, f"parentRef: Gateway {parent['name']} has no listener {parent.get('sectionName')}")
            for listener in listeners:
                kinds = [k["kind"] for k in listener.get("allowedRoutes", {}).get("kinds", [])]
                if kinds and route["kind"] not in kinds:
                    self.fail(where, f"listener {listener['name']} admits {kinds}, not {route['kind']}")
                if listener.get("hostname") and hostnames and listener["hostname"] not in hostnames:
                    self.fail(where, f"hostnames {sorted(hostnames)} miss listener {listener['name']}'s {listener['hostname']}")
        rules = route["spec"].get("rules", [])
        if not rules:
            self.fail(where, "no rules: nothing would be forwarded")
        for rule in rules:
            if not rule.get("backendRefs"):
                self.fail(where, "a rule without backendRefs answers every call with an error")
            for backend in rule.get("backendRefs", []):
                if backend.get("group", "") != "" or backend.get("kind", "Service") != "Service":
                    self.fail(where, f"backendRef {backend['name']} is not a Service")
                    continue
                service = index.get(("Service", backend.get("namespace", namespace), backend["name"]))
                if service is None:
                    self.fail(where, f"backendRef names Service {backend['name']}, which this kustomization lacks")
                    continue
                ports = {p["port"]: p for p in service["spec"]["ports"]}
                port = ports.get(backend.get("port"))
                if port is None:
                    self.fail(where, f"backendRef port {backend.get('port')} is not a port of Service {backend['name']}")
                elif route["kind"] == "GRPCRoute" and port.get("appProtocol") != "kubernetes.io/h2c":
                    self.fail(where, f"Service {backend['name']} port {port['port']} lacks appProtocol kubernetes.io/h2c")

    def check_policy(self, where, policy, index):
        spec = policy["spec"]
        refs = spec.get("targetRefs") or [spec["targetRef"]]
        for ref in refs:
            target = index.get((ref["kind"], policy["metadata"].get("namespace"), ref["name"]))
            if target is None or target["apiVersion"].split("/")[0] != ref["group"]:
                self.fail(where, f"targetRef {ref['group']} {ref['kind']}/{ref['name']} is not in this kustomization")

    def check_entry_policy(self, path, docs, index):
        """The NetworkPolicies let the entry in: its proxies reach the gateway's pods, and
        proxies running in this namespace take connections on each listener's port."""
        entries = [d for d in docs if d["kind"] in ("Gateway", "Ingress")]
        gateway = index.get(("Deployment", entries[0]["metadata"].get("namespace"), "gateway")) if entries else None
        if gateway is None:
            return
        policies = [d for d in docs if d["kind"] == "NetworkPolicy"]

        def ingress_to(labels):
            for policy in policies:
                selector = policy["spec"]["podSelector"].get("matchLabels", {})
                if selector and all(labels.get(k) == v for k, v in selector.items()):
                    yield from policy["spec"].get("ingress", [])

        def admits(rule, entry):
            if entry["kind"] == "Ingress":
                return bool(rule.get("from"))
            proxies = {"gateway.networking.k8s.io/gateway-name": entry["metadata"]["name"]}
            return any(
                "namespaceSelector" in peer or peer.get("podSelector", {}).get("matchLabels") == proxies
                for peer in rule.get("from", [])
            )

        gateway_pods = gateway["spec"]["template"]["metadata"]["labels"]
        for entry in entries:
            where = f"{path}: {entry['kind']}/{entry['metadata']['name']}"
            if not any(admits(rule, entry) for rule in ingress_to(gateway_pods)):
                self.fail(where, "no NetworkPolicy admits its proxies to the gateway's pods")
            if entry["kind"] == "Gateway":
                proxy_rules = list(ingress_to({"gateway.networking.k8s.io/gateway-name": entry["metadata"]["name"]}))
                for listener in entry["spec"]["listeners"]:
                    if not any(
                        not rule.get("from") and any(p.get("port") == listener["port"] for p in rule.get("ports", []))
                        for rule in proxy_rules
                    ):
                        self.fail(where, f"no NetworkPolicy lets clients reach its proxies on port {listener['port']}")


def find(docs, kind, name=None):
    return next(d for d in docs if d["kind"] == kind and name in (None, d["metadata"]["name"]))


# Breakages the checker must notice, each with a word its failure names.
MUTATIONS = {
    "a field GRPCRoute lacks (timeouts are HTTPRoute's)": (
        "timeouts",
        lambda docs: find(docs, "GRPCRoute")["spec"]["rules"][0].update(timeouts={"request": "60s"}),
    ),
    "a backend port the Service lacks": (
        "port 50052",
        lambda docs: find(docs, "GRPCRoute")["spec"]["rules"][0]["backendRefs"][0].update(port=50052),
    ),
    "a backend Service that does not exist": (
        "gateway-typo",
        lambda docs: find(docs, "GRPCRoute")["spec"]["rules"][0]["backendRefs"][0].update(name="gateway-typo"),
    ),
    "a backend port without h2c": (
        "h2c",
        lambda docs: find(docs, "Service", "gateway")["spec"]["ports"][0].pop("appProtocol"),
    ),
    "a parent listener that does not exist": (
        "no listener",
        lambda docs: find(docs, "GRPCRoute")["spec"]["parentRefs"][0].update(sectionName="http"),
    ),
    "a parent Gateway that does not exist": (
        "lacks",
        lambda docs: find(docs, "GRPCRoute")["spec"]["parentRefs"][0].update(name="public"),
    ),
    "route host names that miss the listener's": (
        "hostnames",
        lambda docs: find(docs, "GRPCRoute")["spec"].update(hostnames=["other.example.org"]),
    ),
    "a TLS listener without a certificate": (
        "certificateRefs",
        lambda docs: find(docs, "Gateway")["spec"]["listeners"][0]["tls"].pop("certificateRefs"),
    ),
    "a listener without a protocol (a required field)": (
        "protocol",
        lambda docs: find(docs, "Gateway")["spec"]["listeners"][0].pop("protocol"),
    ),
    "a body size nginx cannot read": (
        "maxSize",
        lambda docs: find(docs, "ClientSettingsPolicy")["spec"]["body"].update(maxSize="32 MiB"),
    ),
    "a policy aimed at an object that does not exist": (
        "targetRef",
        lambda docs: find(docs, "ProxySettingsPolicy")["spec"]["targetRefs"][0].update(name="gw"),
    ),
    "an API version without a schema": (
        "no schema",
        lambda docs: find(docs, "ProxySettingsPolicy").update(apiVersion="gateway.nginx.org/v1beta9"),
    ),
    "a listener port the proxies' NetworkPolicy does not open": (
        "port 8443",
        lambda docs: find(docs, "Gateway")["spec"]["listeners"][0].update(port=8443),
    ),
    "no NetworkPolicy admitting the entry to the gateway": (
        "admits its proxies",
        lambda docs: docs.remove(find(docs, "NetworkPolicy", "gateway-from-entry")),
    ),
}


def self_test(path):
    """The checker passes `path` (a rendering with the Gateway API entry) and fails each mutation."""
    docs = [d for d in yaml.safe_load_all(open(path)) if d]
    schemas = load_schemas()
    clean = Checker(schemas)
    clean.check_docs(path, copy.deepcopy(docs))
    problems = [f"unchanged: {failure}" for failure in clean.failures]
    for what, (marker, mutate) in MUTATIONS.items():
        mutated = copy.deepcopy(docs)
        mutate(mutated)
        checker = Checker(schemas)
        checker.check_docs(path, mutated)
        if not any(marker in failure for failure in checker.failures):
            problems.append(f"{what}: not noticed ({checker.failures or 'no failure'})")
    for problem in problems:
        print("FAIL self-test " + problem)
    print(f"self-test: {len(MUTATIONS) - len(problems)} passed, {len(problems)} failed")
    return 1 if problems else 0


def main(args):
    if args and args[0] == "vendor":
        vendor(*args[1:])
        return 0
    if args and args[0] == "self-test":
        return self_test(args[1])
    checker = Checker(load_schemas())
    for path in args:
        checker.check_file(path)
    for failure in checker.failures:
        print("FAIL " + failure)
    print(f"{checker.checked} custom resource validations in {len(args)} files, {len(checker.failures)} failures")
    return 1 if checker.failures or not args else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
