//! Who is asking, and may they. Every handler that shows or changes consumer data takes an
//! [`Authorized`] argument whose policy names the roles allowed, so the permission is part of the
//! handler's signature and is checked on the server for every request.

use std::marker::PhantomData;
use std::ops::Deref;

use domain::Role;
use entities::staff;
use poem::http::{StatusCode, header};
use poem::session::Session;
use poem::web::{Data, Redirect};
use poem::{Error, FromRequest, IntoResponse, Request, RequestBody, Result};
use service::Context;

use crate::csrf;
use crate::error::is_api;
use crate::layout::{CSRF_FIELD, Flash, Viewer};
use crate::session::{STAFF_EPOCH, STAFF_ID};

/// Opens a session for `staff` under a new id (at login, and after a password change has ended
/// the old sessions): a session id planted before is useless, and the form token is new.
pub fn start_session(session: &Session, staff: &staff::Model) {
    session.renew();
    session.remove(CSRF_FIELD);
    session.set(STAFF_ID, staff.id);
    session.set(STAFF_EPOCH, staff.session_epoch);
}

/// A set of roles allowed to do something.
pub trait Policy: Send + Sync {
    const ROLES: &'static [Role];
}

/// Admins only: staff accounts, tariffs, corrections.
pub struct AdminOnly;
/// Admins and accountants: money, reports, and read-only inventory and readings.
pub struct Office;
/// Admins and controllers: reading meters in the field.
pub struct Field;
/// Any active staff member (their own password, logout).
pub struct AnyStaff;

impl Policy for AdminOnly {
    const ROLES: &'static [Role] = &[Role::Admin];
}
impl Policy for Office {
    const ROLES: &'static [Role] = &[Role::Admin, Role::Accountant];
}
impl Policy for Field {
    const ROLES: &'static [Role] = &[Role::Admin, Role::Controller];
}
impl Policy for AnyStaff {
    const ROLES: &'static [Role] = &[Role::Admin, Role::Accountant, Role::Controller];
}

/// An active staff member allowed by policy `P`: the [`Viewer`] a page is drawn for, proven to
/// hold one of `P`'s roles.
pub struct Authorized<P: Policy> {
    viewer: Viewer,
    policy: PhantomData<P>,
}

impl<P: Policy> Authorized<P> {
    pub fn actor(&self) -> service::audit::Actor {
        service::audit::Actor::Staff(self.staff.id)
    }
}

impl<P: Policy> Deref for Authorized<P> {
    type Target = Viewer;

    fn deref(&self) -> &Viewer {
        &self.viewer
    }
}

/// Not logged in: pages send the browser to the login form (and back afterwards), the API says 401.
fn unauthenticated(req: &Request) -> Error {
    if is_api(req) {
        return Error::from_string("Требуется вход", StatusCode::UNAUTHORIZED);
    }
    let next = req.original_uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let target = format!("/login?next={}", urlencode(next));
    Error::from_response(Redirect::see_other(target).into_response())
}

fn forbidden(req: &Request) -> Error {
    if is_api(req) {
        return Error::from_string("Недостаточно прав", StatusCode::FORBIDDEN);
    }
    Error::from_response(crate::error::page_response(
        StatusCode::FORBIDDEN,
        "Недостаточно прав",
        "Этот раздел вам недоступен. Если это ошибка, обратитесь к администратору.",
    ))
}

pub fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)]).map(|q| q[1..].to_owned()).unwrap_or_default()
}

/// The token of an `Authorization: Bearer …` header, as sent.
pub(crate) fn bearer_token(req: &Request) -> Option<&str> {
    req.header(header::AUTHORIZATION).and_then(|v| v.strip_prefix("Bearer "))
}

/// The staff member behind a request: an API bearer token, or the session cookie.
async fn current_staff(req: &Request, ctx: &Context) -> Result<Option<(staff::Model, String, Option<Flash>)>> {
    let conn = ctx.db.conn();
    if let Some(token) = bearer_token(req) {
        let staff = service::access::staff::by_api_token(conn, token.trim()).await.map_err(crate::error::internal)?;
        return Ok(staff.map(|s| (s, String::new(), None)));
    }
    let Some(session) = req.extensions().get::<Session>() else {
        return Ok(None);
    };
    let (Some(id), Some(epoch)) = (session.get::<i64>(STAFF_ID), session.get::<i32>(STAFF_EPOCH)) else {
        return Ok(None);
    };
    // Checked at every request: a deactivated account, or a password changed since, ends the
    // session even where its row outlived the service's clean-up.
    let Some(staff) = service::access::staff::session_holder(conn, id, epoch).await.map_err(crate::error::internal)?
    else {
        return Ok(None);
    };
    // API calls leave the flash for the next page.
    let flash = if is_api(req) { None } else { Flash::take(session) };
    Ok(Some((staff, csrf::token(session), flash)))
}

impl<'a, P: Policy> FromRequest<'a> for Authorized<P> {
    async fn from_request(req: &'a Request, body: &mut RequestBody) -> Result<Self> {
        let Data(ctx) = Data::<&Context>::from_request(req, body).await?;
        let (staff, csrf, flash) = current_staff(req, ctx).await?.ok_or_else(|| unauthenticated(req))?;
        if !P::ROLES.contains(&staff.role) {
            tracing::warn!(login = %staff.login, path = %req.original_uri().path(), "refused: role {}", staff.role.code());
            return Err(forbidden(req));
        }
        Ok(Authorized { viewer: Viewer { staff, csrf, flash }, policy: PhantomData })
    }
}

/// Who may use a route, as written in the route tables (`crate::pages`, `crate::api::OPERATIONS`).
/// The handler's [`Authorized`] argument enforces it; the access test checks the two agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No login needed (the login form, health check, API docs).
    Public,
    Admin,
    Office,
    Field,
    AnyStaff,
}

impl Access {
    /// Whether someone with `role` (none when logged out) gets in.
    pub fn allows(self, role: Option<Role>) -> bool {
        let roles = match self {
            Access::Public => return true,
            Access::Admin => AdminOnly::ROLES,
            Access::Office => Office::ROLES,
            Access::Field => Field::ROLES,
            Access::AnyStaff => AnyStaff::ROLES,
        };
        role.is_some_and(|role| roles.contains(&role))
    }
}

pub type Admin = Authorized<AdminOnly>;
pub type OfficeStaff = Authorized<Office>;
pub type FieldStaff = Authorized<Field>;
pub type Staff = Authorized<AnyStaff>;

/// Where a staff member lands after logging in: controllers go to the mobile form.
pub fn home_for(role: Role) -> &'static str {
    match role {
        Role::Controller => crate::mobile::HOME,
        Role::Admin | Role::Accountant => "/",
    }
}
