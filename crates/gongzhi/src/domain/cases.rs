//! 接诉即办: the case vocabulary, the lifecycle state machine, routing by power list, and the
//! counters each case contributes to the rates. Pure: no IO (docs/cases.md).
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::Msg;

macro_rules! vocab {
    ($(#[$m:meta])* $name:ident { $($v:ident = $s:literal, $zh:literal, $en:literal;)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($v,)* }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v,)*];
            pub fn as_str(self) -> &'static str { match self { $($name::$v => $s,)* } }
            pub fn parse(s: &str) -> Option<$name> { Self::ALL.iter().copied().find(|k| k.as_str() == s) }
            pub fn label_zh(self) -> &'static str { match self { $($name::$v => $zh,)* } }
            pub fn label_en(self) -> &'static str { match self { $($name::$v => $en,)* } }
            /// Parses the code or the Chinese label (imports).
            pub fn parse_any(s: &str) -> Option<$name> {
                let s = s.trim();
                Self::parse(s).or_else(|| Self::ALL.iter().copied().find(|k| k.label_zh() == s))
            }
        }
    };
}

vocab!(
    /// 诉求类型.
    CaseKind {
        Consult = "consult", "咨询", "Consultation";
        Help = "help", "求助", "Request for help";
        Complaint = "complaint", "投诉", "Complaint";
        Report = "report", "举报", "Report";
        Suggestion = "suggestion", "建议", "Suggestion";
    }
);

vocab!(
    /// Where a case came in.
    Channel {
        Console = "console", "后台录入", "Console";
        PhonePage = "phone_page", "居民手机", "Resident phone page";
        Patrol = "patrol", "网格巡查", "Grid patrol";
        Visit = "visit", "走访", "Visit";
        Hotline = "hotline", "12345热线", "12345 hotline";
        Api = "api", "部门系统", "Department system";
        Open311 = "open311", "Open311", "Open311";
    }
);

vocab!(
    /// 承办单位类型.
    UnitKind {
        Department = "department", "职能部门", "Department";
        StreetOffice = "street_office", "街道科室", "Street office";
        Community = "community", "社区", "Community";
        Property = "property", "物业", "Property management";
        Utility = "utility", "公用企业", "Utility";
        Other = "other", "其他", "Other";
    }
);

vocab!(
    /// Lifecycle states.
    Status {
        Received = "received", "已受理", "Received";
        Registered = "registered", "已立案", "Registered";
        Rejected = "rejected", "不予立案", "Rejected";
        Dispatched = "dispatched", "已派遣", "Dispatched";
        InProgress = "in_progress", "处置中", "In progress";
        Arbitration = "arbitration", "待仲裁", "Awaiting arbitration";
        Handled = "handled", "已办结", "Handled";
        Verified = "verified", "已核查", "Verified";
        Rated = "rated", "已回访", "Rated";
        Closed = "closed", "已结案", "Closed";
        Merged = "merged", "已合并", "Merged";
    }
);

vocab!(
    /// What a handler reports at `handle`.
    Outcome {
        Resolved = "resolved", "已解决", "Resolved";
        Explained = "explained", "已解释说明", "Explained";
        Unresolvable = "unresolvable", "暂无法解决", "Cannot be resolved now";
    }
);

vocab!(
    /// The resident's rating.
    Rating {
        Satisfied = "satisfied", "满意", "Satisfied";
        Basic = "basic", "基本满意", "Basically satisfied";
        Dissatisfied = "dissatisfied", "不满意", "Dissatisfied";
    }
);

vocab!(
    /// 吹哨类型.
    WhistleKind {
        Daily = "daily", "日常", "Routine";
        Tough = "tough", "攻坚", "Tough problem";
        Emergency = "emergency", "应急", "Emergency";
    }
);

vocab!(
    /// Lifecycle actions (`POST /cases/{id}/actions/{action}`).
    Action {
        Register = "register", "立案", "Register";
        Reject = "reject", "不予立案", "Reject";
        Dispatch = "dispatch", "派遣", "Dispatch";
        Accept = "accept", "签收", "Accept";
        Return = "return", "退单", "Return";
        Arbitrate = "arbitrate", "仲裁", "Arbitrate";
        Handle = "handle", "办结", "Handle";
        Verify = "verify", "核查", "Verify";
        Rate = "rate", "回访评价", "Rate";
        Close = "close", "结案", "Close";
        RequestExtension = "request_extension", "申请延期", "Request extension";
        DecideExtension = "decide_extension", "审批延期", "Decide extension";
        Supervise = "supervise", "督办", "Supervise";
        Merge = "merge", "合并", "Merge";
        Reopen = "reopen", "重办", "Reopen";
    }
);

/// Who may take an action: the dispatcher (street or community), the street alone, the unit the
/// case is with, or the resident who submitted it (rating; a dispatcher may record a return visit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Dispatcher,
    Street,
    Unit,
    RequesterOrDispatcher,
}

impl Action {
    pub fn actor(self) -> Actor {
        match self {
            Action::Accept | Action::Return | Action::Handle | Action::RequestExtension => {
                Actor::Unit
            }
            Action::Arbitrate => Actor::Street,
            Action::Rate => Actor::RequesterOrDispatcher,
            _ => Actor::Dispatcher,
        }
    }
}

/// What the state machine needs to know about a case besides its status.
#[derive(Debug, Clone, Copy, Default)]
pub struct Facts {
    /// The category asks for a return visit before closing.
    pub return_visit_required: bool,
    /// Returns so far (before this action).
    pub return_count: i32,
    pub max_returns: i32,
    /// An arbitration bound the unit: it cannot return the case again.
    pub bound: bool,
    pub extension_pending: bool,
    pub extension_count: i32,
    pub max_extensions: i32,
    pub reopen_count: i32,
    pub max_reopens: i32,
    pub rating: Option<Rating>,
}

/// The state after `action` from `status`, or why it is not allowed. `ok` is the verification's
/// verdict (only for `verify`).
pub fn next(status: Status, action: Action, f: &Facts, ok: bool) -> Result<Status, Msg> {
    use Status as S;
    let wrong = || {
        Msg::owned(
            format!(
                "诉求当前为「{}」，不能{}",
                status.label_zh(),
                action.label_zh()
            ),
            format!(
                "The case is {}; it cannot be {}",
                status.label_en().to_lowercase(),
                action.label_en().to_lowercase()
            ),
        )
    };
    let open = matches!(status, S::Dispatched | S::InProgress);
    Ok(match action {
        Action::Register if status == S::Received => S::Registered,
        Action::Reject if matches!(status, S::Received | S::Registered) => S::Rejected,
        Action::Dispatch if matches!(status, S::Received | S::Registered) => S::Dispatched,
        Action::Accept if status == S::Dispatched => S::InProgress,
        Action::Return if open => {
            if f.bound {
                return Err(Msg::new(
                    "街道已仲裁确定本单位承办，不能再退单",
                    "The street's arbitration made your unit responsible; the case cannot be returned",
                ));
            }
            if f.return_count + 1 >= f.max_returns {
                S::Arbitration
            } else {
                S::Registered
            }
        }
        Action::Arbitrate if status == S::Arbitration => S::Dispatched,
        Action::Handle if open => S::Handled,
        Action::Verify if status == S::Handled => {
            if ok {
                S::Verified
            } else {
                S::InProgress
            }
        }
        Action::Rate if status == S::Verified => S::Rated,
        Action::Close if status == S::Rated => S::Closed,
        Action::Close if status == S::Verified && !f.return_visit_required => S::Closed,
        Action::Close if status == S::Verified => {
            return Err(Msg::new(
                "该类事项需要先回访评价再结案",
                "This category needs a return visit before closing",
            ))
        }
        Action::RequestExtension if open => {
            if f.extension_pending {
                return Err(Msg::new(
                    "已有待审批的延期申请",
                    "An extension request is already waiting",
                ));
            }
            if f.extension_count >= f.max_extensions {
                return Err(Msg::owned(
                    format!("延期次数已达上限（{} 次）", f.max_extensions),
                    format!("The extension limit ({}) is reached", f.max_extensions),
                ));
            }
            status
        }
        Action::DecideExtension if open && f.extension_pending => status,
        Action::DecideExtension if open => {
            return Err(Msg::new(
                "没有待审批的延期申请",
                "There is no extension request to decide",
            ))
        }
        Action::Supervise if open || status == S::Arbitration => status,
        Action::Merge if matches!(status, S::Received | S::Registered) => S::Merged,
        Action::Reopen if status == S::Closed || status == S::Rated => {
            if f.rating != Some(Rating::Dissatisfied) {
                return Err(Msg::new(
                    "只有居民不满意的诉求可以重办",
                    "Only a case the resident was dissatisfied with can be reopened",
                ));
            }
            if f.reopen_count >= f.max_reopens {
                return Err(Msg::owned(
                    format!("重办次数已达上限（{} 次）", f.max_reopens),
                    format!("The reopen limit ({}) is reached", f.max_reopens),
                ));
            }
            S::Dispatched
        }
        _ => return Err(wrong()),
    })
}

/// The actions the state machine allows from `status` (before checking who the caller is).
pub fn possible(status: Status, f: &Facts) -> Vec<Action> {
    Action::ALL
        .iter()
        .copied()
        .filter(|a| next(status, *a, f, true).is_ok())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Routing by power list

/// One duty that covers the case's category and serves an area containing the case.
#[derive(Debug, Clone)]
pub struct DutyMatch {
    pub duty_id: uuid::Uuid,
    pub duty_name: String,
    pub legal_basis: String,
    pub unit_id: uuid::Uuid,
    pub unit_name: String,
    /// The code the duty lists: the case's own code, or its parent's.
    pub matched_code: String,
    /// Depth of the duty's area in the tree (deeper = more specific).
    pub area_level: i32,
    pub area_name: String,
    pub created_at: i64,
}

/// Picks the duty to route by: the most specific area first, then the exact category code over
/// the parent code, then the oldest duty. Units in `excluded` (they returned the case) are skipped.
pub fn pick_duty<'a>(
    matches: &'a [DutyMatch],
    case_code: &str,
    excluded: &[uuid::Uuid],
) -> Option<&'a DutyMatch> {
    matches
        .iter()
        .filter(|m| !excluded.contains(&m.unit_id))
        .max_by(|a, b| {
            a.area_level
                .cmp(&b.area_level)
                .then((a.matched_code == case_code).cmp(&(b.matched_code == case_code)))
                .then(b.created_at.cmp(&a.created_at))
                .then(b.duty_id.cmp(&a.duty_id))
        })
}

// ---------------------------------------------------------------------------------------------
// Counters for the rates

/// The measures, in the column order of `case_stats` and `case_stat_deltas`.
pub const MEASURES: [&str; 13] = [
    "received",
    "due",
    "responded_in_time",
    "resolved",
    "handled_in_time",
    "closed",
    "rated",
    "satisfied",
    "basic",
    "dissatisfied",
    "overdue",
    "supervised",
    "returned",
];

/// What a case's counters depend on.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CounterFacts {
    pub status: Option<Status>,
    pub overdue: bool,
    pub responded_at: Option<i64>,
    pub response_due_at: Option<i64>,
    pub handled_at: Option<i64>,
    pub handle_due_at: Option<i64>,
    pub outcome: Option<Outcome>,
    pub rating: Option<Rating>,
    pub supervise_count: i32,
    pub return_count: i32,
}

/// The case's contribution to each measure (docs/cases.md "The rates"). `due`: registered cases
/// that are handled or past their handling deadline; the numerators count only due cases, so no
/// rate can exceed 100 %.
pub fn counters(f: &CounterFacts) -> [i64; 13] {
    use Status as S;
    let Some(status) = f.status else {
        return [0; 13];
    };
    let registered = !matches!(status, S::Received | S::Rejected | S::Merged);
    let handled_state = matches!(status, S::Handled | S::Verified | S::Rated | S::Closed);
    let due = registered && (handled_state || f.overdue);
    let b = |x: bool| x as i64;
    let within =
        |at: Option<i64>, by: Option<i64>| matches!((at, by), (Some(a), Some(d)) if a <= d);
    [
        1,
        b(due),
        b(due && within(f.responded_at, f.response_due_at)),
        b(due && handled_state && f.outcome == Some(Outcome::Resolved)),
        b(due && handled_state && within(f.handled_at, f.handle_due_at)),
        b(due && status == S::Closed),
        b(f.rating.is_some()),
        b(f.rating == Some(Rating::Satisfied)),
        b(f.rating == Some(Rating::Basic)),
        b(f.rating == Some(Rating::Dissatisfied)),
        b(f.overdue),
        f.supervise_count as i64,
        f.return_count as i64,
    ]
}

/// Weights of the composite score (响应率, 解决率, 满意率), in percent.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct Weights {
    pub response: u32,
    pub resolve: u32,
    pub satisfaction: u32,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            response: 30,
            resolve: 35,
            satisfaction: 35,
        }
    }
}

impl Weights {
    /// Parses "30/35/35" (three whole percentages that add up to 100).
    pub fn parse(s: &str) -> Option<Weights> {
        let parts: Vec<u32> = s
            .split(['/', ','])
            .map(|p| p.trim().parse().ok())
            .collect::<Option<_>>()?;
        match parts[..] {
            [a, b, c] if a + b + c == 100 => Some(Weights {
                response: a,
                resolve: b,
                satisfaction: c,
            }),
            _ => None,
        }
    }
}

/// A rate, or `None` when nothing is in its base.
pub fn rate(num: i64, den: i64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// The composite score 0–100 from the three rates; a missing rate counts as its weight's share of
/// the others (so a unit with no rated cases is scored on what it has), `None` if all are missing.
pub fn score(
    w: &Weights,
    response: Option<f64>,
    resolve: Option<f64>,
    sat: Option<f64>,
) -> Option<f64> {
    let parts = [
        (w.response as f64, response),
        (w.resolve as f64, resolve),
        (w.satisfaction as f64, sat),
    ];
    let (sum, weight) = parts
        .iter()
        .filter_map(|(wt, r)| r.map(|r| (wt * r, *wt)))
        .fold((0.0, 0.0), |(s, t), (a, b)| (s + a, t + b));
    (weight > 0.0).then(|| (sum / weight * 100.0 * 10.0).round() / 10.0)
}

/// A case number: the local date and 8 random Crockford base-32 characters
/// (`20261201-7K3M9QXA`). Random, so concurrent intakes never share a counter.
pub fn case_no(day: i32, random: u64) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut s = format!("{day}-");
    for i in 0..8 {
        s.push(ALPHABET[((random >> (i * 5)) & 31) as usize] as char);
    }
    s
}

/// Checks a category code: level 1 is 2 digits, level 2 its parent's code plus 2 digits.
pub fn check_category_code(code: &str, parent: Option<&str>) -> Result<(), Msg> {
    if code.is_empty() || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Msg::new(
            "编码只能由数字组成",
            "The code must be digits only",
        ));
    }
    match parent {
        None if code.len() == 2 => Ok(()),
        None => Err(Msg::new(
            "一级分类编码为 2 位数字",
            "A top-level category code has 2 digits",
        )),
        Some(p) if code.len() == 4 && code.starts_with(p) => Ok(()),
        Some(p) => Err(Msg::owned(
            format!("二级分类编码为上级编码 {p} 加 2 位数字"),
            format!("A second-level code is its parent's code {p} plus 2 digits"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        Facts {
            max_returns: 2,
            max_extensions: 1,
            max_reopens: 1,
            ..Facts::default()
        }
    }

    #[test]
    fn main_path_runs_to_closed() {
        let f = Facts {
            return_visit_required: true,
            ..facts()
        };
        let mut s = Status::Received;
        for (a, want) in [
            (Action::Register, Status::Registered),
            (Action::Dispatch, Status::Dispatched),
            (Action::Accept, Status::InProgress),
            (Action::Handle, Status::Handled),
            (Action::Verify, Status::Verified),
            (Action::Rate, Status::Rated),
            (Action::Close, Status::Closed),
        ] {
            s = next(s, a, &f, true).unwrap();
            assert_eq!(s, want);
        }
    }

    #[test]
    fn wrong_state_is_refused() {
        assert!(next(Status::Received, Action::Handle, &facts(), true).is_err());
        assert!(next(Status::Closed, Action::Dispatch, &facts(), true).is_err());
        let f = Facts {
            return_visit_required: true,
            ..facts()
        };
        assert!(next(Status::Verified, Action::Close, &f, true).is_err());
        assert_eq!(
            next(Status::Verified, Action::Close, &facts(), true).unwrap(),
            Status::Closed
        );
    }

    #[test]
    fn second_return_goes_to_arbitration_and_binds() {
        let mut f = facts();
        assert_eq!(
            next(Status::InProgress, Action::Return, &f, true).unwrap(),
            Status::Registered
        );
        f.return_count = 1;
        assert_eq!(
            next(Status::Dispatched, Action::Return, &f, true).unwrap(),
            Status::Arbitration
        );
        f.bound = true;
        assert!(next(Status::Dispatched, Action::Return, &f, true).is_err());
    }

    #[test]
    fn reopen_only_once_and_only_when_dissatisfied() {
        let mut f = facts();
        assert!(next(Status::Closed, Action::Reopen, &f, true).is_err());
        f.rating = Some(Rating::Dissatisfied);
        assert_eq!(
            next(Status::Closed, Action::Reopen, &f, true).unwrap(),
            Status::Dispatched
        );
        f.reopen_count = 1;
        assert!(next(Status::Closed, Action::Reopen, &f, true).is_err());
    }

    #[test]
    fn extensions_are_limited() {
        let mut f = facts();
        assert!(next(Status::InProgress, Action::RequestExtension, &f, true).is_ok());
        assert!(next(Status::InProgress, Action::DecideExtension, &f, true).is_err());
        f.extension_pending = true;
        assert!(next(Status::InProgress, Action::RequestExtension, &f, true).is_err());
        assert!(next(Status::InProgress, Action::DecideExtension, &f, true).is_ok());
        f.extension_pending = false;
        f.extension_count = 1;
        assert!(next(Status::InProgress, Action::RequestExtension, &f, true).is_err());
    }

    #[test]
    fn routing_prefers_specific_area_then_exact_code() {
        let id = |n: u128| uuid::Uuid::from_u128(n);
        let m = |duty: u128, unit: u128, code: &str, level: i32| DutyMatch {
            duty_id: id(duty),
            duty_name: format!("d{duty}"),
            legal_basis: String::new(),
            unit_id: id(unit),
            unit_name: format!("u{unit}"),
            matched_code: code.into(),
            area_level: level,
            area_name: String::new(),
            created_at: duty as i64,
        };
        let all = vec![m(1, 10, "01", 2), m(2, 20, "0101", 2), m(3, 30, "01", 3)];
        assert_eq!(pick_duty(&all, "0101", &[]).unwrap().unit_id, id(30));
        assert_eq!(pick_duty(&all, "0101", &[id(30)]).unwrap().unit_id, id(20));
        assert!(pick_duty(&all, "0101", &[id(10), id(20), id(30)]).is_none());
    }

    #[test]
    fn counters_count_only_due_cases() {
        let mut f = CounterFacts {
            status: Some(Status::InProgress),
            responded_at: Some(5),
            response_due_at: Some(10),
            handle_due_at: Some(100),
            ..Default::default()
        };
        let c = counters(&f);
        assert_eq!((c[0], c[1], c[2]), (1, 0, 0));
        f.status = Some(Status::Handled);
        f.handled_at = Some(50);
        f.outcome = Some(Outcome::Resolved);
        let c = counters(&f);
        assert_eq!(&c[..6], &[1, 1, 1, 1, 1, 0]);
        f.status = Some(Status::Received);
        assert_eq!(counters(&f)[1], 0);
    }

    #[test]
    fn score_and_weights() {
        let w = Weights::default();
        assert_eq!(score(&w, Some(1.0), Some(1.0), Some(1.0)), Some(100.0));
        assert_eq!(score(&w, Some(1.0), Some(0.0), None), Some(46.2));
        assert_eq!(score(&w, None, None, None), None);
        assert!(Weights::parse("30/35/35").is_some());
        assert!(Weights::parse("30/35/36").is_none());
    }

    #[test]
    fn case_numbers_and_codes() {
        assert_eq!(case_no(20261201, 0).len(), 17);
        assert!(check_category_code("01", None).is_ok());
        assert!(check_category_code("0101", Some("01")).is_ok());
        assert!(check_category_code("0201", Some("01")).is_err());
        assert!(check_category_code("1", None).is_err());
    }
}
