//! The web dashboard under `/ui/`: pages rendered by the server itself, no build chain and no
//! script. Every page carries a strict Content Security Policy (nothing but its own style, by
//! hash; frames and form posts only to the server itself), every text from images, registries
//! or tokens is escaped, and access is the API's: the session stands for a token, whose role
//! and repository scopes each page checks exactly as the matching API endpoint does.
//!
//! State changes are POSTs only (sign in, sign out), each checked against cross-site requests:
//! the cookie is SameSite=Strict, the `Origin` header must be the server's own, and signing
//! out also needs the session's form token.

mod chart;
mod pages;
mod session;

use std::fmt::Write as _;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::api::ApiError;
use crate::auth::{Caller, hash_token};
use crate::clock::now_millis;
use crate::state::AppState;
use crate::store::{NewAudit, Role, StoreError};
use rempart_report::escape_html as escape;

const STYLE: &str = include_str!("style.css");

pub(crate) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/ui", get(|| async { Redirect::permanent("/ui/") }))
        .route("/ui/", get(pages::fleet))
        .route("/ui/images/{digest}", get(pages::image))
        .route("/ui/images/{digest}/report", get(pages::report))
        .route("/ui/audit", get(pages::audit))
        .route("/ui/login", get(login_page).post(login))
        .route("/ui/logout", axum::routing::post(logout))
}

/// The policy of every dashboard page: its stylesheet by hash, frames (the report) and form
/// posts to the server only, and no page may frame it.
fn page_policy() -> String {
    format!(
        "default-src 'none'; style-src {}; frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        rempart_report::csp_hash(STYLE)
    )
}

/// Headers every dashboard answer carries: nothing cached (pages show what a token may see),
/// no type sniffing, and no referrer to other sites (page addresses hold digests). Not
/// `no-referrer`: with it, Chromium sends `Origin: null` on the pages' own form posts, which
/// the origin check must then refuse.
fn protect(response: &mut Response, policy: &str) {
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
}

/// Who is signed in, for the navigation bar and forms.
pub(super) struct Viewer {
    pub(super) caller: Caller,
    pub(super) form_token: String,
}

/// A whole page: the head with the style, the navigation bar, then `body`.
fn page(status: StatusCode, title: &str, viewer: Option<&Viewer>, body: &str) -> Response {
    let mut html = String::with_capacity(body.len() + STYLE.len() + 1024);
    html.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\" />\n");
    html.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\" />\n");
    let _ = write!(
        html,
        "<title>{} · rempart</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(title)
    );
    if let Some(viewer) = viewer {
        html.push_str("<nav class=\"top\"><a href=\"/ui/\">Fleet</a>");
        if viewer.caller.has(Role::Admin) {
            html.push_str("<a href=\"/ui/audit\">Audit log</a>");
        }
        let _ = writeln!(
            html,
            "<span class=\"who\">{} ({})</span><form method=\"post\" action=\"/ui/logout\"><input type=\"hidden\" name=\"form_token\" value=\"{}\" /><button type=\"submit\">Sign out</button></form></nav>",
            escape(&viewer.caller.name),
            viewer.caller.role.as_str(),
            escape(&viewer.form_token)
        );
    }
    html.push_str(body);
    html.push_str("\n</body>\n</html>\n");
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html,
    )
        .into_response();
    protect(&mut response, &page_policy());
    if status == StatusCode::OK || status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    response
}

/// Why a page cannot be shown, as a page.
pub(super) enum PageError {
    /// No session, or it ended: sign in first.
    SignIn,
    Status(StatusCode, String),
}

impl PageError {
    pub(super) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        PageError::Status(status, message.into())
    }
}

impl From<StoreError> for PageError {
    fn from(error: StoreError) -> Self {
        ApiError::from(error).into()
    }
}

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> Self {
        PageError::Status(error.status, error.message)
    }
}

impl From<crate::decide::DecideError> for PageError {
    fn from(error: crate::decide::DecideError) -> Self {
        ApiError::from(error).into()
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            // 303: the browser follows with a GET to the login page.
            PageError::SignIn => {
                let mut response = Redirect::to("/ui/login").into_response();
                protect(&mut response, &page_policy());
                response
            }
            PageError::Status(status, message) => {
                let title = status.canonical_reason().unwrap_or("Error");
                let mut response = page(
                    status,
                    title,
                    None,
                    &format!(
                        "<h1>{}</h1>\n<p class=\"error\">{}</p>\n<p><a href=\"/ui/\">Back to the fleet</a></p>",
                        escape(title),
                        escape(&message)
                    ),
                );
                if status == StatusCode::TOO_MANY_REQUESTS {
                    response
                        .headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                }
                response
            }
        }
    }
}

/// The signed-in caller, if the session is valid, its token still in force, the token's role
/// allows `needed` and its request budget is not spent: the API's checks, from a cookie.
pub(super) async fn signed_in(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    needed: Role,
) -> Result<Viewer, PageError> {
    let id = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(session::cookie_value)
        .ok_or(PageError::SignIn)?;
    let id_hash = session::id_hash(id);
    // The session and its token in one trip to the store: both are read on every page.
    let found = state
        .with_store(move |store| {
            let Some(session) = store.session(&id_hash, now_millis())? else {
                return Ok(None);
            };
            let Some(token) = store.token_by_hash(&session.token_hash)? else {
                // Revoked since sign-in: the session ends with it.
                store.delete_session(&id_hash)?;
                return Ok(None);
            };
            Ok(Some((session, token)))
        })
        .await?;
    let Some((session, token)) = found else {
        return Err(PageError::SignIn);
    };
    let caller = Caller::from_token(&token);
    if !state.limiter.allow(&caller.token_id) {
        return Err(PageError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("token `{}` is over its request budget", caller.name),
        ));
    }
    if !caller.has(needed) {
        return Err(PageError::new(
            StatusCode::FORBIDDEN,
            format!(
                "token `{}` has the {} role; this page needs the {} role",
                caller.name,
                caller.role.as_str(),
                needed.as_str()
            ),
        ));
    }
    Ok(Viewer {
        caller,
        form_token: session.form_token,
    })
}

/// Refuses a POST whose `Origin` is not this server: a page on another site cannot sign a
/// browser in or out. Browsers send `Origin` with every POST; its absence is refused too.
fn check_origin(state: &AppState, headers: &HeaderMap) -> Result<(), PageError> {
    let scheme = if state.config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|value| value.to_str().ok());
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok());
    match (origin, host) {
        (Some(origin), Some(host)) if origin == format!("{scheme}://{host}") => Ok(()),
        _ => Err(PageError::new(
            StatusCode::FORBIDDEN,
            "this form must be sent from the server's own pages (the Origin header does not match)",
        )),
    }
}

fn login_form(message: Option<&str>) -> String {
    let mut body = String::from("<h1>Sign in to rempart</h1>\n");
    if let Some(message) = message {
        let _ = writeln!(body, "<p class=\"error\">{}</p>", escape(message));
    }
    body.push_str(
        "<form class=\"login\" method=\"post\" action=\"/ui/login\">\n<label for=\"token\">API token (<code>rmp_…</code>): its role and scopes decide what you see</label>\n<input type=\"password\" id=\"token\" name=\"token\" autocomplete=\"off\" required />\n<button type=\"submit\">Sign in</button>\n</form>\n<p class=\"muted\">The token is checked and then forgotten: the browser keeps only a session cookie.</p>",
    );
    body
}

async fn login_page() -> Response {
    page(StatusCode::OK, "Sign in", None, &login_form(None))
}

#[derive(Deserialize)]
struct LoginForm {
    token: String,
}

/// `POST /ui/login`: the token is looked up by its hash like an API call's; a session is made
/// for it and the browser is sent to the fleet page.
async fn login(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    check_origin(&state, &headers)?;
    let hash = hash_token(form.token.trim());
    let lookup = hash.clone();
    let token = state
        .with_store(move |store| store.token_by_hash(&lookup))
        .await?;
    let Some(token) = token else {
        return Ok(page(
            StatusCode::UNAUTHORIZED,
            "Sign in",
            None,
            &login_form(Some("unknown or revoked token")),
        ));
    };
    if token.role == Role::Registry {
        return Ok(page(
            StatusCode::FORBIDDEN,
            "Sign in",
            None,
            &login_form(Some(
                "a registry token only posts notifications; it cannot sign in",
            )),
        ));
    }
    let now = now_millis();
    let (id, record) = session::new_session(&hash, now);
    let name = token.name.clone();
    state
        .with_store(move |store| {
            // Expired sessions go a few at a time as sign-ins come, on whichever replica.
            store.prune_sessions(now, session::PRUNE_BATCH)?;
            store.create_session(&record, session::MAX_PER_TOKEN)?;
            store.append_audit(&NewAudit {
                at: now,
                actor: name.clone(),
                action: "session.created".into(),
                subject: name,
                detail: Some("signed in to the dashboard".into()),
                ..NewAudit::default()
            })
        })
        .await?;
    let mut response = Redirect::to("/ui/").into_response();
    if let Ok(cookie) = HeaderValue::from_str(&session::set_cookie(&id, state.config.tls.is_some()))
    {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    protect(&mut response, &page_policy());
    Ok(response)
}

#[derive(Deserialize)]
struct LogoutForm {
    form_token: String,
}

/// `POST /ui/logout`: ends the session (a form on every page, with the session's form token).
async fn logout(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(form): Form<LogoutForm>,
) -> Result<Response, PageError> {
    check_origin(&state, &headers)?;
    let id = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(session::cookie_value);
    if let Some(id) = id {
        let id_hash = session::id_hash(id);
        let form_token = form.form_token;
        // The form token is checked and the session removed in one store call: a form from
        // another session ends nothing.
        let refused = state
            .with_store(move |store| match store.session(&id_hash, now_millis())? {
                // In constant time: how long a comparison takes says nothing of the token.
                Some(session)
                    if !bool::from(subtle::ConstantTimeEq::ct_eq(
                        session.form_token.as_bytes(),
                        form_token.as_bytes(),
                    )) =>
                {
                    Ok(true)
                }
                Some(_) => store.delete_session(&id_hash).map(|_| false),
                None => Ok(false),
            })
            .await?;
        if refused {
            return Err(PageError::new(
                StatusCode::FORBIDDEN,
                "the form is not from this session",
            ));
        }
    }
    let mut response = Redirect::to("/ui/login").into_response();
    if let Ok(cookie) = HeaderValue::from_str(&session::clear_cookie(state.config.tls.is_some())) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    protect(&mut response, &page_policy());
    Ok(response)
}
