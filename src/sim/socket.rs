//! A simulated server's socket writer, shared by the ws and the OneBot faces: it writes what
//! the socket is told to (`Outbound`) and counts the pushes it could not deliver.

use std::sync::Arc;

use axum::extract::ws as axum_ws;
use futures_util::{Sink, SinkExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite;

use super::session::Outbound;
use super::Inner;

/// What a socket read.
pub(super) enum In {
    /// A text frame.
    Text(String),
    /// Anything else (ping, pong, binary).
    Other,
    /// A close frame.
    End,
}

/// The two WebSocket libraries' messages (axum's for served sockets, tungstenite's for
/// dialled ones), as far as the simulator uses them.
pub(super) trait Wire: Send + 'static {
    /// A text frame.
    fn text(s: String) -> Self;
    /// A close frame.
    fn close(code: u16, reason: String) -> Self;
    /// What this frame is.
    fn read(self) -> In;
}

impl Wire for axum_ws::Message {
    fn text(s: String) -> Self {
        Self::Text(s.into())
    }

    fn close(code: u16, reason: String) -> Self {
        Self::Close(Some(axum_ws::CloseFrame { code, reason: reason.into() }))
    }

    fn read(self) -> In {
        match self {
            Self::Text(t) => In::Text(t.as_str().to_owned()),
            Self::Close(_) => In::End,
            _ => In::Other,
        }
    }
}

impl Wire for tungstenite::Message {
    fn text(s: String) -> Self {
        Self::text(s)
    }

    fn close(code: u16, reason: String) -> Self {
        Self::Close(Some(tungstenite::protocol::CloseFrame {
            code: code.into(),
            reason: reason.into(),
        }))
    }

    fn read(self) -> In {
        match self {
            Self::Text(t) => In::Text(t.as_str().to_owned()),
            Self::Close(_) => In::End,
            _ => In::Other,
        }
    }
}

/// Write what the socket is told to until it closes; pushes it could not write are lost.
pub(super) async fn write<M: Wire, S: Sink<M> + Unpin>(
    inner: Arc<Inner>,
    mut rx: mpsc::UnboundedReceiver<Outbound>,
    mut sink: S,
) {
    while let Some(out) = rx.recv().await {
        let (msg, push, done) = match out {
            Outbound::Text(t) => (M::text(t), false, false),
            Outbound::Push(t) => (M::text(t), true, false),
            Outbound::Close => (M::close(1000, String::new()), false, true),
            Outbound::CloseWith(code, reason) => (M::close(code, reason), false, true),
            Outbound::Abort => break,
        };
        if sink.send(msg).await.is_err() {
            inner.lost(u64::from(push));
            break;
        }
        if done {
            break;
        }
    }
    rx.close();
    let mut lost = 0;
    while let Ok(out) = rx.try_recv() {
        lost += u64::from(matches!(out, Outbound::Push(_)));
    }
    inner.lost(lost);
}
