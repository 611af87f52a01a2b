//! Identity numbers that validate on parse: 居民身份证 (GB 11643), mobile numbers, and the unified
//! social credit code (GB 32100). Plus the masks shown by default.
use crate::error::Msg;

/// A citizen ID number (居民身份证号码, GB 11643-1999): 17 digits and a check character, with a
/// real birth date. Also the 港澳台居民居住证 numbers, which follow the same scheme.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdCardNo(String);

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: &[u8; 11] = b"10X98765432";

/// The check character for the first 17 digits.
pub fn id_check_char(first17: &str) -> Option<char> {
    if first17.len() != 17 || !first17.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sum: u32 = first17
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| (b - b'0') as u32 * w)
        .sum();
    Some(CHECK[(sum % 11) as usize] as char)
}

fn is_leap(y: u32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// A valid calendar date as (year, month, day).
pub fn valid_date(y: u32, m: u32, d: u32) -> bool {
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

impl IdCardNo {
    pub fn parse(s: &str) -> Result<IdCardNo, Msg> {
        let s = s.trim().to_ascii_uppercase();
        if s.contains("E+") && s.contains('.') {
            return Err(Msg::owned(
                format!("证件号码“{s}”被 Excel 转成了科学计数法：请把该列设为“文本”后重新填写"),
                format!("Excel turned the number into scientific notation (“{s}”): format the column as text and enter it again"),
            ));
        }
        if s.len() != 18 || !s.is_ascii() || !s[..17].bytes().all(|b| b.is_ascii_digit()) {
            return Err(Msg::new(
                "身份证号应为 18 位（前 17 位为数字）",
                "An ID number has 18 characters, the first 17 digits",
            ));
        }
        let (y, m, d) = (
            s[6..10].parse::<u32>().unwrap_or(0),
            s[10..12].parse::<u32>().unwrap_or(0),
            s[12..14].parse::<u32>().unwrap_or(0),
        );
        let this_year = time::OffsetDateTime::now_utc().year() as u32;
        if !(1900..=this_year).contains(&y) || !valid_date(y, m, d) {
            return Err(Msg::new(
                "身份证号中的出生日期无效",
                "The birth date inside the ID number is not a valid date",
            ));
        }
        if id_check_char(&s[..17]) != s[17..].chars().next() {
            return Err(Msg::new(
                "身份证号校验位不正确",
                "The ID number's check character is wrong",
            ));
        }
        Ok(IdCardNo(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Birth date as `YYYY-MM-DD`.
    pub fn birth_date(&self) -> String {
        format!("{}-{}-{}", &self.0[6..10], &self.0[10..12], &self.0[12..14])
    }
    /// 男 when the 17th digit is odd.
    pub fn is_male(&self) -> bool {
        (self.0.as_bytes()[16] - b'0') % 2 == 1
    }
    /// The 6-digit administrative code of the place of first registration.
    pub fn region(&self) -> &str {
        &self.0[..6]
    }
}

/// A mainland mobile number: 11 digits starting with 13–19. A leading +86 or 86 is dropped.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MobileNo(String);

impl MobileNo {
    pub fn parse(s: &str) -> Result<MobileNo, Msg> {
        let digits: String = s.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let digits = digits
            .strip_prefix("+86")
            .or_else(|| digits.strip_prefix("0086"))
            .unwrap_or(&digits);
        let digits = if digits.len() == 13 && digits.starts_with("86") {
            &digits[2..]
        } else {
            digits
        };
        let b = digits.as_bytes();
        if b.len() != 11
            || !b.iter().all(|c| c.is_ascii_digit())
            || b[0] != b'1'
            || !(b'3'..=b'9').contains(&b[1])
        {
            return Err(Msg::new(
                "手机号应为 11 位，以 13–19 开头",
                "A mobile number has 11 digits starting with 13–19",
            ));
        }
        Ok(MobileNo(digits.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The unified social credit code (统一社会信用代码, GB 32100-2015).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Uscc(String);

const USCC_CHARS: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// The check character for the first 17 characters.
pub fn uscc_check_char(first17: &str) -> Option<char> {
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (b, w) in first17.bytes().zip(USCC_WEIGHTS) {
        let v = USCC_CHARS.iter().position(|c| *c == b)? as u32;
        sum += v * w;
    }
    let c = (31 - sum % 31) % 31;
    Some(USCC_CHARS[c as usize] as char)
}

impl Uscc {
    pub fn parse(s: &str) -> Result<Uscc, Msg> {
        let s = s.trim().to_ascii_uppercase();
        if s.len() != 18 || !s.bytes().all(|b| USCC_CHARS.contains(&b)) {
            return Err(Msg::new(
                "统一社会信用代码应为 18 位数字或大写字母（不含 I、O、Z、S、V）",
                "A unified social credit code has 18 digits or capital letters (no I, O, Z, S, V)",
            ));
        }
        if uscc_check_char(&s[..17]) != s[17..].chars().next() {
            return Err(Msg::new(
                "统一社会信用代码校验位不正确",
                "The code's check character is wrong",
            ));
        }
        Ok(Uscc(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `130***********1234`: the first 3 and the last 4 characters.
pub fn mask_id(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= 7 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
}

/// `138****5678`.
pub fn mask_mobile(s: &str) -> String {
    mask_id(s)
}

/// `王*` / `欧阳**`: the family name only.
pub fn mask_name(s: &str) -> String {
    let mut it = s.chars();
    match it.next() {
        Some(first) => format!("{first}{}", "*".repeat(it.count().max(1))),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a valid ID number for a region, birth date and sequence.
    fn make(prefix17: &str) -> String {
        format!("{prefix17}{}", id_check_char(prefix17).unwrap())
    }

    #[test]
    fn id_numbers_follow_gb11643() {
        // The standard's own example.
        assert_eq!(id_check_char("11010519491231002"), Some('X'));
        let ok = make("13060219900307123");
        let id = IdCardNo::parse(&ok).unwrap();
        assert_eq!(id.birth_date(), "1990-03-07");
        assert!(id.is_male());
        assert_eq!(id.region(), "130602");
        assert!(IdCardNo::parse(&ok.to_lowercase()).is_ok());
        // Wrong check digit.
        let mut bad = ok.clone();
        bad.replace_range(17..18, if ok.ends_with('0') { "1" } else { "0" });
        assert!(IdCardNo::parse(&bad).unwrap_err().en.contains("check"));
        // Impossible dates.
        assert!(IdCardNo::parse(&make("13060219900230123"))
            .unwrap_err()
            .en
            .contains("birth date"));
        assert!(IdCardNo::parse(&make("13060218890101123")).is_err());
        assert!(IdCardNo::parse(&make("13060230000101123")).is_err());
        assert!(
            IdCardNo::parse(&make("13060220000229123")).is_ok(),
            "2000 is a leap year"
        );
        assert!(IdCardNo::parse("12345").is_err());
        // Eighteen bytes that are not eighteen characters (found by fuzzing: a panic).
        assert!(IdCardNo::parse("èQ\u{80}}+\tiã\u{80}9\u{b6822}").is_err());
        assert!(IdCardNo::parse("1306021990030712é").is_err());
    }

    #[test]
    fn mobiles() {
        assert_eq!(
            MobileNo::parse("138 1234 5678").unwrap().as_str(),
            "13812345678"
        );
        assert_eq!(
            MobileNo::parse("+8613812345678").unwrap().as_str(),
            "13812345678"
        );
        assert!(MobileNo::parse("12812345678").is_err());
        assert!(MobileNo::parse("1381234567").is_err());
    }

    #[test]
    fn uscc_follows_gb32100() {
        let first = "91130602MA0CXXXX1";
        let code = format!("{first}{}", uscc_check_char(first).unwrap());
        assert!(Uscc::parse(&code).is_ok());
        let wrong = format!("{first}{}", if code.ends_with('0') { '1' } else { '0' });
        assert!(Uscc::parse(&wrong).is_err());
        assert!(Uscc::parse("91130602MA0CXXXXIO").is_err());
    }

    #[test]
    fn masks() {
        assert_eq!(mask_id("130602199003071234"), "130***********1234");
        assert_eq!(mask_mobile("13812345678"), "138****5678");
        assert_eq!(mask_name("王芳"), "王*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
    }
}
