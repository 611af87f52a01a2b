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
    /// 区级管理员: a street admin's rights across the streets of a district, and its users.
    DistrictAdmin,
    /// 社区管理员: a community worker's rights plus the community's users and audit log.
    CommunityAdmin,
    /// 12345 热线中心: reads and dispatches the cases of the streets it serves.
    HotlineCentre,
}

impl Role {
    pub const ALL: [Role; 13] = [
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
        Role::DistrictAdmin,
        Role::CommunityAdmin,
        Role::HotlineCentre,
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
            Role::DistrictAdmin => "district_admin",
            Role::CommunityAdmin => "community_admin",
            Role::HotlineCentre => "hotline_centre",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// A role by its id or by its Chinese or English name (for sheets).
    pub fn parse_loose(s: &str) -> Option<Role> {
        let s = s.trim();
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s || r.label_zh() == s || r.label_en().eq_ignore_ascii_case(s))
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
            Role::DistrictAdmin => "区级管理员",
            Role::CommunityAdmin => "社区管理员",
            Role::HotlineCentre => "12345热线中心",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Role::SystemAdmin => "System administrator",
            Role::StreetAdmin => "Street administrator",
            Role::CommunityWorker => "Community worker",
            Role::GridWorker => "Grid worker",
            Role::BuildingLeader => "Building head",
            Role::PartySecretary => "Party secretary",
            Role::DepartmentHandler => "Department handler",
            Role::WorkUnitContact => "Work unit contact",
            Role::Volunteer => "Volunteer",
            Role::Resident => "Resident",
            Role::DistrictAdmin => "District administrator",
            Role::CommunityAdmin => "Community administrator",
            Role::HotlineCentre => "12345 hotline centre",
        }
    }

    /// One sentence on what the role is for, in Chinese and English.
    pub fn summary(self) -> (&'static str, &'static str) {
        match self {
            Role::SystemAdmin => ("管理整个系统：根区域、接口令牌、数据共享规则、分类字典和工作日历，以及所有用户。", "Runs the whole system: root areas, API tokens, sharing rules, the category dictionary and calendar, and every user."),
            Role::DistrictAdmin => ("区级（区委社会工作部、区政务服务中心等）：跨本区各街道查看和调度，管理本区用户。", "The district: sees and acts across its streets and manages the district's users."),
            Role::HotlineCentre => ("12345 热线中心：导入热线工单、派往各街道、回传办理结果。", "The 12345 hotline centre: imports hotline tickets, dispatches them to the streets, takes the results back."),
            Role::StreetAdmin => ("街道办：管理本街道的区域、人员账号、人口房屋、接诉即办和志愿服务。", "The street office: manages its areas, user accounts, registry, cases and volunteer service."),
            Role::CommunityAdmin => ("社区书记/主任：社区工作者的全部权限，并管理本社区的账号、查看审计日志。", "The community's head: everything a community worker may do, plus the community's accounts and audit log."),
            Role::CommunityWorker => ("社区工作者：维护一户一档、受理和派遣诉求、组织志愿服务。", "Keeps the household files, takes and dispatches cases, runs volunteer service."),
            Role::PartySecretary => ("党组织书记：管理党组织、党员报到和志愿服务，查看诉求办理。", "Runs the party organisation, members' report-in and service; reads cases."),
            Role::GridWorker => ("网格员：走访入户、核实信息、随手拍上报，在手机上完成。", "Visits households, verifies records and reports what they see, on a phone."),
            Role::BuildingLeader => ("楼长：维护本楼住户信息、协助走访。", "Keeps the building's households up to date and helps with visits."),
            Role::DepartmentHandler => ("职能部门承办人：办理派给本单位的诉求并回复。", "Handles the cases dispatched to the department and answers them."),
            Role::WorkUnitContact => ("在职党员单位联系人：查看本单位党员到社区报到和服务情况。", "Follows the unit's members' report-in and service in the communities."),
            Role::Volunteer => ("志愿者：报名活动、签到签退、查看时长和积分。", "Signs up for activities, checks in and out, sees hours and points."),
            Role::Resident => ("居民：提交诉求和随手拍、查看办理进度并评价。", "Submits requests and photos, follows them and rates the answer."),
        }
    }

    /// Seniority for delegation: a user manager grants only roles at or below their own.
    pub fn rank(self) -> u8 {
        match self {
            Role::SystemAdmin => 100,
            Role::DistrictAdmin => 80,
            Role::HotlineCentre => 70,
            Role::StreetAdmin => 60,
            Role::CommunityAdmin => 40,
            Role::CommunityWorker
            | Role::PartySecretary
            | Role::GridWorker
            | Role::DepartmentHandler => 20,
            Role::BuildingLeader | Role::WorkUnitContact | Role::Volunteer | Role::Resident => 10,
        }
    }

    /// Where the role is usually granted (area kinds), for the role page and the sheet's checks.
    pub fn area_kinds(self) -> &'static [&'static str] {
        match self {
            Role::SystemAdmin => &[],
            Role::DistrictAdmin => &["district"],
            Role::HotlineCentre => &["city", "district"],
            Role::StreetAdmin => &["street"],
            Role::CommunityAdmin | Role::CommunityWorker => &["community"],
            Role::PartySecretary => &["street", "community"],
            Role::GridWorker => &["grid"],
            Role::BuildingLeader => &["building"],
            Role::DepartmentHandler => &["district", "street"],
            Role::WorkUnitContact => &["street", "community"],
            Role::Volunteer | Role::Resident => &["community", "grid", "building"],
        }
    }
}

/// Things a role may do on the areas it is granted. Reading an area subtree needs any grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Create, edit, move and delete areas.
    EditAreas,
    /// Create, edit, move and delete party organisations.
    EditPartyOrgs,
    /// Manage the users of the area: accounts, roles at or below one's own, passwords, sessions.
    ManageUsers,
    /// Root areas, API tokens and sharing rules (system-wide).
    ManageSystem,
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
    /// Publish notices (通知公告) to the area's households and staff, remind, withdraw.
    SendNotices,
    /// Answer residents' questions (回应关切) of the area, publish answers, link repeats.
    AnswerQuestions,
}

impl Permission {
    pub const ALL: [Permission; 19] = [
        Permission::ManageSystem,
        Permission::ManageUsers,
        Permission::ReadAudit,
        Permission::SignAuditCheckpoints,
        Permission::EditAreas,
        Permission::EditPartyOrgs,
        Permission::ReadRegistry,
        Permission::EditRegistry,
        Permission::RevealPersonal,
        Permission::PurgeRegistry,
        Permission::ReadCases,
        Permission::DispatchCases,
        Permission::ArbitrateCases,
        Permission::ManageCaseUnits,
        Permission::ManageCaseDictionary,
        Permission::ReadService,
        Permission::ManageService,
        Permission::SendNotices,
        Permission::AnswerQuestions,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::EditAreas => "edit_areas",
            Permission::EditPartyOrgs => "edit_party_orgs",
            Permission::ManageUsers => "manage_users",
            Permission::ManageSystem => "manage_system",
            Permission::ReadAudit => "read_audit",
            Permission::SignAuditCheckpoints => "sign_audit_checkpoints",
            Permission::ReadRegistry => "read_registry",
            Permission::EditRegistry => "edit_registry",
            Permission::RevealPersonal => "reveal_personal",
            Permission::PurgeRegistry => "purge_registry",
            Permission::ReadCases => "read_cases",
            Permission::DispatchCases => "dispatch_cases",
            Permission::ArbitrateCases => "arbitrate_cases",
            Permission::ManageCaseUnits => "manage_case_units",
            Permission::ManageCaseDictionary => "manage_case_dictionary",
            Permission::ReadService => "read_service",
            Permission::ManageService => "manage_service",
            Permission::SendNotices => "send_notices",
            Permission::AnswerQuestions => "answer_questions",
        }
    }

    /// Whether the permission is system-wide (held only without an area) rather than per area.
    pub fn system_wide(self) -> bool {
        matches!(
            self,
            Permission::ManageSystem
                | Permission::SignAuditCheckpoints
                | Permission::PurgeRegistry
                | Permission::ManageCaseDictionary
        )
    }

    /// Its name and what it allows, in plain Chinese and English: (label zh, label en, what zh,
    /// what en). The role page is generated from these and [`Permission::roles`].
    pub fn words(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            Permission::ManageSystem => ("系统设置", "System settings", "建立省、市根区域，签发接口令牌，设定数据共享规则。", "Create root areas, issue API tokens, set data-sharing rules."),
            Permission::ManageUsers => ("账号管理", "User accounts", "为本区域建账号、授予不高于自己的角色、重置密码、查看和结束会话。", "Create the area's accounts, grant roles up to one's own, reset passwords, see and end sessions."),
            Permission::ReadAudit => ("审计日志", "Audit log", "查看本区域内谁在何时查看或修改了什么。", "See who read or changed what, and when, in the area."),
            Permission::SignAuditCheckpoints => ("审计签名", "Audit checkpoints", "对审计链签名存证，供事后核验。", "Sign checkpoints of the audit chain for later verification."),
            Permission::EditAreas => ("区域维护", "Areas", "新建、修改、移动本区域下的街道、社区、网格和楼栋。", "Create, edit and move the streets, communities, grids and buildings below."),
            Permission::EditPartyOrgs => ("党组织维护", "Party organisations", "维护党组织及其覆盖的区域。", "Keep the party organisations and the areas they cover."),
            Permission::ReadRegistry => ("查看一户一档", "Read the registry", "查看房屋、住户和人口信息（证件号、手机号默认脱敏）。", "See dwellings, households and residents (ID numbers and mobiles masked)."),
            Permission::EditRegistry => ("维护一户一档", "Edit the registry", "登记、修改、导入住户和人口，记录走访。", "Register, change and import households and residents; record visits."),
            Permission::RevealPersonal => ("查看完整个人信息", "Reveal personal data", "说明理由后查看完整证件号和手机号，每次都记入审计。", "See full ID numbers and mobiles after giving a reason; each time is audited."),
            Permission::PurgeRegistry => ("清除过期信息", "Purge old records", "清除迁出超过保存期限的人员信息。", "Remove people who moved away past the retention period."),
            Permission::ReadCases => ("查看诉求", "Read cases", "查看本区域的诉求、地图和三率统计（诉求人脱敏）。", "See the area's cases, map and rates (requesters masked)."),
            Permission::DispatchCases => ("受理派遣诉求", "Dispatch cases", "登记、派遣、核查、办结、督办诉求，导入导出 12345 工单。", "Register, dispatch, verify, close and supervise cases; import and export 12345 tickets."),
            Permission::ArbitrateCases => ("仲裁与吹哨", "Arbitrate and whistle", "裁定退回的诉求，吹哨召集部门。", "Decide returned cases and blow the whistle to call departments in."),
            Permission::ManageCaseUnits => ("承办单位与职责清单", "Handling units", "维护承办单位、人员和权责清单。", "Keep the handling units, their members and power lists."),
            Permission::ManageCaseDictionary => ("分类字典与工作日历", "Dictionary and calendar", "维护诉求分类、办理时限和工作日历。", "Keep the case categories, time limits and working-day calendar."),
            Permission::ReadService => ("查看党员志愿服务", "Read service", "查看志愿者、党员报到、活动、积分和评价。", "See volunteers, party members' report-in, activities, points and ratings."),
            Permission::SendNotices => ("发布通知公告", "Send notices", "向本区域的住户和工作人员发布通知，查看送达和回执，提醒未读。", "Send notices to the area's households and staff, see who read and acknowledged them, remind the others."),
            Permission::AnswerQuestions => ("回应居民关切", "Answer questions", "答复居民提出的问题，将答复公开到社区公开页，关联重复提问。", "Answer residents' questions, publish answers on the community's public page, link repeated questions."),
            Permission::ManageService => ("管理党员志愿服务", "Manage service", "登记志愿者和党员、组织活动、确认时长、发放积分、评星表彰。", "Register volunteers and members, run activities, confirm hours, post points, rate and commend."),
        }
    }

    pub fn roles(self) -> &'static [Role] {
        use Role::*;
        match self {
            Permission::EditAreas => &[SystemAdmin, DistrictAdmin, StreetAdmin],
            Permission::EditPartyOrgs => &[SystemAdmin, DistrictAdmin, StreetAdmin, PartySecretary],
            Permission::ManageUsers => &[SystemAdmin, DistrictAdmin, StreetAdmin, CommunityAdmin],
            Permission::ManageSystem
            | Permission::PurgeRegistry
            | Permission::SignAuditCheckpoints
            | Permission::ManageCaseDictionary => &[SystemAdmin],
            Permission::ReadAudit => &[SystemAdmin, DistrictAdmin, StreetAdmin, CommunityAdmin],
            Permission::ReadRegistry | Permission::EditRegistry => &[
                SystemAdmin,
                DistrictAdmin,
                StreetAdmin,
                CommunityAdmin,
                CommunityWorker,
                GridWorker,
                BuildingLeader,
            ],
            Permission::RevealPersonal => &[
                SystemAdmin,
                DistrictAdmin,
                StreetAdmin,
                CommunityAdmin,
                CommunityWorker,
                GridWorker,
            ],
            Permission::ReadCases => &[
                SystemAdmin,
                DistrictAdmin,
                HotlineCentre,
                StreetAdmin,
                CommunityAdmin,
                CommunityWorker,
                GridWorker,
                PartySecretary,
            ],
            Permission::DispatchCases => &[
                SystemAdmin,
                DistrictAdmin,
                HotlineCentre,
                StreetAdmin,
                CommunityAdmin,
                CommunityWorker,
            ],
            Permission::ArbitrateCases | Permission::ManageCaseUnits => {
                &[SystemAdmin, DistrictAdmin, StreetAdmin]
            }
            Permission::ReadService | Permission::ManageService => &[
                SystemAdmin,
                DistrictAdmin,
                StreetAdmin,
                CommunityAdmin,
                CommunityWorker,
                PartySecretary,
            ],
            Permission::SendNotices | Permission::AnswerQuestions => &[
                SystemAdmin,
                DistrictAdmin,
                StreetAdmin,
                CommunityAdmin,
                CommunityWorker,
            ],
        }
    }

    /// The permissions a role carries, in table order.
    pub fn of_role(role: Role) -> Vec<Permission> {
        Permission::ALL
            .into_iter()
            .filter(|p| p.roles().contains(&role))
            .collect()
    }
}
