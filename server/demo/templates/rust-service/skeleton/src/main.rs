//! ${{ values.name }}: ${{ values.description or "an HTTP service" }}

use axum::{routing::get, Router};

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()))
        .init();
    let app = Router::new()
        .route("/", get(|| async { "${{ values.name }}\n" }))
        .route("/healthz", get(|| async { "ok\n" }));
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "0.0.0.0:${{ values.port }}".into());
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("listen");
    tracing::info!(%addr, "${{ values.name }} is up");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .expect("serve");
}
