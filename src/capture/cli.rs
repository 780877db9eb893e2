//! `roomshare sources` and `roomshare snap`: visual QA of the capture layer,
//! locally or against a remote roomshare engine (`--url`).

use super::{Backend, SourcesMode};
use crate::client::{Client, ClientOptions, Endpoint};
use crate::engine::{Room, RoomConfig};
use crate::protocol::{RpcResult, SourceInfo, SourceKind, codes, normalise_url};
use base64::Engine as _;
use clap::Args;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Where `sources`/`snap` look: this machine, or a remote engine.
#[derive(Args, Debug, Clone)]
pub struct TargetArgs {
    /// Where sources come from locally (ignored with --url).
    #[arg(long, value_enum, default_value = "auto")]
    pub sources: SourcesMode,
    /// Ask a remote roomshare engine (ws://HOST:PORT) instead of capturing here.
    #[arg(long)]
    pub url: Option<String>,
    /// Control password of the remote engine (also ROOMSHARE_PASSWORD).
    #[arg(long, env = "ROOMSHARE_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Seconds to wait for a remote answer.
    #[arg(long, default_value_t = 5.0)]
    pub timeout: f64,
}

/// `roomshare sources`.
#[derive(Args, Debug, Clone)]
pub struct SourcesArgs {
    #[command(flatten)]
    pub target: TargetArgs,
}

/// `roomshare snap SOURCE -o file.png`.
#[derive(Args, Debug, Clone)]
pub struct SnapArgs {
    /// The source: its id (`desktop`, `window:1234`, `monitor:screen`) or its select_index.
    pub source: String,
    /// Where to write the PNG.
    #[arg(short, long)]
    pub output: PathBuf,
    #[command(flatten)]
    pub target: TargetArgs,
}

/// One line of the `sources` table.
#[derive(Debug, Clone)]
pub struct Row {
    pub source: SourceInfo,
    pub state: String,
}

/// Render the table (index, kind, id, title, app, size, state).
pub fn format_table(rows: &[Row]) -> String {
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            let s = &r.source;
            [
                s.select_index
                    .map_or_else(|| "-".to_string(), |i| i.to_string()),
                match s.kind {
                    SourceKind::Desktop => "desktop",
                    SourceKind::Window => "window",
                    SourceKind::CaptureDevice => "device",
                }
                .to_string(),
                s.id.clone(),
                s.title.clone(),
                s.app.clone(),
                format!("{}x{}", s.width, s.height),
                r.state.clone(),
            ]
        })
        .collect();
    let header = ["INDEX", "KIND", "ID", "TITLE", "APP", "SIZE", "STATE"];
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count().min(48));
        }
    }
    let mut out = String::new();
    let mut line = |cols: Vec<String>| {
        let mut l = String::new();
        for (i, (c, w)) in cols.iter().zip(&widths).enumerate() {
            let c: String = if c.chars().count() > 48 {
                c.chars().take(47).chain(['…']).collect()
            } else {
                c.clone()
            };
            l.push_str(&c);
            if i + 1 < cols.len() {
                l.push_str(&" ".repeat(w.saturating_sub(c.chars().count()) + 2));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(header.iter().map(|s| s.to_string()).collect());
    for row in cells {
        line(row.to_vec());
    }
    out
}

/// Find `source` (an id, or a select_index) in an indexed list.
pub fn resolve<'a>(list: &'a [SourceInfo], source: &str) -> Option<&'a SourceInfo> {
    list.iter()
        .find(|s| s.id == source)
        .or_else(|| {
            let i: u32 = source.parse().ok()?;
            list.iter().find(|s| s.select_index == Some(i))
        })
        .or_else(|| list.iter().find(|s| s.device_id.as_deref() == Some(source)))
}

/// The local list with the engine's indices (desktop 0, windows 1..n).
fn local_list(backend: &mut dyn Backend) -> Result<Vec<SourceInfo>, String> {
    let list = backend.list().map_err(|e| e.to_string())?;
    // The engine's own index assignment, so numbers match what a StartShare
    // with select_index would pick on this machine.
    let room = Room::new(RoomConfig {
        initial_sources: list,
        ..RoomConfig::default()
    });
    Ok(room.sources().to_vec())
}

async fn connect(t: &TargetArgs, url: &str) -> Result<Client, ExitCode> {
    let timeout = Duration::from_secs_f64(t.timeout.clamp(0.1, 3600.0));
    let options = ClientOptions {
        request_timeout: timeout,
        connect_timeout: timeout,
        reconnect: false,
        subscriptions: vec![],
        ..ClientOptions::default()
    };
    let endpoint = Endpoint::Remote {
        url: normalise_url(url),
        password: t.password.clone(),
    };
    Client::connect(endpoint, options).await.map_err(|e| {
        eprintln!("cannot connect to {}: {e}", normalise_url(url));
        ExitCode::from(2)
    })
}

/// Why a remote `RoomShare` query failed, in words for the CLI.
fn remote_error(what: &str, r: &RpcResult) -> String {
    if r.error_code == codes::QUERY_PATH_ERROR {
        format!(
            "{what}: error 6 (Query Path Error): the RoomShare extension is absent — this looks like a real Rooms device, which does not list its sources or serve thumbnails; only another roomshare engine does"
        )
    } else {
        format!(
            "{what}: error {} ({}): {}",
            r.error_code,
            codes::meaning(r.error_code).unwrap_or("undocumented code"),
            r.message
        )
    }
}

/// `["RoomShare","Sources"]` of a remote engine.
pub async fn remote_sources(client: &Client) -> Result<Vec<SourceInfo>, String> {
    let r = client
        .query(&["RoomShare", "Sources"])
        .await
        .map_err(|e| format!("Query [\"RoomShare\",\"Sources\"]: {e}"))?;
    if !r.is_ok() {
        return Err(remote_error("Query [\"RoomShare\",\"Sources\"]", &r));
    }
    let sources = r
        .data
        .as_ref()
        .and_then(|d| d.get("sources"))
        .cloned()
        .unwrap_or(Value::Null);
    serde_json::from_value(sources).map_err(|e| format!("malformed sources answer: {e}"))
}

/// A remote thumbnail: (width, height, JPEG bytes).
pub async fn remote_thumbnail(client: &Client, id: &str) -> Result<(u32, u32, Vec<u8>), String> {
    let r = client
        .request(
            "Query",
            json!({"path": ["RoomShare", "Thumbnail"], "source_id": id}),
        )
        .await
        .map_err(|e| format!("Query [\"RoomShare\",\"Thumbnail\"]: {e}"))?;
    if !r.is_ok() {
        return Err(remote_error("Thumbnail", &r));
    }
    let data = r.data.unwrap_or(Value::Null);
    let dim = |k: &str| data.get(k).and_then(Value::as_u64).unwrap_or(0) as u32;
    let jpeg = data
        .get("jpeg_base64")
        .and_then(Value::as_str)
        .ok_or("thumbnail answer without jpeg_base64")?;
    let jpeg = base64::engine::general_purpose::STANDARD
        .decode(jpeg)
        .map_err(|e| format!("jpeg_base64 is not Base64: {e}"))?;
    Ok((dim("width"), dim("height"), jpeg))
}

/// Connect to a remote engine and read its sources; failures are printed
/// and become the exit code.
async fn connect_and_list(
    t: &TargetArgs,
    url: &str,
) -> Result<(Client, Vec<SourceInfo>), ExitCode> {
    let client = connect(t, url).await?;
    match remote_sources(&client).await {
        Ok(list) => Ok((client, list)),
        Err(e) => {
            eprintln!("{e}");
            Err(ExitCode::from(1))
        }
    }
}

/// Run `roomshare sources`.
pub async fn run_sources(args: SourcesArgs) -> ExitCode {
    let t = &args.target;
    let rows = if let Some(url) = &t.url {
        let (client, list) = match connect_and_list(t, url).await {
            Ok(found) => found,
            Err(code) => return code,
        };
        let mut rows = Vec::new();
        for s in list {
            let state = match remote_thumbnail(&client, &s.id).await {
                Ok((w, h, _)) => format!("ok (thumbnail {w}x{h})"),
                Err(e) => e,
            };
            rows.push(Row { source: s, state });
        }
        rows
    } else {
        let mode = t.sources;
        let listed = tokio::task::spawn_blocking(move || {
            let mut backend = (mode.factory())();
            let list = local_list(backend.as_mut())?;
            Ok::<_, String>(
                list.into_iter()
                    .map(|s| {
                        let state = match backend.capture(&s.id) {
                            Ok(img) => format!("ok ({}x{})", img.width(), img.height()),
                            Err(e) => format!("unavailable: {e}"),
                        };
                        Row { source: s, state }
                    })
                    .collect::<Vec<_>>(),
            )
        })
        .await;
        match listed {
            Ok(Ok(rows)) => rows,
            Ok(Err(e)) => {
                eprintln!("cannot list sources: {e}");
                return ExitCode::from(1);
            }
            Err(e) => {
                eprintln!("capture failed: {e}");
                return ExitCode::from(1);
            }
        }
    };
    print!("{}", format_table(&rows));
    ExitCode::SUCCESS
}

/// Run `roomshare snap`.
pub async fn run_snap(args: SnapArgs) -> ExitCode {
    let t = &args.target;
    let image = if let Some(url) = &t.url {
        let (client, list) = match connect_and_list(t, url).await {
            Ok(found) => found,
            Err(code) => return code,
        };
        let Some(source) = resolve(&list, &args.source) else {
            eprintln!(
                "no source {:?} on {url}; see `roomshare sources --url {url}`",
                args.source
            );
            return ExitCode::from(1);
        };
        let jpeg = match remote_thumbnail(&client, &source.id).await {
            Ok((_, _, jpeg)) => jpeg,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(1);
            }
        };
        match image::load_from_memory(&jpeg) {
            Ok(img) => {
                eprintln!(
                    "note: a remote engine serves thumbnails only ({}x{}), not full resolution",
                    img.width(),
                    img.height()
                );
                img.to_rgba8()
            }
            Err(e) => {
                eprintln!("the thumbnail is not a readable JPEG: {e}");
                return ExitCode::from(1);
            }
        }
    } else {
        let mode = t.sources;
        let wanted = args.source.clone();
        let captured = tokio::task::spawn_blocking(move || {
            let mut backend = (mode.factory())();
            let list = local_list(backend.as_mut())?;
            let source = resolve(&list, &wanted)
                .ok_or_else(|| format!("no source {wanted:?}; see `roomshare sources`"))?;
            backend.capture(&source.id).map_err(|e| e.to_string())
        })
        .await;
        match captured {
            Ok(Ok(img)) => img,
            Ok(Err(e)) => {
                eprintln!("{e}");
                return ExitCode::from(1);
            }
            Err(e) => {
                eprintln!("capture failed: {e}");
                return ExitCode::from(1);
            }
        }
    };
    match image.save_with_format(&args.output, image::ImageFormat::Png) {
        Ok(()) => {
            println!(
                "{} ({}x{})",
                args.output.display(),
                image.width(),
                image.height()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cannot write {}: {e}", args.output.display());
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_by_id_index_and_device() {
        let room = Room::new(RoomConfig::default());
        let list = room.sources();
        assert_eq!(
            resolve(list, "desktop").map(|s| s.id.as_str()),
            Some("desktop")
        );
        assert_eq!(resolve(list, "1").and_then(|s| s.select_index), Some(1));
        assert_eq!(
            resolve(list, "hdmi-1").map(|s| s.kind),
            Some(SourceKind::CaptureDevice)
        );
        assert!(resolve(list, "99").is_none());
        let table = format_table(&[Row {
            source: list[0].clone(),
            state: "ok".into(),
        }]);
        assert!(table.starts_with("INDEX"));
        assert!(table.contains("desktop"));
    }
}
