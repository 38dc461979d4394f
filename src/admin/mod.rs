//! The admin endpoint: the counters as Prometheus text at `/metrics` and as JSON at `/status`,
//! for loopback peers, or for anyone with the configured bearer token.

pub mod digest;
pub mod status;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tokio::task::JoinHandle;

use crate::config::Secret;
use crate::metrics::Metrics;

/// Why the admin endpoint cannot start.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// A reachable address without a token would show the bot's state to anyone.
    #[error("the admin endpoint would listen on {addr}, which others can reach, without a token: set `token` in [admin] of mahua.toml (or MAHUA_ADMIN_TOKEN), or listen on 127.0.0.1")]
    OpenWithoutToken {
        /// The address asked for.
        addr: SocketAddr,
    },
    /// The address cannot be bound.
    #[error("cannot listen on {addr} for the admin endpoint (`listen` in [admin]): {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No token is configured and the peer is not on this machine.
    NotLoopback,
    /// A token is configured and the request did not carry it.
    BadToken,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Self::NotLoopback => (
                StatusCode::FORBIDDEN,
                "the admin endpoint answers this machine only; configure `token` in [admin] to allow others\n",
            )
                .into_response(),
            Self::BadToken => (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "missing or wrong token: send `Authorization: Bearer <token>`\n",
            )
                .into_response(),
        }
    }
}

/// Whether a request from `peer` with this `Authorization` header may read the status.
///
/// With a token configured every request must carry it; without one only loopback peers
/// are answered.
pub fn authorize(
    peer: IpAddr,
    authorization: Option<&str>,
    token: Option<&Secret>,
) -> Result<(), Refusal> {
    match token {
        Some(t) => {
            let given = authorization.and_then(|h| h.strip_prefix("Bearer ")).map(str::trim);
            if given.is_some_and(|g| same(g.as_bytes(), t.expose().as_bytes())) {
                Ok(())
            } else {
                Err(Refusal::BadToken)
            }
        }
        None if peer.to_canonical().is_loopback() => Ok(()),
        None => Err(Refusal::NotLoopback),
    }
}

/// Compare without stopping at the first difference.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Clone)]
struct AdminState {
    metrics: Arc<Metrics>,
    token: Option<Secret>,
}

async fn guard(
    State(s): State<AdminState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Response {
    let auth = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    match authorize(peer.ip(), auth, s.token.as_ref()) {
        Ok(()) => next.run(req).await,
        Err(r) => {
            tracing::warn!(%peer, ?r, "admin request refused");
            r.into_response()
        }
    }
}

async fn metrics_text(State(s): State<AdminState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], s.metrics.prometheus())
}

async fn status_json(State(s): State<AdminState>) -> impl IntoResponse {
    Json(s.metrics.snapshot())
}

/// The admin routes; they need the peer address (`ConnectInfo<SocketAddr>`).
pub fn router(metrics: Arc<Metrics>, token: Option<Secret>) -> Router {
    let state = AdminState { metrics, token };
    Router::new()
        .route("/metrics", get(metrics_text))
        .route("/status", get(status_json))
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state)
}

/// A running admin endpoint; dropping it stops it.
#[derive(Debug)]
pub struct AdminServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl AdminServer {
    /// The address it listens on.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for AdminServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serve the admin endpoint on `addr`; refuses a non-loopback address without a token.
pub async fn serve(
    addr: SocketAddr,
    token: Option<Secret>,
    metrics: Arc<Metrics>,
) -> Result<AdminServer, AdminError> {
    let token = token.filter(|t| !t.expose().is_empty());
    if !addr.ip().to_canonical().is_loopback() && token.is_none() {
        return Err(AdminError::OpenWithoutToken { addr });
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| AdminError::Bind { addr, source })?;
    let addr = listener.local_addr().map_err(|source| AdminError::Bind { addr, source })?;
    let app = router(metrics, token).into_make_service_with_connect_info::<SocketAddr>();
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!("the admin endpoint stopped: {e}");
        }
    });
    tracing::info!(%addr, "admin endpoint: /metrics and /status");
    Ok(AdminServer { addr, task })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_or_token() {
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        let far: IpAddr = "192.0.2.7".parse().unwrap();
        assert_eq!(authorize(lo, None, None), Ok(()));
        assert_eq!(authorize(mapped, None, None), Ok(()));
        assert_eq!(authorize(far, None, None), Err(Refusal::NotLoopback));
        let t = Secret::new("s3cret");
        assert_eq!(authorize(far, Some("Bearer s3cret"), Some(&t)), Ok(()));
        assert_eq!(authorize(far, Some("Bearer nope"), Some(&t)), Err(Refusal::BadToken));
        assert_eq!(authorize(lo, None, Some(&t)), Err(Refusal::BadToken));
        assert_eq!(authorize(far, Some("s3cret"), Some(&t)), Err(Refusal::BadToken));
    }
}
