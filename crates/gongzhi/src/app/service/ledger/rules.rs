//! The points rules (积分规则) of a community: what earns points and how many.
use super::*;

// ------------------------------------------------------------------------------------ rules

/// One effective rule.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Rule {
    /// The area that sets it; null for the code default.
    pub area_id: Option<Uuid>,
    pub area_name: Option<String>,
    pub event: String,
    pub event_label: String,
    pub points: i64,
    pub cap: Option<i64>,
    pub cap_period: Option<String>,
    /// Set by an area above the one asked about (or the default).
    pub inherited: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct RuleValue {
    pub points: i64,
    pub cap: Option<i64>,
    pub period: Option<Period>,
    pub area_id: Option<Uuid>,
}

#[derive(FromQueryResult)]
pub(super) struct RuleRow {
    area_id: Uuid,
    area_name: String,
    event: String,
    points: i64,
    cap: Option<i64>,
    cap_period: Option<String>,
    depth: i32,
}

pub(super) async fn rule_rows<C: ConnectionTrait>(c: &C, area_id: Uuid) -> AppResult<Vec<RuleRow>> {
    Ok(store::fetch_all(
        c,
        "SELECT r.area_id, a.name AS area_name, r.event, r.points, r.cap, r.cap_period, CAST(ac.depth AS INTEGER) AS depth \
         FROM point_rules r JOIN area_closure ac ON ac.ancestor_id = r.area_id JOIN areas a ON a.id = r.area_id \
         WHERE ac.descendant_id = $1 ORDER BY ac.depth ASC",
        vec![area_id.into()],
    )
    .await?)
}

/// The rules that apply in an area: the nearest area up the tree that sets each, else the default.
#[tracing::instrument(name = "service::ledger::rules_for", skip_all)]
pub async fn rules_for<C: ConnectionTrait>(
    c: &C,
    area_id: Uuid,
) -> AppResult<HashMap<Event, RuleValue>> {
    let mut out = HashMap::new();
    for r in rule_rows(c, area_id).await? {
        if let Some(e) = Event::parse(&r.event) {
            out.entry(e).or_insert(RuleValue {
                points: r.points,
                cap: r.cap,
                period: r.cap_period.as_deref().and_then(Period::parse),
                area_id: Some(r.area_id),
            });
        }
    }
    for e in Event::ALL {
        out.entry(e).or_insert_with(|| {
            let (points, cap, period) = e.default_rule();
            RuleValue {
                points,
                cap,
                period,
                area_id: None,
            }
        });
    }
    Ok(out)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AreaQuery {
    pub area_id: Option<Uuid>,
}

#[tracing::instrument(name = "service::ledger::list_rules", skip_all)]
pub async fn list_rules(db: &Db, ctx: &Ctx, area_id: Uuid) -> AppResult<Vec<Rule>> {
    scope::require_permission(db, ctx, Permission::ReadService, area_id).await?;
    let rows = rule_rows(db, area_id).await?;
    let en = en(ctx);
    Ok(Event::ALL
        .into_iter()
        .map(|e| match rows.iter().find(|r| r.event == e.as_str()) {
            Some(r) => Rule {
                area_id: Some(r.area_id),
                area_name: Some(r.area_name.clone()),
                event: e.as_str().into(),
                event_label: e.label(en).into(),
                points: r.points,
                cap: r.cap,
                cap_period: r.cap_period.clone(),
                inherited: r.depth > 0,
            },
            None => {
                let (points, cap, period) = e.default_rule();
                Rule {
                    area_id: None,
                    area_name: None,
                    event: e.as_str().into(),
                    event_label: e.label(en).into(),
                    points,
                    cap,
                    cap_period: period.map(|p| p.as_str().into()),
                    inherited: true,
                }
            }
        })
        .collect())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RuleInput {
    pub area_id: Uuid,
    pub event: String,
    pub points: i64,
    pub cap: Option<i64>,
    pub cap_period: Option<String>,
}

#[tracing::instrument(name = "service::ledger::put_rule", skip_all)]
pub async fn put_rule(db: &Db, ctx: &Ctx, r: RuleInput) -> AppResult<Vec<Rule>> {
    let checked = scope::require_permission(db, ctx, Permission::ManageService, r.area_id).await?;
    let event = Event::parse(&r.event)
        .ok_or_else(|| AppError::field("event", Msg::new("没有这种积分事项", "No such event")))?;
    let max = if event == Event::ExemptOverAge {
        120
    } else {
        10_000
    };
    if !(0..=max).contains(&r.points) {
        return Err(AppError::field(
            "points",
            Msg::owned(
                format!("应为 0–{max} 的整数"),
                format!("A whole number from 0 to {max}"),
            ),
        ));
    }
    let period = match (&r.cap, r.cap_period.as_deref()) {
        (None, None) => None,
        (Some(c), Some(p)) if (1..=1_000_000).contains(c) => {
            Some(Period::parse(p).ok_or_else(|| {
                AppError::field(
                    "cap_period",
                    Msg::new(
                        "周期应为 day、month 或 year",
                        "The period is day, month or year",
                    ),
                )
            })?)
        }
        (Some(_), Some(_)) => {
            return Err(AppError::field(
                "cap",
                Msg::new(
                    "上限应为 1–1000000 的整数",
                    "A cap is a whole number from 1 to 1,000,000",
                ),
            ))
        }
        _ => {
            return Err(AppError::field(
                "cap_period",
                Msg::new(
                    "上限和周期要同时填写",
                    "A cap needs its period and a period its cap",
                ),
            ))
        }
    };
    let tx = store::write_tx(db).await?;
    store::exec(
        &tx,
        "DELETE FROM point_rules WHERE area_id = $1 AND event = $2",
        vec![r.area_id.into(), event.as_str().into()],
    )
    .await?;
    store::exec(
        &tx,
        "INSERT INTO point_rules (area_id, event, points, cap, cap_period, updated_by_name, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        vec![
            r.area_id.into(),
            event.as_str().into(),
            r.points.into(),
            r.cap.into(),
            period.map(|p| p.as_str().to_string()).into(),
            ctx.principal.display_name.clone().into(),
            now_ms().into(),
        ],
    )
    .await?;
    Entry::by(
        ctx,
        &checked,
        "update",
        "point_rule",
        format!("{}:{}", r.area_id, event.as_str()),
    )
    .area(r.area_id)
    .detail(format!(
        "points={} cap={:?} period={:?}",
        r.points,
        r.cap,
        period.map(|p| p.as_str())
    ))
    .record(&tx)
    .await?;
    tx.commit().await?;
    list_rules(db, ctx, r.area_id).await
}

#[derive(FromQueryResult)]
pub(super) struct Usage {
    account_id: Uuid,
    used: i64,
}

/// Credits under a rule for many accounts (base amount each, before caps), as postings. Applies
/// the rule's cap for the period holding `at`, recording the usage. Zero amounts are dropped.
#[tracing::instrument(name = "service::ledger::earn_by_rule", skip_all)]
pub async fn earn_by_rule<C: ConnectionTrait>(
    c: &C,
    actor: &Actor,
    event: Event,
    rule: RuleValue,
    items: Vec<(Uuid, i64, Option<String>)>,
    source_kind: &'static str,
    at: i64,
) -> AppResult<Vec<NewPosting>> {
    let mut items: Vec<(Uuid, i64, Option<String>)> =
        items.into_iter().filter(|i| i.1 > 0).collect();
    if let (Some(cap), Some(period)) = (rule.cap, rule.period) {
        let key = period.key(at);
        let mut used: HashMap<Uuid, i64> = HashMap::new();
        for chunk in items.chunks(500) {
            let mut values: Vec<Value> = vec![event.as_str().into(), key.clone().into()];
            values.extend(chunk.iter().map(|i| Value::from(i.0)));
            let sql = format!(
                "SELECT account_id, used FROM point_usage WHERE event = $1 AND period = $2 AND account_id IN ({})",
                store::placeholders(3, chunk.len())
            );
            for u in store::fetch_all::<Usage, _>(c, &sql, values).await? {
                used.insert(u.account_id, u.used);
            }
        }
        let mut upserts: Vec<Vec<Value>> = vec![];
        for i in items.iter_mut() {
            let u = used.entry(i.0).or_insert(0);
            let allowed = capped(i.1, Some(cap), *u);
            *u += allowed;
            i.1 = allowed;
        }
        for (acc, u) in used {
            upserts.push(vec![
                acc.into(),
                event.as_str().into(),
                key.clone().into(),
                u.into(),
            ]);
        }
        for chunk in upserts.chunks(200) {
            let mut sql =
                String::from("INSERT INTO point_usage (account_id, event, period, used) VALUES ");
            let mut values = vec![];
            for (i, row) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("({})", store::placeholders(i * 4 + 1, 4)));
                values.extend(row.iter().cloned());
            }
            sql.push_str(
                " ON CONFLICT (account_id, event, period) DO UPDATE SET used = excluded.used",
            );
            store::exec(c, &sql, values).await?;
        }
        items.retain(|i| i.1 > 0);
    }
    let _ = actor;
    Ok(items
        .into_iter()
        .map(|(acc, amount, source_id)| NewPosting {
            event: Some(event),
            rule_area_id: rule.area_id,
            source_id,
            ..NewPosting::new(acc, amount, Kind::Earn, source_kind)
        })
        .collect())
}
