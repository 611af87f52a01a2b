//! Roles, each granted on an area subtree. What a role may do is decided here, in one place.
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    SystemAdmin,
    StreetAdmin,
    CommunityWorker,
    GridWorker,
    BuildingLeader,
    PartySecretary,
    DepartmentHandler,
    WorkUnitContact,
    Volunteer,
    Resident,
}

impl Role {
    pub const ALL: [Role; 10] = [
        Role::SystemAdmin,
        Role::StreetAdmin,
        Role::CommunityWorker,
        Role::GridWorker,
        Role::BuildingLeader,
        Role::PartySecretary,
        Role::DepartmentHandler,
        Role::WorkUnitContact,
        Role::Volunteer,
        Role::Resident,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::SystemAdmin => "system_admin",
            Role::StreetAdmin => "street_admin",
            Role::CommunityWorker => "community_worker",
            Role::GridWorker => "grid_worker",
            Role::BuildingLeader => "building_leader",
            Role::PartySecretary => "party_secretary",
            Role::DepartmentHandler => "department_handler",
            Role::WorkUnitContact => "work_unit_contact",
            Role::Volunteer => "volunteer",
            Role::Resident => "resident",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Role::SystemAdmin => "系统管理员",
            Role::StreetAdmin => "街道管理员",
            Role::CommunityWorker => "社区工作者",
            Role::GridWorker => "网格员",
            Role::BuildingLeader => "楼长",
            Role::PartySecretary => "党组织书记",
            Role::DepartmentHandler => "部门承办人",
            Role::WorkUnitContact => "单位联系人",
            Role::Volunteer => "志愿者",
            Role::Resident => "居民",
        }
    }
}

/// Things a role may do on the areas it is granted. Reading an area subtree needs any grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Create, edit, move and delete areas.
    EditAreas,
    /// Create, edit, move and delete party organisations.
    EditPartyOrgs,
    /// Manage users, grants and API tokens (system-wide).
    ManageUsers,
    /// Read the audit log (rows of their scope).
    ReadAudit,
    /// Sign a checkpoint of the whole audit chain's head (system-wide).
    SignAuditCheckpoints,
    /// Read the registry (dwellings, households, persons, visits), masked.
    ReadRegistry,
    /// Create and change registry records, record visits.
    EditRegistry,
    /// Reveal full ID numbers and mobiles (with a reason), see sensitive tags.
    RevealPersonal,
    /// Purge people who moved away past the retention period.
    PurgeRegistry,
    /// Read cases (接诉即办) of the area, their map and rates; requesters masked.
    ReadCases,
    /// Register, dispatch, verify, close, supervise cases of the area; see requesters.
    DispatchCases,
    /// Arbitrate returned cases and blow the whistle (吹哨): the street.
    ArbitrateCases,
    /// Manage handling units and their power lists in the area.
    ManageCaseUnits,
    /// Edit the category dictionary and the working-day calendar (system-wide).
    ManageCaseDictionary,
    /// Read volunteers, party members, report-ins, activities, points and ratings of the area.
    ReadService,
    /// Manage them: register members and volunteers, run activities and attendance, confirm
    /// hours, post and reverse points, run the catalogue, rate, commend, issue certificates.
    ManageService,
}

impl Permission {
    pub fn roles(self) -> &'static [Role] {
        match self {
            Permission::EditAreas => &[Role::SystemAdmin, Role::StreetAdmin],
            Permission::EditPartyOrgs => {
                &[Role::SystemAdmin, Role::StreetAdmin, Role::PartySecretary]
            }
            Permission::ManageUsers => &[Role::SystemAdmin],
            Permission::ReadAudit => &[Role::SystemAdmin, Role::StreetAdmin],
            Permission::ReadRegistry | Permission::EditRegistry => &[
                Role::SystemAdmin,
                Role::StreetAdmin,
                Role::CommunityWorker,
                Role::GridWorker,
                Role::BuildingLeader,
            ],
            Permission::RevealPersonal => &[
                Role::SystemAdmin,
                Role::StreetAdmin,
                Role::CommunityWorker,
                Role::GridWorker,
            ],
            Permission::PurgeRegistry | Permission::SignAuditCheckpoints => &[Role::SystemAdmin],
            Permission::ReadCases => &[
                Role::SystemAdmin,
                Role::StreetAdmin,
                Role::CommunityWorker,
                Role::GridWorker,
                Role::PartySecretary,
            ],
            Permission::DispatchCases => {
                &[Role::SystemAdmin, Role::StreetAdmin, Role::CommunityWorker]
            }
            Permission::ArbitrateCases | Permission::ManageCaseUnits => {
                &[Role::SystemAdmin, Role::StreetAdmin]
            }
            Permission::ManageCaseDictionary => &[Role::SystemAdmin],
            Permission::ReadService | Permission::ManageService => &[
                Role::SystemAdmin,
                Role::StreetAdmin,
                Role::CommunityWorker,
                Role::PartySecretary,
            ],
        }
    }
}
