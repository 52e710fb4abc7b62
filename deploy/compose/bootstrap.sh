#!/bin/sh
# One-shot: creates three nodes, an issuer and the aggregator's trust policy in the shared
# volume, once. Later runs leave everything as it is.
set -eu
cd /data
for n in 1 2 3; do
  if [ ! -f "node-$n/node.toml" ]; then
    signpost node init --dir "node-$n" --name "Organisation $n" --base-url "http://node-$n:8081"
  fi
done
if [ ! -f issuer/state.json ]; then
  signpost issuer init --dir issuer --name "Regional Training Provider"
fi
mkdir -p aggregator
if [ ! -f aggregator/aggregator.toml ]; then
  {
    echo 'store_dir = "store"'
    for n in 1 2 3; do
      printf '\n[[nodes]]\nurl = "http://node-%s:8081"\nid = "%s"\n' "$n" "$(signpost keys show --key node-$n/root-key.pem)"
    done
    printf '\n[[issuers]]\nid = "%s"\nname = "Regional Training Provider"\nachievements = ["trauma-informed-practice"]\nrevocations_url = "http://issuer:8090/revocations"\n' \
      "$(signpost keys show --key issuer/issuer-key.pem)"
  } > aggregator/aggregator.toml
  for n in 1 2 3; do
    sed -i 's|^subscribers = \[\]|subscribers = ["http://aggregator:8080/v1/ping"]|' "node-$n/node.toml"
  done
fi
