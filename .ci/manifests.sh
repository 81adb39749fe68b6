#!/usr/bin/env bash
# Renders the Kubernetes manifests (the base, every overlay, and the base with each entry
# component) and checks them without a cluster: kubernetes-validate --strict against the
# oldest and the newest Kubernetes minor the suite supports that kubernetes-validate
# bundles, then k8s/check-gateway-api.py for the custom resources (Gateway API, NGINX
# Gateway Fabric) and the references between objects, after its self-test. Needs kubectl
# (or kustomize) and kubernetes-validate on PATH; .ci/run installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# The oldest minor the manifests work on: native gRPC probes are GA and topology spread's
# matchLabelKeys is on by default from 1.27.
oldest_supported=1.27

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

renderings=()
render() { # NAME KUSTOMIZATION_DIR
  renderings+=("$1")
  if command -v kubectl >/dev/null 2>&1; then
    kubectl kustomize "$2" >"$out/$1.yaml"
  else
    kustomize build "$2" >"$out/$1.yaml"
  fi
  printf '%-40s %3d objects\n' "$1" "$(grep -c '^kind:' "$out/$1.yaml")"
}

# The base with a list of components, as an overlay (which names the namespace) picks them.
render_with() { # NAME COMPONENT…
  local name="$1" dir="$out/kustomizations/$1"
  shift
  mkdir -p "$dir"
  # kustomize takes relative paths only.
  local k8s
  k8s="$(realpath --relative-to="$dir" k8s)"
  {
    echo "namespace: portal"
    echo "resources: [$k8s/base]"
    echo "components:"
    for component in "$@"; do echo "  - $k8s/components/$component"; done
  } >"$dir/kustomization.yaml"
  render "$name" "$dir"
}

render base k8s/base
for overlay in k8s/overlays/*/; do
  render "overlay-$(basename "$overlay")" "$overlay"
done
render_with base+gateway-api gateway-api
render_with base+gateway-api+nginx-gateway-fabric gateway-api nginx-gateway-fabric
render_with base+ingress-nginx ingress-nginx

# kubernetes-validate bundles one schema set per minor; take the oldest we support and the newest.
read -r oldest newest < <(python3 - "$oldest_supported" <<'EOF'
import sys
import kubernetes_validate.utils as utils

def minor(version):
    return tuple(int(part) for part in version.split(".")[:2])

floor = minor(sys.argv[1])
versions = sorted({v for v in utils.all_versions() if minor(v) >= floor}, key=minor)
if not versions:
    sys.exit(f"kubernetes-validate bundles no Kubernetes version from {sys.argv[1]} on")
print(versions[0], versions[-1])
EOF
)
# The renderings share most objects: each is validated once, in the first rendering that
# has it (first-seen/), and the two versions side by side.
python3 - "$out" "${renderings[@]}" <<'EOF'
import json, os, sys, yaml
out, seen = sys.argv[1], set()
os.mkdir(os.path.join(out, "first-seen"))
for name in sys.argv[2:]:
    docs = [d for d in yaml.load_all(open(os.path.join(out, name + ".yaml")), Loader=yaml.CSafeLoader) if d]
    new = [d for d in docs if json.dumps(d, sort_keys=True) not in seen]
    seen.update(json.dumps(d, sort_keys=True) for d in new)
    with open(os.path.join(out, "first-seen", name + ".yaml"), "w") as first_seen:
        yaml.dump_all(new, first_seen, Dumper=yaml.CSafeDumper)
EOF
echo "kubernetes-validate --strict, Kubernetes $oldest and $newest"
# Custom resources only get a warning here ("Couldn't find schema"); the next check covers them.
kubernetes-validate --strict --quiet --no-warn -k "$oldest" "$out"/first-seen/*.yaml &
oldest_check=$!
kubernetes-validate --strict --quiet --no-warn -k "$newest" "$out"/first-seen/*.yaml
wait "$oldest_check"

python3 k8s/check-gateway-api.py self-test "$out/base+gateway-api+nginx-gateway-fabric.yaml"
python3 k8s/check-gateway-api.py "$out"/*.yaml
