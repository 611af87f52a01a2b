//! The role page and the caller's permissions, both generated from the one permission table in
//! `domain/role.rs` (nothing about what a role may do is written twice).
use serde::Serialize;
use utoipa::ToSchema;

use super::Ctx;
use crate::domain::role::{Permission, Role};

#[derive(Debug, Serialize, ToSchema)]
pub struct PermissionInfo {
    pub permission: Permission,
    pub label_zh: &'static str,
    pub label_en: &'static str,
    pub description_zh: &'static str,
    pub description_en: &'static str,
    /// Held without an area (system admins), rather than on the areas granted.
    pub system_wide: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleInfo {
    pub role: Role,
    pub label_zh: &'static str,
    pub label_en: &'static str,
    pub summary_zh: &'static str,
    pub summary_en: &'static str,
    /// Seniority: an administrator grants only roles at or below their own.
    pub rank: u8,
    /// Where the role is usually granted (area kinds).
    pub area_kinds: Vec<&'static str>,
    /// Whether the caller may grant this role (somewhere in their scope).
    pub grantable: bool,
    pub permissions: Vec<PermissionInfo>,
}

/// The highest rank the caller may hand out (0: none).
pub fn grant_ceiling(ctx: &Ctx) -> u8 {
    if ctx.principal.is_system_admin() {
        return Role::SystemAdmin.rank();
    }
    ctx.principal
        .grants
        .iter()
        .filter(|g| g.area_id.is_some() && Permission::ManageUsers.roles().contains(&g.role))
        .map(|g| g.role.rank())
        .max()
        .unwrap_or(0)
}

/// Every role, highest first.
pub fn table(ctx: &Ctx) -> Vec<RoleInfo> {
    let ceiling = grant_ceiling(ctx);
    let system = ctx.principal.is_system_admin();
    let mut roles: Vec<Role> = Role::ALL.to_vec();
    roles.sort_by_key(|r| (std::cmp::Reverse(r.rank()), *r));
    roles
        .into_iter()
        .map(|r| {
            let (summary_zh, summary_en) = r.summary();
            RoleInfo {
                role: r,
                label_zh: r.label_zh(),
                label_en: r.label_en(),
                summary_zh,
                summary_en,
                rank: r.rank(),
                area_kinds: r.area_kinds().to_vec(),
                grantable: system || (r != Role::SystemAdmin && r.rank() <= ceiling),
                permissions: Permission::of_role(r)
                    .into_iter()
                    .map(|p| {
                        let (label_zh, label_en, description_zh, description_en) = p.words();
                        PermissionInfo {
                            permission: p,
                            label_zh,
                            label_en,
                            description_zh,
                            description_en,
                            system_wide: p.system_wide(),
                        }
                    })
                    .collect(),
            }
        })
        .collect()
}

/// The permissions held through any of `roles` (system-wide ones are the system admin's alone,
/// as the table says), for the console's menus and buttons.
pub fn held_by(roles: impl IntoIterator<Item = Role>) -> Vec<Permission> {
    let roles: Vec<Role> = roles.into_iter().collect();
    Permission::ALL
        .into_iter()
        .filter(|p| roles.iter().any(|r| p.roles().contains(r)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_permission_has_a_role_and_words() {
        for p in Permission::ALL {
            assert!(!p.roles().is_empty(), "{p:?}");
            assert!(p.roles().contains(&Role::SystemAdmin), "{p:?}");
            let (a, b, c, d) = p.words();
            assert!(![a, b, c, d].iter().any(|s| s.is_empty()), "{p:?}");
        }
        // System-wide permissions belong to the system admin alone.
        for p in Permission::ALL.into_iter().filter(|p| p.system_wide()) {
            assert_eq!(p.roles(), &[Role::SystemAdmin], "{p:?}");
        }
        // Ranks: whoever manages users may not hand out a role above their own, so every
        // manager's rank is above the roles they manage day to day.
        for r in Permission::ManageUsers.roles() {
            assert!(r.rank() >= Role::CommunityWorker.rank());
        }
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
            assert_eq!(Role::parse_loose(r.label_zh()), Some(r));
        }
    }
}
