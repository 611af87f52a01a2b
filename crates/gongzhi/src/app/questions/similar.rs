//! Finding published answers that look like a question: the search box of the public page, the
//! suggestions while a resident types, and the candidates a worker links a repeat to. Text is
//! cut into character pairs (二元组), which suits Chinese without a word list; a published answer
//! scores by the share of the query's pairs it contains. Only the newest [`CANDIDATES`] published
//! answers of the place are scored: a community publishes a few hundred in years.
use std::collections::BTreeSet;

use sea_orm::{ConnectionTrait, FromQueryResult};
use uuid::Uuid;

use super::PublicAnswer;
use crate::domain::ms_to_rfc3339;
use crate::error::AppResult;
use crate::store;

pub const CANDIDATES: i64 = 1_000;

/// The character pairs of a text, lower-cased, punctuation and spaces dropped; a lone character
/// (a one-letter query) is its own pair.
pub fn grams(text: &str) -> BTreeSet<String> {
    let chars: Vec<char> = text
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    let mut out = BTreeSet::new();
    if chars.len() == 1 {
        out.insert(chars[0].to_string());
    }
    for w in chars.windows(2) {
        out.insert(w.iter().collect());
    }
    out
}

/// Share of `query`'s pairs found in `text` (0..=1).
pub fn score(query: &BTreeSet<String>, text: &str) -> f64 {
    if query.is_empty() {
        return 0.0;
    }
    let have = grams(text);
    query.iter().filter(|g| have.contains(*g)).count() as f64 / query.len() as f64
}

#[derive(FromQueryResult)]
struct Candidate {
    id: Uuid,
    public_title: Option<String>,
    public_body: Option<String>,
    answer: Option<String>,
    answered_at: Option<i64>,
    helped: i32,
    asked_count: i32,
}

/// Published answers whose community is `place` or under it (a street's page shows its
/// communities'), newest first.
#[tracing::instrument(name = "questions::similar::published", skip_all)]
pub async fn published<C: ConnectionTrait>(c: &C, place: Uuid) -> AppResult<Vec<PublicAnswer>> {
    let rows: Vec<Candidate> = store::fetch_all(
        c,
        &format!(
            "SELECT q.id, q.public_title, q.public_body, q.answer, q.answered_at, q.helped, q.asked_count \
             FROM questions q WHERE q.public = TRUE \
             AND q.community_id IN (SELECT descendant_id FROM area_closure WHERE ancestor_id = $1) \
             ORDER BY q.published_at DESC LIMIT {CANDIDATES}"
        ),
        vec![place.into()],
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| PublicAnswer {
            id: r.id,
            title: r.public_title.unwrap_or_default(),
            body: r.public_body.unwrap_or_default(),
            answer: r.answer.unwrap_or_default(),
            answered_at: r.answered_at.map(ms_to_rfc3339).unwrap_or_default(),
            helped: r.helped,
            asked_count: r.asked_count,
        })
        .collect())
}

/// The answers that match `query` best (at least `min` of its pairs), at most `limit`.
pub fn best(all: Vec<PublicAnswer>, query: &str, min: f64, limit: usize) -> Vec<PublicAnswer> {
    let q = grams(query);
    if q.is_empty() {
        return vec![];
    }
    // Matched over the whole text; among equals, a match in the title ranks first.
    let mut scored: Vec<(f64, f64, PublicAnswer)> = all
        .into_iter()
        .map(|a| {
            let s = score(&q, &format!("{} {} {}", a.title, a.body, a.answer));
            (s, score(&q, &a.title), a)
        })
        .filter(|(s, _, _)| *s >= min)
        .collect();
    scored.sort_by(|a, b| {
        (b.0 + b.1 / 2.0)
            .partial_cmp(&(a.0 + a.1 / 2.0))
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(b.2.helped.cmp(&a.2.helped))
    });
    scored.into_iter().take(limit).map(|(_, _, a)| a).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(title: &str, answer: &str) -> PublicAnswer {
        PublicAnswer {
            id: Uuid::nil(),
            title: title.into(),
            body: String::new(),
            answer: answer.into(),
            answered_at: String::new(),
            helped: 0,
            asked_count: 1,
        }
    }

    #[test]
    fn pairs_find_a_question_asked_in_other_words() {
        let all = vec![
            a("小区电梯什么时候维修", "已报修，周五前修好"),
            a("垃圾分类投放时间", "早7点到9点"),
        ];
        let got = best(all, "电梯坏了多久能修好", 0.2, 5);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].title, "小区电梯什么时候维修");
        assert!(best(vec![a("垃圾分类投放时间", "")], "电梯", 0.2, 5).is_empty());
        assert!(grams("  ，。").is_empty());
        assert_eq!(grams("电").len(), 1);
    }
}
