//! Remote sources over a real loopback WebSocket: `["RoomShare","Sources"]`
//! and a `["RoomShare","Thumbnail"]` match the engine's own, and the CLI
//! prints them.

use base64::Engine as _;
use roomshare::capture::{
    Backend, Capture, CaptureOptions, SyntheticBackend, SyntheticClock, SyntheticSources,
};
use roomshare::client::{Client, ClientError, ClientOptions, Endpoint};
use roomshare::engine::{EngineHandle, RoomConfig};
use roomshare::media::ThumbnailState;
use roomshare::protocol::answers::{SourcesAnswer, ThumbnailAnswer};
use roomshare::protocol::{Id, Request, SourceInfo};
use roomshare::server::{Server, ServerConfig};
use std::sync::Arc;
use std::time::Duration;

#[path = "support/wait.rs"]
mod wait;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_sources_and_thumbnail_match_the_engine() {
    let engine = EngineHandle::spawn(RoomConfig::default());
    let sources = SyntheticSources::default();
    // A frozen clock: the thumbnail cannot change between the two reads.
    let clock = SyntheticClock::manual(61_000);
    let (s, c) = (sources.clone(), clock.clone());
    let capture = Capture::start_with(
        Arc::new(move || Box::new(SyntheticBackend::new(s.clone(), c.clone())) as Box<dyn Backend>),
        engine.clone(),
        CaptureOptions {
            catalog_interval: Duration::from_millis(50),
            thumbnail_interval: Duration::from_millis(50),
            ..CaptureOptions::default()
        },
        Arc::new(|| {}),
    );
    wait::wait_until_async(Duration::from_secs(10), "a thumbnail", async || {
        matches!(
            capture.thumbnails.get("win-board"),
            ThumbnailState::Ready(_)
        )
    })
    .await;
    let server = Server::start(
        ServerConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            ..ServerConfig::default()
        },
        engine.clone(),
        Some(capture.thumbnail_source()),
    )
    .await
    .unwrap();
    let url = format!("ws://{}/", server.local_addr());
    let client = Client::connect(
        Endpoint::Remote {
            url: url.clone(),
            password: None,
        },
        ClientOptions {
            subscriptions: vec![],
            ..ClientOptions::default()
        },
    )
    .await
    .unwrap();

    // Sources: the same list, in the same order, as the engine answers itself.
    let remote = client.fetch::<SourcesAnswer>().await.unwrap().sources;
    let own = engine
        .request(Request::new(
            Some(Id::number(1)),
            "Query",
            serde_json::json!({"path": ["RoomShare", "Sources"]}),
        ))
        .await
        .unwrap();
    let own: Vec<SourceInfo> =
        serde_json::from_value(own.data.unwrap()["sources"].clone()).unwrap();
    assert_eq!(remote, own);
    assert_eq!(remote.len(), 5);
    assert_eq!(remote[0].select_index, Some(0));

    // Thumbnail: byte-identical JPEG to the provider's, at tile size.
    let thumbnail = |id: &str| {
        let mut params = serde_json::Map::new();
        params.insert("source_id".into(), id.into());
        client.fetch_with::<ThumbnailAnswer>(params, false)
    };
    let answer = thumbnail("win-board").await.unwrap();
    let (w, h) = (answer.width, answer.height);
    let jpeg = base64::engine::general_purpose::STANDARD
        .decode(&answer.jpeg_base64)
        .unwrap();
    let local = capture.thumbnail_source().jpeg("win-board").unwrap();
    assert_eq!((w, h), (local.width, local.height));
    assert_eq!((w, h), (320, 180));
    assert_eq!(jpeg, local.jpeg);
    let decoded = image::load_from_memory(&jpeg).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (320, 180));
    // An unknown source is an error with a reason, not a crash.
    let err = thumbnail("no-such-source").await.unwrap_err();
    assert!(
        matches!(&err, ClientError::Refused { code: 8, message } if message.contains("no-such-source")),
        "{err:?}"
    );

    // The CLI against the same engine.
    let bin = env!("CARGO_BIN_EXE_roomshare");
    let run = |args: Vec<String>| {
        tokio::task::spawn_blocking(move || std::process::Command::new(bin).args(args).output())
    };
    let out = run(vec!["sources".into(), "--url".into(), url.clone()])
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for s in &own {
        assert!(text.contains(&s.id), "{text}");
    }
    assert!(text.contains("ok (thumbnail 320x180)"), "{text}");
    let png = std::env::temp_dir().join(format!("capture-remote-{}.png", std::process::id()));
    let out = run(vec![
        "snap".into(),
        "3".into(),
        "-o".into(),
        png.to_string_lossy().into_owned(),
        "--url".into(),
        url.clone(),
    ])
    .await
    .unwrap()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let img = image::open(&png).unwrap();
    assert_eq!((img.width(), img.height()), (320, 180));
    let _ = std::fs::remove_file(&png);

    server.shutdown().await;
}
