#!/usr/bin/env python3
"""A digest of a demo database's content, to check that a change to a demo generator keeps the
same city for the same seed (tests rely on the demo data).

    GONGZHI_DATA_DIR=/tmp/before gongzhi-old demo   # the binary before the change
    GONGZHI_DATA_DIR=/tmp/after  gongzhi     demo   # after; run both within a few minutes
    scripts/demo-digest.py /tmp/before/gongzhi.db > before.txt
    scripts/demo-digest.py /tmp/after/gongzhi.db | diff before.txt -

Each line is a table (or a view of it), its row count and a hash of its rows. What depends on the
moment of the run is left out: times (except offsets that come from random draws), encrypted values
and keyed hashes (each data directory has its own keys), and ids made at random (rows made with
random ids are keyed by the person or title they belong to). A case received within minutes of
local midnight can change its day (and its number) between two runs; run both close together.
SQLite only.
"""
import hashlib
import sqlite3
import sys

V = "(SELECT person_id FROM volunteers v WHERE v.id = {})"
QUERIES = {
 'cases': "SELECT id, no, status, category_code, kind, channel, description, title, rating, outcome, result, return_count, returned_units, overdue, warned, supervise_count, bound, route_rule, route_duty_id, route_unit_id, unit_id, first_unit_id, pending_ext_days, pending_ext_reason, lat, lon, street_id, community_id, grid_id, registered_at - received_at, dispatched_at - received_at, responded_at - received_at, handled_at IS NULL, verified_at IS NULL, rated_at IS NULL, closed_at IS NULL, warn_at IS NULL FROM cases ORDER BY id",
 'events': "SELECT case_id, community_id, actor_name, action, from_status, to_status, unit_id, note FROM case_events ORDER BY case_id, at, action",
 'units': "SELECT id, name, kind, area_id, contact FROM case_units ORDER BY id",
 'duties': "SELECT id, unit_id, name, legal_basis, area_id FROM case_duties ORDER BY id",
 'duty_cats': "SELECT category_code, duty_id FROM case_duty_categories ORDER BY 1,2",
 'unit_members': "SELECT unit_id, (SELECT username FROM users u WHERE u.id = member_id) FROM case_unit_members ORDER BY 1,2",
 'cats': "SELECT id, parent_id, code, name, level, response_limit, handle_limit, verify_limit, return_visit_required FROM case_categories ORDER BY id",
 'whistles': "SELECT case_id, kind, note, created_by_name FROM case_whistles ORDER BY case_id",
 'whistle_units': "SELECT w.case_id, u.unit_id, u.arrived_by_name FROM case_whistle_units u JOIN case_whistles w ON w.id = u.whistle_id ORDER BY 1,2",

 'dwellings': "SELECT id, street_id, community_id, grid_id, building_id, unit, floor, room, usage, address FROM dwellings ORDER BY id",
 'owners': "SELECT id, dwelling_id, person_id, owner_name, from_date FROM dwelling_owners ORDER BY id",
 'households': "SELECT id, area_id, dwelling_id, kind, head_person_id, (created_at - COALESCE(last_verified_at, 0)) / 86400000 FROM households ORDER BY id",
 'hmembers': "SELECT id, household_id, person_id, relation, from_date FROM household_members ORDER BY id",
 'persons': "SELECT id, area_id, name, id_type, id_no_masked, gender, birth_date, ethnicity, mobile_masked, political_status, education, occupation, hukou_place, residence_type, tags, (created_at - COALESCE(last_verified_at, 0)) / 86400000 FROM persons ORDER BY id",
 'ptags': "SELECT person_id, COUNT(*) FROM person_tags GROUP BY person_id ORDER BY 1",
 'visits': "SELECT id, household_id, visited_on, visitors, mode, notes FROM visits ORDER BY id",
 'needs': "SELECT id, household_id, visit_id, category, urgency, description, status, due_on, result FROM needs ORDER BY id",
}
QUERIES.update({
 'volunteers': "SELECT person_id, community_id, skills, willing, verified_minutes, user_id IS NULL, last_asked_at IS NULL FROM volunteers ORDER BY person_id",
 'members': f"SELECT {V.format('m.volunteer_id')}, org_id, kind, work_unit_org_id, joined_on, status, exempt_reason, last_reported_on, report_valid_until FROM party_members m ORDER BY 1",
 'report_ins': f"SELECT (SELECT {V.format('m.volunteer_id')} FROM party_members m WHERE m.id = r.member_id), unit_org_id, reported_on, valid_until, commitment FROM report_ins r ORDER BY 1, 3",
 'activities': "SELECT area_id, kind, title, place, description, capacity, risky, signed_up, checked_in, checked_out, status, ends_at - starts_at FROM activities ORDER BY starts_at, title",
 'signups': f"SELECT (SELECT title || (SELECT COUNT(*) FROM activities b WHERE b.starts_at < a.starts_at) FROM activities a WHERE a.id = s.activity_id), {V.format('s.volunteer_id')}, via, status, insurer, policy_no, checkin_at - starts_at, checkout_at - starts_at, minutes FROM activity_signups s ORDER BY 1, 2",
 'hours': f"SELECT {V.format('h.volunteer_id')}, minutes, kind, reason, day FROM service_hours h ORDER BY 1, 2, 3, 4, 5",
 'accounts': f"SELECT {V.format('a.volunteer_id')}, balance FROM point_accounts a ORDER BY 1, 2",
 'postings': "SELECT COUNT(*), SUM(amount), SUM(amount * amount) FROM point_postings",
 'reviews': f"SELECT (SELECT {V.format('m.volunteer_id')} FROM party_members m WHERE m.id = r.member_id), year, score FROM party_reviews r ORDER BY 1",
 'commend': f"SELECT {V.format('c.volunteer_id')}, title, level, star_level, reason FROM commendations c ORDER BY 1",
 'items': "SELECT community_id, name, price, stock FROM catalog_items ORDER BY 1, 2",
 'pairings': "SELECT org_id, community_id FROM branch_pairings ORDER BY 1",
 'contacts': "SELECT org_id, (SELECT username FROM users u WHERE u.id = user_id) FROM unit_contacts ORDER BY 1",
 'certs': f"SELECT {V.format('c.volunteer_id')} FROM certificates c ORDER BY 1",
 'ratings': f"SELECT (SELECT {V.format('m.volunteer_id')} FROM party_members m WHERE m.id = r.member_id), year, points, review_score, reported_in, exempt, score_x10, grade, capped FROM party_ratings r ORDER BY 1",
 'zhiyuan': "SELECT display_name FROM users WHERE username = 'zhiyuan'",
})

db = sqlite3.connect(sys.argv[1])
for name, sql in QUERIES.items():
    rows = db.execute(sql).fetchall()
    digest = hashlib.sha256(repr(rows).encode()).hexdigest()[:16]
    print(f"{name:14} {len(rows):7} {digest}")
