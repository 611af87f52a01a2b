//! Text every input must pass: no C0 control characters other than tab, line feed and carriage
//! return. PostgreSQL cannot store NUL at all, and the others only hide text from people; the HTTP
//! extractors and the sheet importers refuse them before anything reaches the database.
use crate::error::Msg;

/// A C0 control character other than tab, line feed and carriage return.
pub fn is_forbidden_control(c: char) -> bool {
    c < ' ' && !matches!(c, '\t' | '\n' | '\r')
}

/// Whether `s` holds a forbidden control character (see [`is_forbidden_control`]).
pub fn has_forbidden_control(s: &str) -> bool {
    s.chars().any(is_forbidden_control)
}

/// The reason given for such a value.
pub fn control_msg() -> Msg {
    Msg::new(
        "不能包含控制字符（制表符和换行除外）",
        "Must not contain control characters (tabs and line breaks are allowed)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_c0_controls_other_than_whitespace_are_forbidden() {
        assert!(has_forbidden_control("a\0b"));
        assert!(has_forbidden_control("\u{1b}[31m"));
        assert!(has_forbidden_control("\u{8}"));
        assert!(!has_forbidden_control("第一行\n第二行\r\n\t缩进"));
        assert!(!has_forbidden_control("电梯 ☃ \u{7f}"));
    }
}
