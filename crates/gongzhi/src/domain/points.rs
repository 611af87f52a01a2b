//! Points (积分): an immutable ledger of postings, the rules that keep it sound, and a catalogue's
//! stock (issue 5, first slice: the pure model the services will store). No IO.
//!
//! - A posting records an account, a whole amount, its kind and (for a reversal) the posting it
//!   reverses. Postings are never edited: a correction is a reversing posting.
//! - An account's balance is the sum of its postings, and never goes below zero: a debit larger
//!   than the balance is refused.
//! - A redemption lowers the balance and the item's stock together, or neither.
//! - A transfer (donation) moves points between two accounts: the total is conserved.
use std::collections::HashMap;

use crate::error::Msg;

/// What a posting is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Earned by a rule (report-in, attendance, service hours, commendation).
    Earn,
    /// Deducted by a rule (e.g. an unexcused absence).
    Deduct,
    /// Spent at the catalogue (爱心超市).
    Redeem,
    /// Donated to another account (a person or a community fund).
    TransferOut,
    TransferIn,
    /// Cancels one earlier posting, by the opposite amount.
    Reversal,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Earn => "earn",
            Kind::Deduct => "deduct",
            Kind::Redeem => "redeem",
            Kind::TransferOut => "transfer_out",
            Kind::TransferIn => "transfer_in",
            Kind::Reversal => "reversal",
        }
    }
    pub fn parse(s: &str) -> Option<Kind> {
        [
            Kind::Earn,
            Kind::Deduct,
            Kind::Redeem,
            Kind::TransferOut,
            Kind::TransferIn,
            Kind::Reversal,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
    pub fn label(self, en: bool) -> &'static str {
        match (self, en) {
            (Kind::Earn, false) => "获得",
            (Kind::Deduct, false) => "扣减",
            (Kind::Redeem, false) => "兑换",
            (Kind::TransferOut, false) => "转赠出",
            (Kind::TransferIn, false) => "受赠",
            (Kind::Reversal, false) => "冲正",
            (Kind::Earn, true) => "Earned",
            (Kind::Deduct, true) => "Deducted",
            (Kind::Redeem, true) => "Redeemed",
            (Kind::TransferOut, true) => "Donated",
            (Kind::TransferIn, true) => "Received",
            (Kind::Reversal, true) => "Reversal",
        }
    }
}

/// What earns or costs points, configurable per area (`point_rules`); the code defaults apply
/// where no area up the tree sets one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    ReportIn,
    Attendance,
    Hour,
    Commendation,
    Absence,
    /// Not a posting: members at or over this age are exempt from deductions and the report-in rule.
    ExemptOverAge,
}

impl Event {
    pub const ALL: [Event; 6] = [
        Event::ReportIn,
        Event::Attendance,
        Event::Hour,
        Event::Commendation,
        Event::Absence,
        Event::ExemptOverAge,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Event::ReportIn => "report_in",
            Event::Attendance => "attendance",
            Event::Hour => "hour",
            Event::Commendation => "commendation",
            Event::Absence => "absence",
            Event::ExemptOverAge => "exempt_over_age",
        }
    }
    pub fn parse(s: &str) -> Option<Event> {
        Event::ALL.into_iter().find(|e| e.as_str() == s)
    }
    pub fn label(self, en: bool) -> &'static str {
        match (self, en) {
            (Event::ReportIn, false) => "报到",
            (Event::Attendance, false) => "参加活动（每次）",
            (Event::Hour, false) => "服务时长（每小时）",
            (Event::Commendation, false) => "获得表彰",
            (Event::Absence, false) => "无故缺席（扣分）",
            (Event::ExemptOverAge, false) => "免扣年龄（周岁及以上）",
            (Event::ReportIn, true) => "Report-in",
            (Event::Attendance, true) => "Attending an activity (each)",
            (Event::Hour, true) => "Service time (per hour)",
            (Event::Commendation, true) => "Commendation",
            (Event::Absence, true) => "Unexcused absence (deducted)",
            (Event::ExemptOverAge, true) => "Exempt from deductions at age",
        }
    }
    /// The default (points, cap, cap period).
    pub fn default_rule(self) -> (i64, Option<i64>, Option<Period>) {
        match self {
            Event::ReportIn => (10, None, None),
            Event::Attendance => (2, None, None),
            Event::Hour => (1, Some(80), Some(Period::Month)),
            Event::Commendation => (20, None, None),
            Event::Absence => (5, None, None),
            Event::ExemptOverAge => (70, None, None),
        }
    }
}

/// The period a cap counts over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    Day,
    Month,
    Year,
}

impl Period {
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Month => "month",
            Period::Year => "year",
        }
    }
    pub fn parse(s: &str) -> Option<Period> {
        [Period::Day, Period::Month, Period::Year]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
    /// The key of the period holding an instant (Asia/Shanghai): 2026-12-01, 2026-12 or 2026.
    pub fn key(self, ms: i64) -> String {
        let d = crate::domain::calendar::local_date(ms);
        match self {
            Period::Day => format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()),
            Period::Month => format!("{:04}-{:02}", d.year(), u8::from(d.month())),
            Period::Year => format!("{:04}", d.year()),
        }
    }
}

/// How much of `amount` a cap still allows after `used` in the period.
pub fn capped(amount: i64, cap: Option<i64>, used: i64) -> i64 {
    match cap {
        None => amount,
        Some(c) => amount.min((c - used).max(0)),
    }
}

/// Annual party rating (年度评议等次).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grade {
    Excellent,
    Qualified,
    Basic,
    Unqualified,
}

impl Grade {
    pub fn as_str(self) -> &'static str {
        match self {
            Grade::Excellent => "excellent",
            Grade::Qualified => "qualified",
            Grade::Basic => "basic",
            Grade::Unqualified => "unqualified",
        }
    }
    pub fn parse(s: &str) -> Option<Grade> {
        [
            Grade::Excellent,
            Grade::Qualified,
            Grade::Basic,
            Grade::Unqualified,
        ]
        .into_iter()
        .find(|g| g.as_str() == s)
    }
    pub fn label(self, en: bool) -> &'static str {
        match (self, en) {
            (Grade::Excellent, false) => "优秀",
            (Grade::Qualified, false) => "合格",
            (Grade::Basic, false) => "基本合格",
            (Grade::Unqualified, false) => "不合格",
            (Grade::Excellent, true) => "Excellent",
            (Grade::Qualified, true) => "Qualified",
            (Grade::Basic, true) => "Basically qualified",
            (Grade::Unqualified, true) => "Unqualified",
        }
    }
}

/// The rating of one member: `score = 0.5 × min(points / target, 1) × 100 + 0.5 × review` (a
/// missing review counts as 0), in tenths; ≥ 90 优秀, ≥ 75 合格, ≥ 60 基本合格, else 不合格. With
/// `cap_without_report_in`, a member who did not report in (and is not exempt) is rated at most
/// 基本合格. Returns (score × 10, grade, capped).
pub fn rate(
    points: i64,
    target: i64,
    review: Option<i64>,
    reported_in: bool,
    exempt: bool,
    cap_without_report_in: bool,
) -> (i64, Grade, bool) {
    let p = points.clamp(0, target.max(1)) * 500 / target.max(1);
    let r = review.unwrap_or(0).clamp(0, 100) * 5;
    let score = p + r;
    let mut grade = if score >= 900 {
        Grade::Excellent
    } else if score >= 750 {
        Grade::Qualified
    } else if score >= 600 {
        Grade::Basic
    } else {
        Grade::Unqualified
    };
    let mut capped = false;
    if cap_without_report_in
        && !reported_in
        && !exempt
        && matches!(grade, Grade::Excellent | Grade::Qualified)
    {
        grade = Grade::Basic;
        capped = true;
    }
    (score, grade, capped)
}

#[derive(Debug, Clone, PartialEq)]
pub struct Posting {
    pub id: u64,
    pub account: u64,
    /// Whole points; positive credits, negative debits.
    pub amount: i64,
    pub kind: Kind,
    /// For a reversal: the posting it cancels. For a redemption: the catalogue item.
    pub reverses: Option<u64>,
    pub item: Option<u64>,
}

/// Why a change to the ledger is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Amounts are whole points, at least 1, at most 1,000,000.
    BadAmount,
    NotEnoughPoints {
        balance: i64,
        needed: i64,
    },
    NotEnoughStock {
        stock: i64,
    },
    UnknownPosting,
    AlreadyReversed,
    /// Reversals, transfers and redemptions are not reversed by a reversal of their own kind.
    NotReversible,
    SameAccount,
    UnknownItem,
}

impl Refusal {
    pub fn msg(&self) -> Msg {
        match self {
            Refusal::BadAmount => Msg::new(
                "积分应为 1–1000000 的整数",
                "Points are a whole number from 1 to 1,000,000",
            ),
            Refusal::NotEnoughPoints { balance, needed } => Msg::owned(
                format!("积分不足：余额 {balance}，需要 {needed}"),
                format!("Not enough points: the balance is {balance}, {needed} are needed"),
            ),
            Refusal::NotEnoughStock { stock } => Msg::owned(
                format!("库存不足（剩余 {stock}）"),
                format!("Not enough stock ({stock} left)"),
            ),
            Refusal::UnknownPosting => Msg::new("没有这条积分流水", "No such posting"),
            Refusal::AlreadyReversed => Msg::new(
                "这条流水已经冲正过",
                "This posting has been reversed already",
            ),
            Refusal::NotReversible => Msg::new(
                "冲正、转赠和兑换不能再冲正",
                "Reversals, donations and redemptions cannot be reversed",
            ),
            Refusal::SameAccount => Msg::new(
                "不能转赠给自己",
                "Points cannot be donated to the same account",
            ),
            Refusal::UnknownItem => Msg::new("没有这件商品", "No such item"),
        }
    }
}

pub const MAX_AMOUNT: i64 = 1_000_000;

fn check_amount(a: i64) -> Result<(), Refusal> {
    if (1..=MAX_AMOUNT).contains(&a) {
        Ok(())
    } else {
        Err(Refusal::BadAmount)
    }
}

/// An in-memory ledger with the same rules the store enforces in one transaction per change;
/// the property test below drives it, and the services use its checks.
#[derive(Debug, Default, Clone)]
pub struct Ledger {
    pub postings: Vec<Posting>,
    balances: HashMap<u64, i64>,
    reversed: std::collections::HashSet<u64>,
    pub stock: HashMap<u64, (i64, i64)>, // item → (stock, price)
    next: u64,
}

impl Ledger {
    pub fn balance(&self, account: u64) -> i64 {
        self.balances.get(&account).copied().unwrap_or(0)
    }

    fn post(
        &mut self,
        account: u64,
        amount: i64,
        kind: Kind,
        reverses: Option<u64>,
        item: Option<u64>,
    ) -> u64 {
        self.next += 1;
        let id = self.next;
        self.postings.push(Posting {
            id,
            account,
            amount,
            kind,
            reverses,
            item,
        });
        *self.balances.entry(account).or_default() += amount;
        id
    }

    pub fn add_item(&mut self, item: u64, stock: i64, price: i64) {
        self.stock.insert(item, (stock.max(0), price.max(1)));
    }

    pub fn earn(&mut self, account: u64, amount: i64) -> Result<u64, Refusal> {
        check_amount(amount)?;
        Ok(self.post(account, amount, Kind::Earn, None, None))
    }

    pub fn deduct(&mut self, account: u64, amount: i64) -> Result<u64, Refusal> {
        check_amount(amount)?;
        let balance = self.balance(account);
        if balance < amount {
            return Err(Refusal::NotEnoughPoints {
                balance,
                needed: amount,
            });
        }
        Ok(self.post(account, -amount, Kind::Deduct, None, None))
    }

    /// Reverses an earning or a deduction (a correction), once.
    pub fn reverse(&mut self, posting: u64) -> Result<u64, Refusal> {
        let p = self
            .postings
            .iter()
            .find(|p| p.id == posting)
            .cloned()
            .ok_or(Refusal::UnknownPosting)?;
        if !matches!(p.kind, Kind::Earn | Kind::Deduct) {
            return Err(Refusal::NotReversible);
        }
        if self.reversed.contains(&posting) {
            return Err(Refusal::AlreadyReversed);
        }
        let balance = self.balance(p.account);
        if balance - p.amount < 0 {
            return Err(Refusal::NotEnoughPoints {
                balance,
                needed: p.amount,
            });
        }
        self.reversed.insert(posting);
        Ok(self.post(p.account, -p.amount, Kind::Reversal, Some(posting), None))
    }

    pub fn redeem(&mut self, account: u64, item: u64, qty: i64) -> Result<u64, Refusal> {
        check_amount(qty)?;
        let (stock, price) = *self.stock.get(&item).ok_or(Refusal::UnknownItem)?;
        if stock < qty {
            return Err(Refusal::NotEnoughStock { stock });
        }
        let cost = price.checked_mul(qty).ok_or(Refusal::BadAmount)?;
        let balance = self.balance(account);
        if balance < cost {
            return Err(Refusal::NotEnoughPoints {
                balance,
                needed: cost,
            });
        }
        self.stock.insert(item, (stock - qty, price));
        Ok(self.post(account, -cost, Kind::Redeem, None, Some(item)))
    }

    pub fn transfer(&mut self, from: u64, to: u64, amount: i64) -> Result<(u64, u64), Refusal> {
        check_amount(amount)?;
        if from == to {
            return Err(Refusal::SameAccount);
        }
        let balance = self.balance(from);
        if balance < amount {
            return Err(Refusal::NotEnoughPoints {
                balance,
                needed: amount,
            });
        }
        let out = self.post(from, -amount, Kind::TransferOut, None, None);
        let inn = self.post(to, amount, Kind::TransferIn, Some(out), None);
        Ok((out, inn))
    }

    /// The balance recomputed from the postings alone.
    pub fn sum_of(&self, account: u64) -> i64 {
        self.postings
            .iter()
            .filter(|p| p.account == account)
            .map(|p| p.amount)
            .sum()
    }
}

/// Volunteer stars (星级) by cumulative verified hours: 1–5 stars at the thresholds (default
/// 100/300/600/1000/1500 h, as in the national volunteer-record rules). `thresholds` ascending.
pub fn stars(hours: f64, thresholds: &[f64; 5]) -> u8 {
    thresholds.iter().filter(|t| hours >= **t).count() as u8
}

pub const DEFAULT_STAR_HOURS: [f64; 5] = [100.0, 300.0, 600.0, 1000.0, 1500.0];

/// Hours still needed for the next star, or `None` at five stars.
pub fn next_star_hours(hours: f64, thresholds: &[f64; 5]) -> Option<f64> {
    thresholds.iter().find(|t| hours < **t).map(|t| t - hours)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ratings_follow_points_review_and_the_report_in_rule() {
        // Full points and a full review: 优秀.
        assert_eq!(
            rate(100, 100, Some(100), true, false, true),
            (1000, Grade::Excellent, false)
        );
        // Half the points, review 80: 25 + 40 = 65 → 基本合格.
        assert_eq!(
            rate(50, 100, Some(80), true, false, true),
            (650, Grade::Basic, false)
        );
        // No review counts as 0.
        assert_eq!(
            rate(100, 100, None, true, false, true).1,
            Grade::Unqualified
        );
        // Not reported in: held at 基本合格 — unless exempt, or the rule is off.
        assert_eq!(
            rate(100, 100, Some(100), false, false, true),
            (1000, Grade::Basic, true)
        );
        assert_eq!(
            rate(100, 100, Some(100), false, true, true).1,
            Grade::Excellent
        );
        assert_eq!(
            rate(100, 100, Some(100), false, false, false).1,
            Grade::Excellent
        );
        // The rule never raises a grade.
        assert_eq!(
            rate(0, 100, Some(10), false, false, true),
            (50, Grade::Unqualified, false)
        );
        // Points over the target and negative points are clamped.
        assert_eq!(rate(500, 100, Some(80), true, false, true).0, 900);
        assert_eq!(rate(-20, 100, Some(100), true, false, true).0, 500);
    }

    #[test]
    fn caps_and_period_keys() {
        assert_eq!(capped(30, Some(80), 70), 10);
        assert_eq!(capped(30, Some(80), 90), 0);
        assert_eq!(capped(30, None, 1000), 30);
        // 2026-12-31T16:30Z is 2027-01-01 00:30 in Asia/Shanghai.
        let ms = 1_798_734_600_000;
        assert_eq!(Period::Day.key(ms), "2027-01-01");
        assert_eq!(Period::Month.key(ms), "2027-01");
        assert_eq!(Period::Year.key(ms), "2027");
        assert_eq!(
            next_star_hours(340.6, &DEFAULT_STAR_HOURS).map(|h| h.round()),
            Some(259.0)
        );
        assert_eq!(next_star_hours(2000.0, &DEFAULT_STAR_HOURS), None);
    }

    #[test]
    fn debits_beyond_the_balance_are_refused() {
        let mut l = Ledger::default();
        l.earn(1, 10).unwrap();
        assert_eq!(
            l.deduct(1, 11),
            Err(Refusal::NotEnoughPoints {
                balance: 10,
                needed: 11
            })
        );
        assert!(l.earn(1, 0).is_err() && l.earn(1, -3).is_err());
        l.add_item(7, 1, 8);
        l.redeem(1, 7, 1).unwrap();
        assert_eq!(l.redeem(1, 7, 1), Err(Refusal::NotEnoughStock { stock: 0 }));
        assert_eq!(l.balance(1), 2);
    }

    #[test]
    fn a_posting_is_reversed_once() {
        let mut l = Ledger::default();
        let p = l.earn(1, 5).unwrap();
        l.reverse(p).unwrap();
        assert_eq!(l.reverse(p), Err(Refusal::AlreadyReversed));
        assert_eq!(l.balance(1), 0);
    }

    #[test]
    fn stars_follow_hours() {
        assert_eq!(stars(99.9, &DEFAULT_STAR_HOURS), 0);
        assert_eq!(stars(100.0, &DEFAULT_STAR_HOURS), 1);
        assert_eq!(stars(1499.0, &DEFAULT_STAR_HOURS), 4);
        assert_eq!(stars(2000.0, &DEFAULT_STAR_HOURS), 5);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Earn(u64, i64),
        Deduct(u64, i64),
        Reverse(usize),
        Redeem(u64, u64, i64),
        Transfer(u64, u64, i64),
    }

    fn op() -> impl Strategy<Value = Op> {
        let acct = 0u64..5;
        prop_oneof![
            (acct.clone(), -5i64..200).prop_map(|(a, n)| Op::Earn(a, n)),
            (acct.clone(), -5i64..200).prop_map(|(a, n)| Op::Deduct(a, n)),
            (0usize..64).prop_map(Op::Reverse),
            (acct.clone(), 0u64..3, 0i64..4).prop_map(|(a, i, q)| Op::Redeem(a, i, q)),
            (acct.clone(), acct, -5i64..200).prop_map(|(a, b, n)| Op::Transfer(a, b, n)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Random postings, reversals, redemptions and donations: every balance equals the sum of its
        /// postings, no balance or stock goes below zero, and donations conserve the total.
        #[test]
        fn the_ledger_stays_sound(ops in proptest::collection::vec(op(), 1..120)) {
            let mut l = Ledger::default();
            for i in 0..3u64 {
                l.add_item(i, 5, 10 + i as i64 * 5);
            }
            for o in ops {
                let total_before: i64 = (0..5).map(|a| l.balance(a)).sum();
                let stock_before: i64 = l.stock.values().map(|s| s.0).sum();
                let n_before = l.postings.len();
                let r = match o {
                    Op::Earn(a, n) => l.earn(a, n).map(|_| ()),
                    Op::Deduct(a, n) => l.deduct(a, n).map(|_| ()),
                    Op::Reverse(k) => {
                        let id = l.postings.get(k).map(|p| p.id).unwrap_or(u64::MAX);
                        l.reverse(id).map(|_| ())
                    }
                    Op::Redeem(a, i, q) => l.redeem(a, i, q).map(|_| ()),
                    Op::Transfer(a, b, n) => {
                        let r = l.transfer(a, b, n).map(|_| ());
                        if r.is_ok() {
                            let total: i64 = (0..5).map(|a| l.balance(a)).sum();
                            prop_assert_eq!(total, total_before, "a donation conserves points");
                        }
                        r
                    }
                };
                if r.is_err() {
                    // A refused change changes nothing.
                    prop_assert_eq!(l.postings.len(), n_before);
                    prop_assert_eq!(l.stock.values().map(|s| s.0).sum::<i64>(), stock_before);
                }
                for a in 0..5 {
                    prop_assert_eq!(l.balance(a), l.sum_of(a));
                    prop_assert!(l.balance(a) >= 0);
                }
                prop_assert!(l.stock.values().all(|s| s.0 >= 0));
            }
        }
    }
}
