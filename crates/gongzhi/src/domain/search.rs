//! Chinese name search without a scan: names are cut into overlapping two-character pieces
//! (bigrams) plus a marked first character, stored in `search_grams` and looked up by index.
//!
//! Why not SQLite FTS5 or PostgreSQL pg_trgm: FTS5's trigram tokenizer misses two-character words
//! (王芳, 电梯) and pg_trgm ignores CJK characters in the C locale; a table of bigrams behaves the
//! same on both databases (docs/decisions/0008-name-bigrams.md).
//!
//! - A name `王晓芳` is stored as `^王` (first character), `王晓`, `晓芳`.
//! - A one-character query `王` matches names that start with it (`^王`): surnames, the usual
//!   one-character search.
//! - A query of two or more characters must contain all of its bigrams; the caller confirms the
//!   whole text with `LIKE` when the query is longer than one bigram.

/// Letters kept for matching: lower-case, without spaces and the name separators `·` `•` `.`
/// (阿依古丽·买买提 matches 阿依古丽买买提 and the reverse).
fn normalise(s: &str) -> Vec<char> {
    s.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '·' | '•' | '.' | '・' | '-'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The pieces stored for a name, without repeats.
pub fn name_grams(name: &str) -> Vec<String> {
    let c = normalise(name);
    let mut out: Vec<String> = Vec::with_capacity(c.len());
    if let Some(first) = c.first() {
        out.push(format!("^{first}"));
    }
    for w in c.windows(2) {
        let g: String = w.iter().collect();
        if !out.contains(&g) {
            out.push(g);
        }
    }
    out
}

/// What a search text looks up: the pieces that must all be present (at most `max`, the most
/// telling first), and whether the whole text must still be confirmed by `LIKE`.
pub fn query_grams(q: &str, max: usize) -> (Vec<String>, bool) {
    let c = normalise(q);
    match c.len() {
        0 => (vec![], false),
        1 => (vec![format!("^{}", c[0])], false),
        2 => (vec![c.iter().collect()], false),
        _ => {
            let mut grams: Vec<String> = vec![];
            for w in c.windows(2) {
                let g: String = w.iter().collect();
                if !grams.contains(&g) {
                    grams.push(g);
                }
            }
            // Spread the chosen pieces over the text: first, last, then the middle.
            let mut chosen: Vec<String> = vec![];
            let n = grams.len();
            for i in [0, n - 1, n / 2, n / 4, 3 * n / 4] {
                if chosen.len() < max && !chosen.contains(&grams[i]) {
                    chosen.push(grams[i].clone());
                }
            }
            (chosen, true)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cut_into_bigrams_and_a_first_character() {
        assert_eq!(name_grams("王晓芳"), vec!["^王", "王晓", "晓芳"]);
        assert_eq!(name_grams("王芳"), vec!["^王", "王芳"]);
        assert_eq!(name_grams("芳"), vec!["^芳"]);
        assert_eq!(name_grams(""), Vec::<String>::new());
        assert_eq!(name_grams("阿依·买买"), vec!["^阿", "阿依", "依买", "买买"]);
        assert_eq!(name_grams("Li Na"), vec!["^l", "li", "in", "na"]);
    }

    #[test]
    fn queries_need_every_piece() {
        assert_eq!(query_grams("王", 3), (vec!["^王".to_string()], false));
        assert_eq!(query_grams(" 王芳 ", 3), (vec!["王芳".to_string()], false));
        let (g, confirm) = query_grams("欧阳晓芳", 3);
        assert!(confirm);
        assert_eq!(g, vec!["欧阳", "晓芳", "阳晓"]);
        assert_eq!(query_grams("·", 3), (vec![], false));
    }

    #[test]
    fn every_substring_of_two_or_more_is_found_by_its_pieces() {
        let name = "爱新觉罗玄烨";
        let stored = name_grams(name);
        let c: Vec<char> = name.chars().collect();
        for i in 0..c.len() {
            for j in i + 2..=c.len() {
                let q: String = c[i..j].iter().collect();
                let (need, _) = query_grams(&q, 5);
                assert!(need.iter().all(|g| stored.contains(g)), "{q}");
            }
        }
    }
}
