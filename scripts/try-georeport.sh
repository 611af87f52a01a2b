#!/usr/bin/env bash
# Tries gongzhi's Open311 endpoint with a standard GeoReport v2 client, as a new user would: the
# `georeport` Python package, which sends no key on list and lookup calls.
#
#   cargo run --release -- serve --demo &        # then, in another shell:
#   scripts/try-georeport.sh [http://127.0.0.1:8080]
#
# Prints the number of services, of public requests (the categories the demo streets opened:
# litter, green space, manholes, roads), and one request looked up by its number — which must
# carry no description and no coordinates.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE="${1:-http://127.0.0.1:8080}"
VENV=target/georeport-venv
if [[ ! -x "$VENV/bin/python" ]]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "georeport==0.3.1"
fi
"$VENV/bin/python" - "$BASE" <<'PY'
import sys
from georeport import GeoReport
g = GeoReport(root_address=sys.argv[1].rstrip('/') + '/open311/v2')
services = g.get_service_list()
requests = g.get_service_requests()
print(f"services: {len(services)}; public requests: {len(requests)}")
if requests:
    one = g.get_service_request(requests[0]['service_request_id'])
    one = one[0] if isinstance(one, list) else one
    print("one request:", {k: one.get(k) for k in ('service_request_id', 'service_name', 'status', 'address')})
    leaked = [k for k in ('description', 'lat', 'long', 'media_url') if one.get(k) not in (None, '')]
    if leaked:
        sys.exit(f"personal or exact fields answered without a key: {leaked}")
    print("no description, coordinates or photo without a key")
PY
