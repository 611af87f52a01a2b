//! Persons (居民): identity checked on entry, ID numbers and mobiles encrypted with blind indexes,
//! masked by default, revealed only with a reason, every read audited, every change kept.
use sea_orm::{ConnectionTrait, FromQueryResult, Value};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    age_on, diff, opt_text, place, record_change, today, years_before, Change, Event, Placement,
};
use crate::app::audit::{self, Entry};
use crate::app::{scope, Ctx};
use crate::crypto::Keys;
use crate::domain::ids::{mask_id, mask_mobile, IdCardNo, MobileNo};
use crate::domain::registry::{self as vocab, is_sensitive_tag};
use crate::domain::role::Permission;
use crate::domain::{clean_name, ms_to_rfc3339, new_id, now_ms};
use crate::error::{AppError, AppResult, FieldErrors, Msg};
use crate::store::sql::{Cond, Set, Where};
use crate::store::{self, Db};

/// A person as shown: masked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Person {
    pub id: Uuid,
    pub name: String,
    pub id_type: String,
    pub id_no_masked: Option<String>,
    pub gender: Option<String>,
    pub birth_date: Option<String>,
    pub age: Option<i32>,
    pub ethnicity: Option<String>,
    pub mobile_masked: Option<String>,
    pub political_status: Option<String>,
    pub education: Option<String>,
    pub occupation: Option<String>,
    pub work_unit: Option<String>,
    pub hukou_place: Option<String>,
    pub residence_type: String,
    pub tags: Vec<String>,
    /// Present only for roles that may see sensitive tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sensitive_tags: Option<Vec<String>>,
    /// active | moved_out | deceased
    pub status: String,
    pub area_id: Uuid,
    pub grid_id: Uuid,
    pub community_id: Uuid,
    pub household_id: Option<Uuid>,
    pub relation: Option<String>,
    pub address: Option<String>,
    pub version: i32,
    pub last_verified_at: Option<String>,
    pub last_verified_by: Option<String>,
    pub updated_at: String,
}

#[derive(Debug, Clone, FromQueryResult)]
pub(crate) struct PersonRow {
    pub street_id: Uuid,
    pub id: Uuid,
    pub community_id: Uuid,
    pub grid_id: Uuid,
    pub area_id: Uuid,
    pub name: String,
    pub id_type: String,
    pub id_no_enc: Option<String>,
    pub id_no_bidx: Option<String>,
    pub id_no_masked: Option<String>,
    pub gender: Option<String>,
    pub birth_date: Option<String>,
    pub ethnicity: Option<String>,
    pub mobile_enc: Option<String>,
    pub mobile_bidx: Option<String>,
    pub mobile_masked: Option<String>,
    pub political_status: Option<String>,
    pub education: Option<String>,
    pub occupation: Option<String>,
    pub work_unit: Option<String>,
    pub hukou_place: Option<String>,
    pub residence_type: String,
    pub tags: String,
    pub sensitive_tags_enc: Option<String>,
    pub status: String,
    pub version: i32,
    pub last_verified_at: Option<i64>,
    pub last_verified_by: Option<String>,
    pub updated_at: i64,
    pub household_id: Option<Uuid>,
    pub relation: Option<String>,
    pub address: Option<String>,
}

pub(crate) const SELECT: &str = "SELECT p.street_id, p.id, p.community_id, p.grid_id, p.area_id, p.name, p.id_type, \
    p.id_no_enc, p.id_no_bidx, p.id_no_masked, p.gender, p.birth_date, p.ethnicity, p.mobile_enc, p.mobile_bidx, \
    p.mobile_masked, p.political_status, p.education, p.occupation, p.work_unit, p.hukou_place, p.residence_type, \
    p.tags, p.sensitive_tags_enc, p.status, p.version, p.last_verified_at, p.last_verified_by, p.updated_at, \
    (SELECT m.household_id FROM household_members m WHERE m.person_id = p.id AND m.to_date IS NULL ORDER BY m.from_date DESC LIMIT 1) AS household_id, \
    (SELECT m.relation FROM household_members m WHERE m.person_id = p.id AND m.to_date IS NULL ORDER BY m.from_date DESC LIMIT 1) AS relation, \
    (SELECT d.address FROM household_members m JOIN households h ON h.id = m.household_id JOIN dwellings d ON d.id = h.dwelling_id \
      WHERE m.person_id = p.id AND m.to_date IS NULL ORDER BY m.from_date DESC LIMIT 1) AS address \
    FROM persons p";

fn split_tags(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

pub(crate) fn view(r: PersonRow, keys: &Keys, show_sensitive: bool) -> Person {
    let today = today();
    Person {
        age: r.birth_date.as_deref().and_then(|b| age_on(b, &today)),
        sensitive_tags: show_sensitive.then(|| {
            r.sensitive_tags_enc
                .as_deref()
                .and_then(|e| keys.decrypt(e))
                .and_then(|j| serde_json::from_str(&j).ok())
                .unwrap_or_default()
        }),
        tags: split_tags(&r.tags),
        id: r.id,
        name: r.name,
        id_type: r.id_type,
        id_no_masked: r.id_no_masked,
        gender: r.gender,
        birth_date: r.birth_date,
        ethnicity: r.ethnicity,
        mobile_masked: r.mobile_masked,
        political_status: r.political_status,
        education: r.education,
        occupation: r.occupation,
        work_unit: r.work_unit,
        hukou_place: r.hukou_place,
        residence_type: r.residence_type,
        status: r.status,
        area_id: r.area_id,
        grid_id: r.grid_id,
        community_id: r.community_id,
        household_id: r.household_id,
        relation: r.relation,
        address: r.address,
        version: r.version,
        last_verified_at: r.last_verified_at.map(ms_to_rfc3339),
        last_verified_by: r.last_verified_by,
        updated_at: ms_to_rfc3339(r.updated_at),
    }
}

pub(crate) async fn load<C: ConnectionTrait>(c: &C, id: Uuid) -> AppResult<PersonRow> {
    store::fetch_found(
        c,
        &format!("{SELECT} WHERE p.id = $1 AND p.deleted_at IS NULL"),
        vec![id.into()],
    )
    .await
}

/// The fields a person has, as typed in a form or a spreadsheet.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPerson {
    /// The building (or grid) the person lives in.
    pub area_id: Uuid,
    pub name: String,
    /// Default `id_card`.
    pub id_type: Option<String>,
    pub id_no: String,
    pub gender: Option<String>,
    /// `YYYY-MM-DD`; for an ID card it must agree with the number (and is derived when absent).
    pub birth_date: Option<String>,
    pub ethnicity: Option<String>,
    pub mobile: Option<String>,
    pub political_status: Option<String>,
    pub education: Option<String>,
    pub occupation: Option<String>,
    pub work_unit: Option<String>,
    pub hukou_place: Option<String>,
    pub residence_type: String,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// A validated person, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct CleanPerson {
    pub name: String,
    pub id_type: &'static str,
    pub id_no: String,
    pub gender: Option<&'static str>,
    pub birth_date: Option<String>,
    pub ethnicity: Option<String>,
    pub mobile: Option<String>,
    pub political_status: Option<&'static str>,
    pub education: Option<&'static str>,
    pub occupation: Option<String>,
    pub work_unit: Option<String>,
    pub hukou_place: Option<String>,
    pub residence_type: &'static str,
    pub tags: Vec<&'static str>,
}

fn opt_vocab(
    v: &Option<String>,
    voc: &vocab::Vocab,
    field: &str,
    errs: &mut FieldErrors,
) -> Option<&'static str> {
    let s = v.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
    voc.parse(s)
        .map_err(|m| errs.insert(field.to_string(), m))
        .ok()
}

/// Checks every field; all problems at once, by field. Used by the API and the importer.
pub fn validate(p: &NewPerson) -> Result<CleanPerson, FieldErrors> {
    let mut errs = FieldErrors::new();
    let name = clean_name(&p.name, 64)
        .map_err(|m| errs.insert("name".into(), m))
        .ok();
    let id_type = match p
        .id_type
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => Some("id_card"),
        Some(t) => vocab::ID_TYPE
            .parse(t)
            .map_err(|m| errs.insert("id_type".into(), m))
            .ok(),
    };
    let mut gender = opt_vocab(&p.gender, &vocab::GENDER, "gender", &mut errs);
    let mut birth_date = match p
        .birth_date
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(d) => vocab::parse_date(d)
            .map_err(|m| errs.insert("birth_date".into(), m))
            .ok(),
    };
    let id_no = match id_type {
        Some("id_card") | Some("residence_permit") => match IdCardNo::parse(&p.id_no) {
            Ok(id) => {
                match &birth_date {
                    Some(b) if *b != id.birth_date() => {
                        errs.insert(
                            "birth_date".into(),
                            Msg::owned(
                                format!("出生日期与身份证号不符（证号为 {}）", id.birth_date()),
                                format!(
                                    "The birth date disagrees with the ID number ({})",
                                    id.birth_date()
                                ),
                            ),
                        );
                    }
                    _ => birth_date = Some(id.birth_date()),
                }
                let g = if id.is_male() { "male" } else { "female" };
                match gender {
                    Some(x) if x != g => {
                        errs.insert(
                            "gender".into(),
                            Msg::new(
                                "性别与身份证号不符",
                                "The gender disagrees with the ID number",
                            ),
                        );
                    }
                    _ => gender = Some(g),
                }
                Some(id.as_str().to_string())
            }
            Err(m) => {
                errs.insert("id_no".into(), m);
                None
            }
        },
        Some(_) => {
            let t = p.id_no.trim().to_ascii_uppercase();
            if (5..=20).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_alphanumeric()) {
                Some(t)
            } else {
                errs.insert(
                    "id_no".into(),
                    Msg::new(
                        "证件号应为 5–20 位字母或数字",
                        "The document number has 5–20 letters or digits",
                    ),
                );
                None
            }
        }
        None => None,
    };
    let mobile = match p.mobile.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(m) => MobileNo::parse(m)
            .map(|m| m.as_str().to_string())
            .map_err(|m| errs.insert("mobile".into(), m))
            .ok(),
    };
    let residence_type = vocab::RESIDENCE_TYPE
        .parse(&p.residence_type)
        .map_err(|m| errs.insert("residence_type".into(), m))
        .ok();
    let mut tags = vec![];
    for t in &p.tags {
        match vocab::TAGS.parse(t) {
            Ok(code) if !tags.contains(&code) => tags.push(code),
            Ok(_) => {}
            Err(m) => {
                errs.insert("tags".into(), m);
            }
        }
    }
    let clean = CleanPerson {
        name: name.unwrap_or_default(),
        id_type: id_type.unwrap_or("id_card"),
        id_no: id_no.unwrap_or_default(),
        gender,
        birth_date,
        ethnicity: opt_text(&p.ethnicity, 32, "ethnicity", &mut errs),
        mobile,
        political_status: opt_vocab(
            &p.political_status,
            &vocab::POLITICAL_STATUS,
            "political_status",
            &mut errs,
        ),
        education: opt_vocab(&p.education, &vocab::EDUCATION, "education", &mut errs),
        occupation: opt_text(&p.occupation, 64, "occupation", &mut errs),
        work_unit: opt_text(&p.work_unit, 100, "work_unit", &mut errs),
        hukou_place: opt_text(&p.hukou_place, 100, "hukou_place", &mut errs),
        residence_type: residence_type.unwrap_or("resident"),
        tags,
    };
    if errs.is_empty() {
        Ok(clean)
    } else {
        Err(errs)
    }
}

/// The stored form of a person's protected values.
pub(crate) struct Sealed {
    pub id_no_enc: String,
    pub id_no_bidx: String,
    pub id_no_masked: String,
    pub mobile_enc: Option<String>,
    pub mobile_bidx: Option<String>,
    pub mobile_masked: Option<String>,
    pub tags: String,
    pub sensitive_tags_enc: Option<String>,
    /// `person_tags` keys.
    pub tag_keys: Vec<String>,
}

pub(crate) fn seal(keys: &Keys, p: &CleanPerson) -> Sealed {
    let public: Vec<&str> = p
        .tags
        .iter()
        .copied()
        .filter(|t| !is_sensitive_tag(t))
        .collect();
    let sensitive: Vec<&str> = p
        .tags
        .iter()
        .copied()
        .filter(|t| is_sensitive_tag(t))
        .collect();
    let mut tag_keys: Vec<String> = public.iter().map(|t| t.to_string()).collect();
    tag_keys.extend(sensitive.iter().map(|t| sensitive_tag_key(keys, t)));
    Sealed {
        id_no_enc: keys.encrypt(&p.id_no),
        id_no_bidx: keys.blind_index("id_no", &p.id_no),
        id_no_masked: mask_id(&p.id_no),
        mobile_enc: p.mobile.as_deref().map(|m| keys.encrypt(m)),
        mobile_bidx: p.mobile.as_deref().map(|m| keys.blind_index("mobile", m)),
        mobile_masked: p.mobile.as_deref().map(mask_mobile),
        tags: public.join(","),
        sensitive_tags_enc: (!sensitive.is_empty())
            .then(|| keys.encrypt(&serde_json::to_string(&sensitive).unwrap_or_default())),
        tag_keys,
    }
}

pub fn sensitive_tag_key(keys: &Keys, tag: &str) -> String {
    format!("s:{}", keys.blind_index("tag", tag))
}

/// A person's stored columns (placement, identity, profile, protected values, tags), in the
/// order of [`data_values`]. Every INSERT and full UPDATE of `persons` uses this one list.
pub(crate) const DATA_COLUMNS: &[&str] = &[
    "street_id",
    "community_id",
    "grid_id",
    "area_id",
    "name",
    "id_type",
    "id_no_enc",
    "id_no_bidx",
    "id_no_masked",
    "gender",
    "birth_date",
    "ethnicity",
    "mobile_enc",
    "mobile_bidx",
    "mobile_masked",
    "political_status",
    "education",
    "occupation",
    "work_unit",
    "hukou_place",
    "residence_type",
    "tags",
    "sensitive_tags_enc",
];

/// The values of [`DATA_COLUMNS`] for a validated, sealed person.
pub(crate) fn data_values(at: &Placement, p: &CleanPerson, s: &Sealed) -> Vec<Value> {
    vec![
        at.street_id.into(),
        at.community_id.into(),
        at.grid_id.into(),
        at.area_id.into(),
        p.name.clone().into(),
        p.id_type.into(),
        s.id_no_enc.clone().into(),
        s.id_no_bidx.clone().into(),
        s.id_no_masked.clone().into(),
        p.gender.map(str::to_string).into(),
        p.birth_date.clone().into(),
        p.ethnicity.clone().into(),
        s.mobile_enc.clone().into(),
        s.mobile_bidx.clone().into(),
        s.mobile_masked.clone().into(),
        p.political_status.map(str::to_string).into(),
        p.education.map(str::to_string).into(),
        p.occupation.clone().into(),
        p.work_unit.clone().into(),
        p.hukou_place.clone().into(),
        p.residence_type.into(),
        s.tags.clone().into(),
        s.sensitive_tags_enc.clone().into(),
    ]
}

/// `street_id = ?, community_id = ?, …`: the assignments of an UPDATE of [`DATA_COLUMNS`].
pub(crate) fn data_set(at: &Placement, p: &CleanPerson, s: &Sealed) -> Set {
    let values = data_values(at, p, s);
    debug_assert_eq!(
        values.len(),
        DATA_COLUMNS.len(),
        "a value for every data column"
    );
    Set::columns(DATA_COLUMNS.iter().copied().zip(values))
}

/// Columns of a new person row: [`DATA_COLUMNS`] and then these, matching [`new_row`].
pub(crate) const NEW_ROW_EXTRA: &[&str] = &["id", "last_verified_at", "created_at", "updated_at"];

/// A whole new `persons` row for `insert_many` over `DATA_COLUMNS ++ NEW_ROW_EXTRA`.
pub(crate) fn new_row(
    id: Uuid,
    at: &Placement,
    p: &CleanPerson,
    s: &Sealed,
    verified_at: Option<i64>,
    now: i64,
) -> Vec<Value> {
    let mut v = data_values(at, p, s);
    v.extend([id.into(), verified_at.into(), now.into(), now.into()]);
    v
}

/// The column list of [`new_row`].
pub(crate) fn new_row_columns() -> Vec<&'static str> {
    DATA_COLUMNS.iter().chain(NEW_ROW_EXTRA).copied().collect()
}

/// Inserts a validated person (no checks, no audit): the API and the importer call it inside
/// their transactions.
pub(crate) async fn insert<C: ConnectionTrait>(
    c: &C,
    keys: &Keys,
    id: Uuid,
    at: &Placement,
    p: &CleanPerson,
    now: i64,
) -> AppResult<Sealed> {
    let s = seal(keys, p);
    store::insert_many(
        c,
        "persons",
        &new_row_columns(),
        vec![new_row(id, at, p, &s, Some(now), now)],
    )
    .await?;
    store::insert_many(
        c,
        "person_name_grams",
        GRAM_COLUMNS,
        gram_rows(id, at.street_id, at.community_id, &p.name),
    )
    .await?;
    for k in &s.tag_keys {
        store::exec(
            c,
            "INSERT INTO person_tags (street_id, person_id, tag_key) VALUES ($1, $2, $3)",
            vec![at.street_id.into(), id.into(), k.clone().into()],
        )
        .await?;
    }
    Ok(s)
}

pub(crate) use crate::store::seed::{gram_rows, GRAM_COLUMNS};

/// Replaces a person's name-search rows after a change of name or place (`old` — the name and
/// community stored before — finds the stored rows by key).
pub(crate) async fn reindex_name<C: ConnectionTrait>(
    c: &C,
    id: Uuid,
    old: (&str, Uuid),
    street_id: Uuid,
    community_id: Uuid,
    name: &str,
) -> AppResult<()> {
    unindex_name(c, id, old.0, old.1).await?;
    store::insert_many(
        c,
        "person_name_grams",
        GRAM_COLUMNS,
        gram_rows(id, street_id, community_id, name),
    )
    .await?;
    Ok(())
}

/// Removes a person's name-search rows.
pub(crate) async fn unindex_name<C: ConnectionTrait>(
    c: &C,
    id: Uuid,
    name: &str,
    community_id: Uuid,
) -> AppResult<()> {
    let grams = crate::domain::search::name_grams(name);
    if grams.is_empty() {
        return Ok(());
    }
    let mut values: Vec<Value> = vec![id.into(), community_id.into()];
    values.extend(grams.into_iter().map(Value::from));
    store::exec(
        c,
        &format!(
            "DELETE FROM person_name_grams WHERE person_id = $1 AND community_id = $2 AND gram IN ({})",
            store::placeholders(3, values.len() - 2)
        ),
        values,
    )
    .await?;
    Ok(())
}

/// The record as stored, for history snapshots (protected values stay encrypted).
fn snapshot(p: &CleanPerson, s: &Sealed, at: &Placement, status: &str) -> serde_json::Value {
    serde_json::json!({
        "name": p.name, "id_type": p.id_type, "id_no_enc": s.id_no_enc, "id_no_masked": s.id_no_masked,
        "gender": p.gender, "birth_date": p.birth_date, "ethnicity": p.ethnicity, "mobile_enc": s.mobile_enc,
        "mobile_masked": s.mobile_masked, "political_status": p.political_status, "education": p.education,
        "occupation": p.occupation, "work_unit": p.work_unit, "hukou_place": p.hukou_place,
        "residence_type": p.residence_type, "tags": s.tags, "sensitive_tags_enc": s.sensitive_tags_enc,
        "status": status, "area_id": at.area_id, "grid_id": at.grid_id, "community_id": at.community_id,
    })
}

async fn id_taken<C: ConnectionTrait>(c: &C, bidx: &str, except: Option<Uuid>) -> AppResult<bool> {
    Ok(store::fetch_i64(
        c,
        "SELECT COUNT(*) FROM persons WHERE id_no_bidx = $1 AND deleted_at IS NULL AND ($2 IS NULL OR id <> $2)",
        vec![bidx.to_string().into(), except.into()],
    )
    .await?
        > 0)
}

fn id_taken_error() -> AppError {
    AppError::conflict_on(
        "id_no",
        Msg::new(
            "该证件号已登记，请搜索后编辑原记录",
            "This document number is already registered; find and edit that record",
        ),
    )
}

#[tracing::instrument(name = "registry::persons::create", skip_all)]
pub async fn create(db: &Db, keys: &Keys, ctx: &Ctx, input: NewPerson) -> AppResult<Person> {
    let checked =
        scope::require_permission(db, ctx, Permission::EditRegistry, input.area_id).await?;
    let at = place(db, input.area_id, "area_id").await?;
    let p = validate(&input).map_err(AppError::Validation)?;
    let id = new_id();
    let now = now_ms();
    let tx = store::write_tx(db).await?;
    if id_taken(&tx, &keys.blind_index("id_no", &p.id_no), None).await? {
        return Err(id_taken_error());
    }
    let sealed = insert(&tx, keys, id, &at, &p, now).await?;
    record_change(
        &tx,
        ctx,
        Change {
            street_id: at.street_id,
            object_type: "person",
            object_id: id,
            household_id: None,
            reason: "create",
            note: None,
            changes: serde_json::json!({}),
            snapshot: snapshot(&p, &sealed, &at, "active"),
        },
    )
    .await?;
    Entry::by(ctx, &checked, "person.create", "person", id)
        .area(at.area_id)
        .fields(&["all"])
        .record(&tx)
        .await?;
    let row = load(&tx, id).await?;
    tx.commit().await?;
    let sensitive = scope::has_permission(db, ctx, Permission::RevealPersonal, at.area_id).await?;
    Ok(view(row, keys, sensitive))
}

/// One person, masked. The read is audited.
#[tracing::instrument(name = "registry::persons::get", skip_all)]
pub async fn get(db: &Db, keys: &Keys, ctx: &Ctx, id: Uuid) -> AppResult<Person> {
    let row = load(db, id).await?;
    let checked = scope::require_permission(db, ctx, Permission::ReadRegistry, row.area_id).await?;
    let sensitive = scope::has_permission(db, ctx, Permission::RevealPersonal, row.area_id).await?;
    let mut fields = vec![
        "name",
        "id_no_masked",
        "mobile_masked",
        "birth_date",
        "tags",
    ];
    if sensitive {
        fields.push("sensitive_tags");
    }
    audit::record_alone(
        db,
        Entry::by(ctx, &checked, "person.read", "person", id)
            .area(row.area_id)
            .fields(&fields),
    )
    .await?;
    Ok(view(row, keys, sensitive))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PersonQuery {
    /// Part of a name; or an exact ID number or mobile (looked up by blind index).
    pub q: Option<String>,
    /// Only under this area.
    pub area_id: Option<Uuid>,
    /// A tag code (sensitive tags only for roles that may see them).
    pub tag: Option<String>,
    pub residence_type: Option<String>,
    pub age_min: Option<i32>,
    pub age_max: Option<i32>,
    /// active (default) | moved_out | deceased | all
    pub status: Option<String>,
    pub page: Option<u64>,
    pub page_size: Option<u64>,
}

/// Conditions for a name search (by index, domain/search.rs) on the persons alias `p`: every
/// piece of the text must be among the person's name pieces.
pub(crate) fn name_conds(text: &str, p: &str, w: &mut Where) {
    let (grams, confirm) = crate::domain::search::query_grams(text, 3);
    if grams.is_empty() {
        // Only separators: nothing can match.
        w.and_cond(Cond::none());
        return;
    }
    piece_conds(text, &grams, confirm, p, w);
}

/// `grams` must all be among the name pieces of `p`; with `confirm`, the whole text must also be
/// in the name (a longer text's pieces could appear apart).
fn piece_conds(text: &str, grams: &[String], confirm: bool, p: &str, w: &mut Where) {
    for g in grams {
        w.and(
            &format!("{p}.id IN (SELECT person_id FROM person_name_grams WHERE gram = ?)"),
            [g.clone().into()],
        );
    }
    if confirm {
        let like = format!("%{}%", store::like_escape(text));
        w.and(&format!("{p}.name LIKE ? ESCAPE '\\'"), [like.into()]);
    }
}

/// How a person search reads: its tables, its order, and where its count stops.
#[derive(Clone, Copy)]
struct Plan {
    from: &'static str,
    order: &'static str,
    count_cap: Option<u64>,
}

impl Plan {
    const PLAIN: Plan = Plan {
        from: "persons p",
        order: "p.name, p.id",
        count_cap: None,
    };
    /// Walk the name index in its own order and stop at the page (no sort of every match); the
    /// count stops at NAME_COUNT_CAP.
    const BY_NAME: Plan = Plan {
        from: "person_name_grams g JOIN persons p ON p.id = g.person_id",
        order: "g.community_id, g.person_id",
        count_cap: Some(NAME_COUNT_CAP),
    };
}

/// The search text's conditions: an ID number or a mobile by blind index, a passport number, or
/// name pieces through the name index (searched within the caller's communities).
async fn text_conds(
    db: &Db,
    keys: &Keys,
    ctx: &Ctx,
    text: &str,
    w: &mut Where,
    used: &mut Vec<&'static str>,
) -> AppResult<Plan> {
    let mut plan = Plan::PLAIN;
    if text.chars().count() > 64 {
        return Err(AppError::field(
            "q",
            Msg::new("搜索词过长", "The search text is too long"),
        ));
    }
    if let Ok(id) = IdCardNo::parse(text) {
        used.push("id_no");
        w.and(
            "p.id_no_bidx = ?",
            [keys.blind_index("id_no", id.as_str()).into()],
        );
    } else if let Ok(m) = MobileNo::parse(text) {
        used.push("mobile");
        w.and(
            "p.mobile_bidx = ?",
            [keys.blind_index("mobile", m.as_str()).into()],
        );
    } else if text.len() >= 5
        && text.bytes().all(|b| b.is_ascii_alphanumeric())
        && text.bytes().any(|b| b.is_ascii_digit())
    {
        // A passport or permit number.
        used.push("id_no");
        w.and(
            "p.id_no_bidx = ?",
            [keys.blind_index("id_no", &text.to_ascii_uppercase()).into()],
        );
    } else {
        used.push("name");
        // Walk the name index in its own order and stop at the page (no sort of every match);
        // the count stops at NAME_COUNT_CAP.
        let (grams, confirm) = crate::domain::search::query_grams(text, 3);
        match grams.split_first() {
            None => {
                w.and_cond(Cond::none());
            }
            Some((first, rest)) => {
                plan = Plan::BY_NAME;
                w.and("g.gram = ?", [first.clone().into()]);
                // The caller's communities as a list, so both databases read only those
                // communities' rows of the index (its key is gram, community, person).
                if let Some(list) =
                    scope::communities_for(db, ctx, Permission::ReadRegistry, 200).await?
                {
                    w.and_in("g.community_id", list);
                }
                piece_conds(text, rest, confirm, "p", w);
            }
        }
    }
    Ok(plan)
}

/// The list's filters: area, tag (sensitive tags only where the caller may see them), residence
/// type, age and status.
fn filter_conds(
    keys: &Keys,
    ctx: &Ctx,
    q: &PersonQuery,
    w: &mut Where,
    used: &mut Vec<&'static str>,
) -> AppResult<()> {
    if let Some(a) = q.area_id {
        used.push("area");
        w.and(
            "p.area_id IN (SELECT descendant_id FROM area_closure WHERE ancestor_id = ?)",
            [a.into()],
        );
    }
    if let Some(t) = q.tag.as_deref().filter(|s| !s.is_empty()) {
        let code = vocab::TAGS
            .parse(t)
            .map_err(|m| AppError::field("tag", m))?;
        used.push("tag");
        let key = if is_sensitive_tag(code) {
            // Only within areas where the caller may see sensitive tags.
            w.and_cond(scope::area_cond(
                ctx,
                Permission::RevealPersonal,
                "p.area_id",
            ));
            sensitive_tag_key(keys, code)
        } else {
            code.to_string()
        };
        w.and(
            "p.id IN (SELECT person_id FROM person_tags WHERE tag_key = ?)",
            [key.into()],
        );
    }
    if let Some(r) = q.residence_type.as_deref().filter(|s| !s.is_empty()) {
        let code = vocab::RESIDENCE_TYPE
            .parse(r)
            .map_err(|m| AppError::field("residence_type", m))?;
        w.and("p.residence_type = ?", [code.into()]);
    }
    let today = today();
    if let Some(a) = q.age_min {
        if !(0..=150).contains(&a) {
            return Err(AppError::field(
                "age_min",
                Msg::new("年龄应在 0–150 之间", "Age must be 0–150"),
            ));
        }
        w.and("p.birth_date <= ?", [years_before(&today, a).into()]);
    }
    if let Some(a) = q.age_max {
        if !(0..=150).contains(&a) {
            return Err(AppError::field(
                "age_max",
                Msg::new("年龄应在 0–150 之间", "Age must be 0–150"),
            ));
        }
        // Younger than a + 1 years.
        w.and("p.birth_date > ?", [years_before(&today, a + 1).into()]);
    }
    match q.status.as_deref().unwrap_or("active") {
        "all" => {}
        s @ ("active" | "moved_out" | "deceased") => {
            w.and("p.status = ?", [s.to_string().into()]);
        }
        _ => {
            return Err(AppError::field(
                "status",
                Msg::new(
                    "状态应为 active、moved_out、deceased 或 all",
                    "Status must be active, moved_out, deceased or all",
                ),
            ))
        }
    }
    Ok(())
}

#[tracing::instrument(name = "registry::persons::search", skip_all)]
pub async fn search(
    db: &Db,
    keys: &Keys,
    ctx: &Ctx,
    q: &PersonQuery,
) -> AppResult<(Vec<Person>, i64, bool)> {
    let checked = scope::require_any(ctx, Permission::ReadRegistry)?;
    let mut w = Where::new();
    w.and_cond(scope::area_cond(ctx, Permission::ReadRegistry, "p.area_id"))
        .and("p.deleted_at IS NULL", []);
    let mut used: Vec<&str> = vec![];
    let mut plan = Plan::PLAIN;
    if let Some(text) = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        plan = text_conds(db, keys, ctx, text, &mut w, &mut used).await?;
    }
    filter_conds(keys, ctx, q, &mut w, &mut used)?;
    let (where_sql, values) = w.build(1);
    let paging = store::Paging::new(q.page, q.page_size);
    let Plan {
        from,
        order,
        count_cap,
    } = plan;
    let count_sql = match count_cap {
        Some(cap) => format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM {from} WHERE {where_sql} LIMIT {}) t",
            cap + 1
        ),
        None => format!("SELECT COUNT(*) FROM {from} WHERE {where_sql}"),
    };
    let select = SELECT.replace("FROM persons p", &format!("FROM {from}"));
    let (rows, mut total): (Vec<PersonRow>, i64) = store::page(
        db,
        &count_sql,
        &format!("{select} WHERE {where_sql} ORDER BY {order}"),
        values,
        paging,
    )
    .await?;
    let more = count_cap.is_some_and(|cap| total > cap as i64);
    if more {
        total = NAME_COUNT_CAP as i64;
    }
    let mut out = Vec::with_capacity(rows.len());
    let mut sensitive_cache: std::collections::HashMap<Uuid, bool> = Default::default();
    for r in rows {
        let s = match sensitive_cache.get(&r.area_id) {
            Some(s) => *s,
            None => {
                let s =
                    scope::has_permission(db, ctx, Permission::RevealPersonal, r.area_id).await?;
                sensitive_cache.insert(r.area_id, s);
                s
            }
        };
        out.push(view(r, keys, s));
    }
    audit::record_alone(
        db,
        Entry::by(ctx, &checked, "person.list", "person", None)
            .fields(&["name", "id_no_masked", "mobile_masked", "tags"])
            .area(q.area_id)
            .detail(format!(
                "{} of {total} shown; filters: {}",
                out.len(),
                if used.is_empty() {
                    "-".into()
                } else {
                    used.join(",")
                }
            )),
    )
    .await?;
    Ok((out, total, more))
}

/// A name search counts its matches up to this many (then says "more").
pub const NAME_COUNT_CAP: u64 = 1000;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevealRequest {
    /// Any of `id_no`, `mobile`.
    pub fields: Vec<String>,
    /// Why the full value is needed (kept in the audit log).
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Revealed {
    pub id_no: Option<String>,
    pub mobile: Option<String>,
}

/// Shows full values to a permitted role, with a reason; audited.
#[tracing::instrument(name = "registry::persons::reveal", skip_all)]
pub async fn reveal(
    db: &Db,
    keys: &Keys,
    ctx: &Ctx,
    id: Uuid,
    req: RevealRequest,
) -> AppResult<Revealed> {
    let row = load(db, id).await?;
    let checked =
        scope::require_permission(db, ctx, Permission::RevealPersonal, row.area_id).await?;
    let reason = req.reason.trim();
    if reason.chars().count() < 2 || reason.chars().count() > 200 {
        return Err(AppError::field(
            "reason",
            Msg::new(
                "请填写查看原因（2–200 字）",
                "Give the reason (2–200 characters)",
            ),
        ));
    }
    let want = |f: &str| req.fields.iter().any(|x| x == f);
    if req.fields.is_empty() || req.fields.iter().any(|f| f != "id_no" && f != "mobile") {
        return Err(AppError::field(
            "fields",
            Msg::new(
                "可查看的字段为 id_no、mobile",
                "Fields that can be revealed: id_no, mobile",
            ),
        ));
    }
    let out = Revealed {
        id_no: if want("id_no") {
            row.id_no_enc.as_deref().and_then(|e| keys.decrypt(e))
        } else {
            None
        },
        mobile: if want("mobile") {
            row.mobile_enc.as_deref().and_then(|e| keys.decrypt(e))
        } else {
            None
        },
    };
    let fields: Vec<&str> = req.fields.iter().map(String::as_str).collect();
    audit::record_alone(
        db,
        Entry::by(ctx, &checked, "person.reveal", "person", id)
            .area(row.area_id)
            .fields(&fields)
            .detail(reason.to_string()),
    )
    .await?;
    Ok(out)
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonPatch {
    pub version: i32,
    /// Why: correction (default), move_out, death, …
    pub reason: Option<String>,
    pub note: Option<String>,
    pub name: Option<String>,
    pub id_type: Option<String>,
    pub id_no: Option<String>,
    pub gender: Option<String>,
    pub birth_date: Option<String>,
    pub ethnicity: Option<String>,
    pub mobile: Option<String>,
    pub political_status: Option<String>,
    pub education: Option<String>,
    pub occupation: Option<String>,
    pub work_unit: Option<String>,
    pub hukou_place: Option<String>,
    pub residence_type: Option<String>,
    pub tags: Option<Vec<String>>,
    /// Another building or grid.
    pub area_id: Option<Uuid>,
    /// active | moved_out | deceased
    pub status: Option<String>,
}

fn current_sensitive(keys: &Keys, r: &PersonRow) -> Vec<String> {
    r.sensitive_tags_enc
        .as_deref()
        .and_then(|e| keys.decrypt(e))
        .and_then(|j| serde_json::from_str(&j).ok())
        .unwrap_or_default()
}

/// The person as the patch leaves them: the current values with the patch laid over (to be
/// validated as a whole). A new ID number brings its own birth date and gender; a caller who may
/// not see sensitive tags keeps the existing ones untouched.
fn merged(
    keys: &Keys,
    cur: &PersonRow,
    patch: &PersonPatch,
    may_see_sensitive: bool,
    old_sensitive: &[String],
) -> NewPerson {
    let merged = NewPerson {
        area_id: patch.area_id.unwrap_or(cur.area_id),
        name: patch.name.clone().unwrap_or_else(|| cur.name.clone()),
        id_type: Some(patch.id_type.clone().unwrap_or_else(|| cur.id_type.clone())),
        id_no: match &patch.id_no {
            Some(n) => n.clone(),
            None => cur
                .id_no_enc
                .as_deref()
                .and_then(|e| keys.decrypt(e))
                .unwrap_or_default(),
        },
        gender: patch.gender.clone().or_else(|| cur.gender.clone()),
        birth_date: match (&patch.birth_date, &patch.id_no) {
            (Some(b), _) => Some(b.clone()),
            // A new ID number brings its own birth date.
            (None, Some(_)) => None,
            (None, None) => cur.birth_date.clone(),
        },
        ethnicity: patch.ethnicity.clone().or_else(|| cur.ethnicity.clone()),
        mobile: match &patch.mobile {
            Some(m) => Some(m.clone()),
            None => cur.mobile_enc.as_deref().and_then(|e| keys.decrypt(e)),
        },
        political_status: patch
            .political_status
            .clone()
            .or_else(|| cur.political_status.clone()),
        education: patch.education.clone().or_else(|| cur.education.clone()),
        occupation: patch.occupation.clone().or_else(|| cur.occupation.clone()),
        work_unit: patch.work_unit.clone().or_else(|| cur.work_unit.clone()),
        hukou_place: patch
            .hukou_place
            .clone()
            .or_else(|| cur.hukou_place.clone()),
        residence_type: patch
            .residence_type
            .clone()
            .unwrap_or_else(|| cur.residence_type.clone()),
        tags: match &patch.tags {
            // Roles that cannot see sensitive tags keep the existing ones untouched.
            Some(t) if may_see_sensitive => t.clone(),
            Some(t) => t
                .iter()
                .filter(|x| !vocab::TAGS.parse(x).map(is_sensitive_tag).unwrap_or(false))
                .cloned()
                .chain(old_sensitive.iter().cloned())
                .collect(),
            None => split_tags(&cur.tags)
                .into_iter()
                .chain(old_sensitive.iter().cloned())
                .collect(),
        },
    };
    // A gender that no longer matches a new ID number is recomputed from it.
    if patch.id_no.is_some() && patch.gender.is_none() {
        NewPerson {
            gender: None,
            ..merged
        }
    } else {
        merged
    }
}

/// The change's reason (given, or implied by a new status) and the person's status after it.
fn reason_and_status(cur: &PersonRow, patch: &PersonPatch) -> AppResult<(&'static str, String)> {
    let reason = match patch
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(r) => vocab::CHANGE_REASON
            .parse(r)
            .map_err(|m| AppError::field("reason", m))?,
        None => match patch.status.as_deref() {
            Some("moved_out") => "move_out",
            Some("deceased") => "death",
            _ => "correction",
        },
    };
    let status = match patch.status.as_deref() {
        None => cur.status.clone(),
        Some(s @ ("active" | "moved_out" | "deceased")) => s.to_string(),
        Some(_) => {
            return Err(AppError::field(
                "status",
                Msg::new(
                    "状态应为 active、moved_out 或 deceased",
                    "Status must be active, moved_out or deceased",
                ),
            ))
        }
    };
    Ok((reason, status))
}

/// What changed, field by field, with protected values masked.
fn changes(
    cur: &PersonRow,
    p: &CleanPerson,
    sealed: &Sealed,
    old_sensitive: &[String],
    status: &str,
    at: &Placement,
) -> serde_json::Map<String, serde_json::Value> {
    let mut ch = serde_json::Map::new();
    diff(
        &mut ch,
        "name",
        &Some(cur.name.clone()),
        &Some(p.name.clone()),
    );
    diff(
        &mut ch,
        "id_type",
        &Some(cur.id_type.clone()),
        &Some(p.id_type.to_string()),
    );
    if cur.id_no_bidx.as_deref() != Some(sealed.id_no_bidx.as_str()) {
        ch.insert(
            "id_no".into(),
            serde_json::json!([cur.id_no_masked, sealed.id_no_masked]),
        );
    }
    diff(
        &mut ch,
        "gender",
        &cur.gender,
        &p.gender.map(str::to_string),
    );
    diff(&mut ch, "birth_date", &cur.birth_date, &p.birth_date);
    diff(&mut ch, "ethnicity", &cur.ethnicity, &p.ethnicity);
    if cur.mobile_bidx != sealed.mobile_bidx {
        ch.insert(
            "mobile".into(),
            serde_json::json!([cur.mobile_masked, sealed.mobile_masked]),
        );
    }
    diff(
        &mut ch,
        "political_status",
        &cur.political_status,
        &p.political_status.map(str::to_string),
    );
    diff(
        &mut ch,
        "education",
        &cur.education,
        &p.education.map(str::to_string),
    );
    diff(&mut ch, "occupation", &cur.occupation, &p.occupation);
    diff(&mut ch, "work_unit", &cur.work_unit, &p.work_unit);
    diff(&mut ch, "hukou_place", &cur.hukou_place, &p.hukou_place);
    diff(
        &mut ch,
        "residence_type",
        &Some(cur.residence_type.clone()),
        &Some(p.residence_type.to_string()),
    );
    diff(
        &mut ch,
        "tags",
        &Some(cur.tags.clone()),
        &Some(sealed.tags.clone()),
    );
    let mut new_sensitive: Vec<String> = p
        .tags
        .iter()
        .filter(|t| is_sensitive_tag(t))
        .map(|t| t.to_string())
        .collect();
    new_sensitive.sort();
    let mut old_sorted = old_sensitive.to_vec();
    old_sorted.sort();
    if new_sensitive != old_sorted {
        ch.insert("sensitive_tags".into(), serde_json::json!(["***", "***"]));
    }
    diff(
        &mut ch,
        "status",
        &Some(cur.status.clone()),
        &Some(status.to_string()),
    );
    if at.area_id != cur.area_id {
        ch.insert(
            "area_id".into(),
            serde_json::json!([cur.area_id, at.area_id]),
        );
    }
    ch
}

#[tracing::instrument(name = "registry::persons::update", skip_all)]
pub async fn update(
    db: &Db,
    keys: &Keys,
    ctx: &Ctx,
    id: Uuid,
    patch: PersonPatch,
) -> AppResult<Person> {
    let cur = load(db, id).await?;
    let mut checked =
        scope::require_permission(db, ctx, Permission::EditRegistry, cur.area_id).await?;
    let may_see_sensitive =
        scope::has_permission(db, ctx, Permission::RevealPersonal, cur.area_id).await?;
    let old_sensitive = current_sensitive(keys, &cur);
    let merged = merged(keys, &cur, &patch, may_see_sensitive, &old_sensitive);
    let p = validate(&merged).map_err(AppError::Validation)?;
    let (reason, status) = reason_and_status(&cur, &patch)?;
    let mut errs = FieldErrors::new();
    let note = opt_text(&patch.note, 500, "note", &mut errs);
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    let at = if merged.area_id != cur.area_id {
        // Moving a person: the new area is checked too, and is the one the entry records.
        checked =
            scope::require_permission(db, ctx, Permission::EditRegistry, merged.area_id).await?;
        place(db, merged.area_id, "area_id").await?
    } else {
        Placement {
            street_id: cur.street_id,
            community_id: cur.community_id,
            grid_id: cur.grid_id,
            area_id: cur.area_id,
        }
    };
    let sealed = seal(keys, &p);

    let ch = changes(&cur, &p, &sealed, &old_sensitive, &status, &at);
    if ch.is_empty() {
        AppError::stale_unless_same(patch.version, cur.version)?;
        return Ok(view(cur, keys, may_see_sensitive));
    }

    let now = now_ms();
    let tx = store::write_tx(db).await?;
    if ch.contains_key("id_no") && id_taken(&tx, &sealed.id_no_bidx, Some(id)).await? {
        return Err(id_taken_error());
    }
    let left_at: Option<i64> = if status != "active" && cur.status == "active" {
        Some(now)
    } else {
        None
    };
    let mut set = data_set(&at, &p, &sealed);
    set.to("status", status.clone())
        .expr("left_at = COALESCE(?, left_at)", [left_at.into()])
        .expr("version = version + 1", [])
        .to("updated_at", now);
    let row = Cond::new("id = ? AND version = ?", [id.into(), patch.version.into()]);
    let (sql, values) = set.update("persons", row);
    let n = store::exec(&tx, &sql, values).await?;
    AppError::stale_unless_changed(n)?;
    if p.name != cur.name || at.community_id != cur.community_id {
        reindex_name(
            &tx,
            id,
            (&cur.name, cur.community_id),
            at.street_id,
            at.community_id,
            &p.name,
        )
        .await?;
    }
    store::exec(
        &tx,
        "DELETE FROM person_tags WHERE person_id = $1",
        vec![id.into()],
    )
    .await?;
    for k in &sealed.tag_keys {
        store::exec(
            &tx,
            "INSERT INTO person_tags (street_id, person_id, tag_key) VALUES ($1, $2, $3)",
            vec![at.street_id.into(), id.into(), k.clone().into()],
        )
        .await?;
    }
    let fields: Vec<String> = ch.keys().cloned().collect();
    record_change(
        &tx,
        ctx,
        Change {
            street_id: at.street_id,
            object_type: "person",
            object_id: id,
            household_id: cur.household_id,
            reason,
            note,
            changes: serde_json::Value::Object(ch),
            snapshot: snapshot(&p, &sealed, &at, &status),
        },
    )
    .await?;
    let f: Vec<&str> = fields.iter().map(String::as_str).collect();
    Entry::by(ctx, &checked, "person.update", "person", id)
        .area(at.area_id)
        .fields(&f)
        .detail(reason)
        .record(&tx)
        .await?;
    let row = load(&tx, id).await?;
    tx.commit().await?;
    Ok(view(row, keys, may_see_sensitive))
}

/// Soft delete: the record disappears from lists and files; its history stays.
#[tracing::instrument(name = "registry::persons::delete", skip_all)]
pub async fn delete(db: &Db, ctx: &Ctx, id: Uuid, reason: Option<&str>) -> AppResult<()> {
    let cur = load(db, id).await?;
    let checked = scope::require_permission(db, ctx, Permission::EditRegistry, cur.area_id).await?;
    let note = reason
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.chars().take(200).collect::<String>());
    let Some(note) = note else {
        return Err(AppError::field(
            "reason",
            Msg::new("请填写删除原因", "Give the reason for deleting"),
        ));
    };
    let now = now_ms();
    let tx = store::write_tx(db).await?;
    store::exec(
        &tx,
        "UPDATE persons SET deleted_at = $1, updated_at = $1, version = version + 1 WHERE id = $2",
        vec![now.into(), id.into()],
    )
    .await?;
    store::exec(
        &tx,
        "UPDATE household_members SET to_date = $1 WHERE person_id = $2 AND to_date IS NULL",
        vec![today().into(), id.into()],
    )
    .await?;
    store::exec(
        &tx,
        "UPDATE households SET head_person_id = NULL WHERE head_person_id = $1",
        vec![id.into()],
    )
    .await?;
    record_change(
        &tx,
        ctx,
        Change {
            street_id: cur.street_id,
            object_type: "person",
            object_id: id,
            household_id: cur.household_id,
            reason: "delete",
            note: Some(note.clone()),
            changes: serde_json::json!({"deleted": [false, true]}),
            snapshot: serde_json::json!({"deleted": true}),
        },
    )
    .await?;
    Entry::by(ctx, &checked, "person.delete", "person", id)
        .area(cur.area_id)
        .detail(note)
        .record(&tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

#[tracing::instrument(name = "registry::persons::history", skip_all)]
pub async fn history(db: &Db, ctx: &Ctx, id: Uuid) -> AppResult<Vec<Event>> {
    let cur = load(db, id).await?;
    let checked = scope::require_permission(db, ctx, Permission::ReadRegistry, cur.area_id).await?;
    audit::record_alone(
        db,
        Entry::by(ctx, &checked, "person.history", "person", id).area(cur.area_id),
    )
    .await?;
    super::history(db, id, false).await
}

/// Helper for other modules: a person in scope for editing.
pub(crate) async fn require_editable(db: &Db, ctx: &Ctx, id: Uuid) -> AppResult<PersonRow> {
    let row = load(db, id).await?;
    scope::require_permission(db, ctx, Permission::EditRegistry, row.area_id).await?;
    Ok(row)
}
