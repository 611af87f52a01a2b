//! The area tree: 市 > 区 > 街道 > 社区 > 网格 > 楼栋, with statistical codes.
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::Msg;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AreaKind {
    /// 省: optional, above the cities of a provincial instance. Depth -1 so that a city stays 0.
    Province = -1,
    City = 0,
    District,
    Street,
    Community,
    Grid,
    Building,
}

impl AreaKind {
    pub const ALL: [AreaKind; 7] = [
        AreaKind::Province,
        AreaKind::City,
        AreaKind::District,
        AreaKind::Street,
        AreaKind::Community,
        AreaKind::Grid,
        AreaKind::Building,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AreaKind::Province => "province",
            AreaKind::City => "city",
            AreaKind::District => "district",
            AreaKind::Street => "street",
            AreaKind::Community => "community",
            AreaKind::Grid => "grid",
            AreaKind::Building => "building",
        }
    }

    pub fn parse(s: &str) -> Option<AreaKind> {
        AreaKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            AreaKind::Province => "省",
            AreaKind::City => "市",
            AreaKind::District => "区",
            AreaKind::Street => "街道",
            AreaKind::Community => "社区",
            AreaKind::Grid => "网格",
            AreaKind::Building => "楼栋",
        }
    }

    /// Depth in the tree: city 0 … building 5.
    pub fn level(self) -> i32 {
        self as i32
    }

    /// The only kind a node of this kind may sit under (`None`: a root).
    pub fn parent_kind(self) -> Option<AreaKind> {
        match self {
            AreaKind::Province => None,
            AreaKind::City => Some(AreaKind::Province),
            AreaKind::District => Some(AreaKind::City),
            AreaKind::Street => Some(AreaKind::District),
            AreaKind::Community => Some(AreaKind::Street),
            AreaKind::Grid => Some(AreaKind::Community),
            AreaKind::Building => Some(AreaKind::Grid),
        }
    }

    /// Whether a node of this kind may be a root of the tree: a province, or a city of an
    /// instance that starts at the city.
    pub fn may_be_root(self) -> bool {
        matches!(self, AreaKind::Province | AreaKind::City)
    }

    pub fn child_kind(self) -> Option<AreaKind> {
        AreaKind::ALL
            .into_iter()
            .find(|k| k.parent_kind() == Some(self))
    }
}

/// Checks an area code against its kind and its parent's code.
///
/// City, district, street and community carry the 12-digit statistical code
/// (统计用区划代码: 2 province, 2 city, 2 county, 3 town/street, 3 village/community), whose prefix
/// must agree with the parent. Grid and building codes extend their parent's code by 3 digits.
pub fn check_code(kind: AreaKind, code: &str, parent_code: Option<&str>) -> Result<(), Msg> {
    if code.is_empty() || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Msg::new(
            "编码只能由数字组成",
            "The code must be digits only",
        ));
    }
    let (len, prefix_len) = match kind {
        AreaKind::Province => (12, 0),
        AreaKind::City => (12, 2),
        AreaKind::District => (12, 4),
        AreaKind::Street => (12, 6),
        AreaKind::Community => (12, 9),
        AreaKind::Grid => (15, 12),
        AreaKind::Building => (18, 15),
    };
    if code.len() != len {
        return Err(match kind {
            AreaKind::Grid | AreaKind::Building => Msg::owned(
                format!(
                    "{}编码应为上级编码加 3 位数字（共 {len} 位）",
                    kind.label_zh()
                ),
                format!(
                    "A {} code is its parent's code plus 3 digits ({len} digits)",
                    kind.as_str()
                ),
            ),
            _ => Msg::new(
                "编码应为 12 位统计用区划代码",
                "The code must be the 12-digit statistical code",
            ),
        });
    }
    // The part below this level must be zeros for the 12-digit levels.
    let own_end = match kind {
        AreaKind::Province => 2,
        AreaKind::City => 4,
        AreaKind::District => 6,
        AreaKind::Street => 9,
        _ => len,
    };
    if code[own_end..].bytes().any(|b| b != b'0') {
        return Err(Msg::new(
            "编码下级部分应为 0（例如街道编码以 000 结尾）",
            "The lower levels of the code must be zeros (e.g. a street code ends in 000)",
        ));
    }
    if code[prefix_len..own_end].bytes().all(|b| b == b'0') {
        return Err(Msg::new(
            "本级编码不能全为 0",
            "This level's part of the code must not be all zeros",
        ));
    }
    if let Some(p) = parent_code {
        if p.len() < prefix_len || code[..prefix_len] != p[..prefix_len] {
            return Err(Msg::owned(
                format!(
                    "编码应以上级编码的前 {prefix_len} 位 {} 开头",
                    &p[..prefix_len.min(p.len())]
                ),
                format!(
                    "The code must start with the parent's first {prefix_len} digits {}",
                    &p[..prefix_len.min(p.len())]
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_chain() {
        assert_eq!(AreaKind::Grid.parent_kind(), Some(AreaKind::Community));
        assert_eq!(AreaKind::Community.child_kind(), Some(AreaKind::Grid));
        assert_eq!(AreaKind::Building.child_kind(), None);
        assert_eq!(AreaKind::parse("street"), Some(AreaKind::Street));
        assert_eq!(AreaKind::parse("planet"), None);
    }

    #[test]
    fn codes_follow_the_statistical_scheme() {
        assert!(check_code(AreaKind::City, "130600000000", None).is_ok());
        assert!(check_code(AreaKind::District, "130602000000", Some("130600000000")).is_ok());
        assert!(check_code(AreaKind::District, "130702000000", Some("130600000000")).is_err());
        assert!(check_code(AreaKind::Street, "130602001000", Some("130602000000")).is_ok());
        assert!(check_code(AreaKind::Street, "130602001001", Some("130602000000")).is_err());
        assert!(check_code(AreaKind::Community, "130602001003", Some("130602001000")).is_ok());
        assert!(check_code(AreaKind::Community, "130602001000", Some("130602001000")).is_err());
        assert!(check_code(AreaKind::Grid, "130602001003002", Some("130602001003")).is_ok());
        assert!(check_code(AreaKind::Grid, "13060200100300", Some("130602001003")).is_err());
        assert!(check_code(
            AreaKind::Building,
            "130602001003002015",
            Some("130602001003002")
        )
        .is_ok());
        assert!(check_code(
            AreaKind::Building,
            "13060200100300201x",
            Some("130602001003002")
        )
        .is_err());
    }
}
