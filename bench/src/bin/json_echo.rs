//! The ceiling the eligibility benchmark is measured against: an axum
//! server that parses a JSON body and sends it back serialized, with no
//! middleware, on the same runtime settings as `opcity serve`.
//!
//! usage: json_echo ADDR

use axum::Json;
use axum::routing::post;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8091".into());
    let app = axum::Router::new().route(
        "/echo",
        post(|Json(value): Json<serde_json::Value>| async move { Json(value) }),
    );
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    axum::serve(listener, app).await
}
