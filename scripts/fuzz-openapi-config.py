#!/usr/bin/env python3
"""Writes the schemathesis configuration for scripts/fuzz-openapi.sh: the demo city's real ids as
dictionaries, bound to the path parameters, query parameters and body fields that name them, so
the fuzzer reaches real records and not only 404s.

Usage: fuzz-openapi-config.py BASE_URL TOKEN OUT.toml
"""
import json
import sys
import urllib.request

BASE, TOKEN, OUT = sys.argv[1], sys.argv[2], sys.argv[3]


def get(path):
    req = urllib.request.Request(
        f"{BASE}/api/v1/{path}", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def items(path):
    v = get(path)
    return v["items"] if isinstance(v, dict) else v


def ids(path, key="id", keep=lambda x: True):
    return [str(x[key]) for x in items(path) if x.get(key) is not None and keep(x)]


me = get("me")
admin_id = me["id"]
admin_grants = {g["id"] for g in me["grants"]}
users = items("users?page_size=200")
units = ids("case-units")
households = ids("households?page_size=20")
cases = items("cases?page_size=50")

# Ids the fuzzer may use. The admin's own user and grants are left out: disabling the admin,
# resetting its password or deleting its grant would end the run's own session.
dictionaries = {
    "areas": ids("areas?limit=200"),
    "party_orgs": ids("party-orgs?limit=200"),
    "users": [u["id"] for u in users if u["id"] != admin_id],
    "grants": [
        g["id"] for u in users for g in u["grants"] if g["id"] not in admin_grants
    ],
    "dwellings": ids("dwellings?page_size=20"),
    "households": households,
    "members": [
        m["id"]
        for h in households[:5]
        for m in get(f"households/{h}/file")["members"]
    ],
    "persons": ids("persons?page_size=20"),
    "needs": ids("needs?page_size=20"),
    "years": [str(y["year"]) for y in items("calendar")],
    "categories": ids("case-categories"),
    "units": units,
    "duties": [d["id"] for u in units[:5] for d in items(f"case-units/{u}/duties")],
    "unit_members": [
        m["member_id"] for u in units[:5] for m in items(f"case-units/{u}/members")
    ],
    "cases": [c["id"] for c in cases],
    "activities": ids("activities?page_size=20"),
    "volunteers": ids("volunteers?page_size=20"),
    "party_members": ids("party-members?page_size=20"),
    "catalog": ids("catalog"),
    "certificates": ids("certificates?page_size=20"),
    "certificate_numbers": ids("certificates?page_size=20", key="number"),
    "accounts": ids("points/accounts?page_size=20"),
    "postings": [
        p["id"]
        for a in ids("points/accounts?page_size=3")
        for p in items(f"points/accounts/{a}/postings?page_size=5")
    ],
    "sharing_rules": ids("sharing-rules"),
}
dictionaries = {k: v for k, v in dictionaries.items() if v}

# (path regex, parameter → dictionary) for the operations that name a record in their path.
PATHS = [
    (r"^/api/v1/areas/\{id\}", {"id": "areas"}),
    (r"^/api/v1/party-orgs/\{id\}", {"id": "party_orgs"}),
    (r"^/api/v1/work-units/\{org_id\}", {"org_id": "party_orgs"}),
    (r"^/api/v1/users/\{id\}", {"id": "users"}),
    (r"^/api/v1/grants/\{id\}", {"id": "grants"}),
    (r"^/api/v1/dwellings/\{id\}", {"id": "dwellings"}),
    (r"^/api/v1/households/\{id\}", {"id": "households", "member_id": "members"}),
    (r"^/api/v1/persons/\{id\}", {"id": "persons"}),
    (r"^/api/v1/needs/\{id\}", {"id": "needs"}),
    (r"^/api/v1/calendar/\{year\}", {"year": "years"}),
    (r"^/api/v1/case-categories/\{id\}", {"id": "categories"}),
    (r"^/api/v1/case-duties/\{id\}", {"id": "duties"}),
    (r"^/api/v1/case-units/\{id\}", {"id": "units", "member_id": "unit_members"}),
    (r"^/api/v1/cases/\{id\}", {"id": "cases"}),
    (r"^/api/v1/activities/\{id\}", {"id": "activities", "volunteer_id": "volunteers"}),
    (r"^/api/v1/volunteers/\{id\}", {"id": "volunteers"}),
    (r"^/api/v1/party-members/\{id\}", {"id": "party_members"}),
    (r"^/api/v1/work-unit/members/\{id\}", {"id": "party_members"}),
    (r"^/api/v1/catalog/\{id\}", {"id": "catalog"}),
    (r"^/api/v1/certificates/\{id\}", {"id": "certificates"}),
    (r"^/api/v1/public/certificates/\{number\}", {"number": "certificate_numbers"}),
    (r"^/api/v1/points/accounts/\{id\}", {"id": "accounts"}),
    (r"^/api/v1/points/postings/\{id\}", {"id": "postings"}),
    (r"^/api/v1/sharing-rules/\{id\}", {"id": "sharing_rules"}),
    (r"^/api/v1/shared/rules/\{id\}", {"id": "sharing_rules"}),
]

# Query parameters and body fields that name a record, whatever the operation.
FIELDS = {
    "area_id": "areas",
    "under": "areas",
    "parent_id": "areas",
    "new_parent_id": "areas",
    "building_id": "areas",
    "community_id": "areas",
    "org_id": "party_orgs",
    "work_unit_org_id": "party_orgs",
    "dwelling_id": "dwellings",
    "household_id": "households",
    "person_id": "persons",
    "head_person_id": "persons",
    "unit_id": "units",
    "user_id": "users",
    "activity_id": "activities",
    "volunteer_id": "volunteers",
    "member_id": "party_members",
    "account_id": "accounts",
    "item_id": "catalog",
}


def q(s):
    return json.dumps(s, ensure_ascii=False)


def binding(name, probability):
    return f"{{ dictionary = {q(name)}, probability = {probability} }}"


out = []
for name, values in dictionaries.items():
    out.append(f"[dictionaries.{name}]")
    out.append(f"values = [{', '.join(q(v) for v in values)}]")
    out.append("")
out.append("[parameters]")
for field, name in FIELDS.items():
    if name in dictionaries:
        out.append(f"{q('query.' + field)} = {binding(name, 0.5)}")
        out.append(f"{q('body.' + field)} = {binding(name, 0.5)}")
out.append("")
for regex, params in PATHS:
    bound = [(p, d) for p, d in params.items() if d in dictionaries]
    if not bound:
        continue
    out.append("[[operations]]")
    out.append(f"include-path-regex = {q(regex)}")
    pairs = ", ".join(f"{q('path.' + p)} = {binding(d, 0.8)}" for p, d in bound)
    out.append(f"parameters = {{ {pairs} }}")
    out.append("")

with open(OUT, "w", encoding="utf-8") as f:
    f.write("\n".join(out))
print(
    f"fuzz config: {len(dictionaries)} id dictionaries, "
    f"{sum(len(v) for v in dictionaries.values())} ids -> {OUT}"
)
