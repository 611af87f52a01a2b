#!/usr/bin/env bash
# Issue 14's figures against a running demo (`cargo run --release -- serve --demo`):
#   scripts/bench-admin.sh [BASE_URL]
# GET /me/todos for a district admin, a street admin, a community worker and a grid worker (10 requests
# each), a bulk creation of 100 workers (dry run, then commit), and an import of a community with 20
# grids and 2,000 buildings with boundaries (dry run, then commit), then 5,000 empty dwellings in those
# buildings from a sheet (dry run, then commit_valid). It writes into the demo: run it on
# a throwaway data directory. Needs curl and python3.
set -euo pipefail
base="${1:-http://127.0.0.1:8080}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
token() {
  curl -sf -X POST "$base/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"username\":\"$1\",\"password\":\"Demo@2026\"}" | python3 -c 'import sys,json;print(json.load(sys.stdin)["token"])'
}
for u in quji jiedao shequ wangge; do
  t=$(token "$u")
  times=""
  for _ in $(seq 10); do
    times="$times $(curl -sf -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $t" "$base/api/v1/me/todos")"
  done
  echo "GET /me/todos as $u (s):$times"
done
t=$(token jiedao)
street=$(curl -sf -H "Authorization: Bearer $t" "$base/api/v1/areas/roots" | python3 -c 'import sys,json;d=json.load(sys.stdin);print(d[0]["code"], d[0]["name"])')
code=${street%% *}
name=${street#* }
suffix=$(date +%s)
python3 - "$tmp" "$name" "$suffix" "$code" <<'PY'
import sys, json
tmp, street, suffix, code = sys.argv[1:5]
rows = ["用户名,姓名,手机号,角色,区域"] + [f"b{suffix}.{i:03d},测试{i},138{i:08d},网格员,{street}" for i in range(100)]
open(f"{tmp}/users.csv", "w").write("\n".join(rows) + "\n")
def sq(x, y, d): return {"type": "Polygon", "coordinates": [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]]}
c = code[:9] + f"{int(suffix) % 900 + 100:03d}"
feats = [{"type": "Feature", "properties": {"code": c, "name": f"基准社区{suffix}"}, "geometry": sq(115.3, 38.8, 0.05)}]
for g in range(1, 21):
    gc = c + f"{g:03d}"
    feats.append({"type": "Feature", "properties": {"code": gc, "name": f"基准{g}网格"}, "geometry": sq(115.3 + g * 0.002, 38.8, 0.002)})
    for b in range(1, 101):
        feats.append({"type": "Feature", "properties": {"code": gc + f"{b:03d}", "name": f"{b}号楼"},
                      "geometry": sq(115.3 + g * 0.002, 38.8 + b * 0.00001, 0.00001)})
json.dump({"type": "FeatureCollection", "features": feats}, open(f"{tmp}/areas.geojson", "w"), ensure_ascii=False)
# 房屋台账 for those buildings: 5,000 empty dwellings (the sheet's limit), 2 units × up to 25 rooms per building
rows = ["楼栋,单元,楼层,室号,用途"]
for g in range(1, 21):
    for b in range(1, 101):
        for u in (1, 2):
            for r in range(1, 14 if u == 1 else 13):
                if len(rows) <= 5000:
                    rows.append(f"{c}{g:03d}{b:03d},{u},{(r + 1) // 2},{(r + 1) // 2}0{r % 2 + 1},空置")
open(f"{tmp}/dwellings.csv", "w").write("\n".join(rows) + "\n")
PY
for m in dry_run commit; do
  curl -sf -o /dev/null -w "POST /users/import?mode=$m, 100 workers: %{time_total}s\n" -X POST \
    -H "Authorization: Bearer $t" -H 'content-type: text/csv' --data-binary @"$tmp/users.csv" "$base/api/v1/users/import?mode=$m"
done
for m in dry_run commit; do
  curl -sf -o /dev/null -w "POST /import/areas?mode=$m, 2,021 areas: %{time_total}s\n" -X POST \
    -H "Authorization: Bearer $t" -H 'content-type: application/geo+json' --data-binary @"$tmp/areas.geojson" "$base/api/v1/import/areas?mode=$m"
done
for m in dry_run commit_valid; do
  curl -sf -o "$tmp/report.json" -w "POST /import/dwellings?mode=$m, 5,000 empty dwellings: %{time_total}s" -X POST \
    -H "Authorization: Bearer $t" -H 'content-type: text/csv' --data-binary @"$tmp/dwellings.csv" "$base/api/v1/import/dwellings?mode=$m"
  python3 -c 'import sys,json;r=json.load(open(sys.argv[1]));print(" (ok %s, errors %s, created %s)" % (r["ok_rows"], r["error_rows"], r["created"]))' "$tmp/report.json"
done
