//! The party chain 街道党工委 > 社区党总支 > 网格党支部 > 楼宇党小组, and the organisations that link
//! across areas (单位/行业/区域化党组织, 横向互联互通).
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::area::AreaKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PartyOrgKind {
    StreetCommittee,
    CommunityBranch,
    GridBranch,
    BuildingGroup,
    Unit,
    Industry,
    Regional,
}

impl PartyOrgKind {
    pub const ALL: [PartyOrgKind; 7] = [
        PartyOrgKind::StreetCommittee,
        PartyOrgKind::CommunityBranch,
        PartyOrgKind::GridBranch,
        PartyOrgKind::BuildingGroup,
        PartyOrgKind::Unit,
        PartyOrgKind::Industry,
        PartyOrgKind::Regional,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PartyOrgKind::StreetCommittee => "street_committee",
            PartyOrgKind::CommunityBranch => "community_branch",
            PartyOrgKind::GridBranch => "grid_branch",
            PartyOrgKind::BuildingGroup => "building_group",
            PartyOrgKind::Unit => "unit",
            PartyOrgKind::Industry => "industry",
            PartyOrgKind::Regional => "regional",
        }
    }

    pub fn parse(s: &str) -> Option<PartyOrgKind> {
        PartyOrgKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            PartyOrgKind::StreetCommittee => "街道党工委",
            PartyOrgKind::CommunityBranch => "社区党总支",
            PartyOrgKind::GridBranch => "网格党支部",
            PartyOrgKind::BuildingGroup => "楼宇党小组",
            PartyOrgKind::Unit => "单位党组织",
            PartyOrgKind::Industry => "行业党组织",
            PartyOrgKind::Regional => "区域化党组织",
        }
    }

    /// Organisations of the four-level chain are tied to one kind of area.
    pub fn area_kind(self) -> Option<AreaKind> {
        match self {
            PartyOrgKind::StreetCommittee => Some(AreaKind::Street),
            PartyOrgKind::CommunityBranch => Some(AreaKind::Community),
            PartyOrgKind::GridBranch => Some(AreaKind::Grid),
            PartyOrgKind::BuildingGroup => Some(AreaKind::Building),
            _ => None,
        }
    }

    /// Whether organisations of this kind link across to other areas.
    pub fn links_across(self) -> bool {
        self.area_kind().is_none()
    }

    /// Kinds allowed as parent; an empty list means it must be a root, and `None` in the list
    /// means it may also be a root.
    pub fn allowed_parents(self) -> &'static [Option<PartyOrgKind>] {
        use PartyOrgKind::*;
        match self {
            StreetCommittee => &[None],
            CommunityBranch => &[Some(StreetCommittee)],
            GridBranch => &[Some(CommunityBranch)],
            BuildingGroup => &[Some(GridBranch)],
            Unit | Industry | Regional => &[None, Some(StreetCommittee), Some(CommunityBranch)],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_is_strict() {
        assert_eq!(
            PartyOrgKind::GridBranch.allowed_parents(),
            &[Some(PartyOrgKind::CommunityBranch)]
        );
        assert!(PartyOrgKind::Unit.links_across());
        assert!(!PartyOrgKind::GridBranch.links_across());
        assert_eq!(
            PartyOrgKind::parse("regional"),
            Some(PartyOrgKind::Regional)
        );
    }
}
