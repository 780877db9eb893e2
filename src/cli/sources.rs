//! `roomshare sources`: the source table (index, kind, id, title, app,
//! size, state) of this machine, or of another roomshare engine (`--url`).

use super::RemoteArgs;
use super::out::print_line;
use crate::capture::{Backend, SourcesMode, list_with_status};
use crate::client::{Client, ClientError};
use crate::protocol::answers::{SourcesAnswer, ThumbnailAnswer};
use crate::protocol::{CaptureState, SourceInfo, SourceKind, number_sources};
use base64::Engine as _;
use clap::Args;
use serde_json::{Map, Value};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Where `sources` and `snap` look: this machine, or (with `--url`) a
/// remote engine.
#[derive(Args, Debug, Clone)]
pub struct LookArgs {
    /// Where sources come from locally (ignored with --url).
    #[arg(long, value_enum, default_value = "auto")]
    pub sources: SourcesMode,
    /// How long to wait for permission to capture (on Wayland, the screen
    /// sharing dialog), in seconds; then exit 2 with the reason.
    #[arg(long, value_name = "SECONDS", default_value = "30", value_parser = parse_wait)]
    pub wait: Duration,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// `--wait`: seconds, a number from 0 to a day.
pub(super) fn parse_wait(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !(0.0..=86_400.0).contains(&seconds) {
        return Err(format!("{text} is out of range: 0 to 86400 seconds"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[derive(Args, Debug, Clone)]
pub struct SourcesArgs {
    #[command(flatten)]
    pub look: LookArgs,
}

/// One line of the `sources` table.
#[derive(Debug, Clone)]
pub struct Row {
    pub source: SourceInfo,
    pub state: String,
}

const MAX_CELL: usize = 48;

fn cells(r: &Row) -> [String; 7] {
    let s = &r.source;
    let kind = match s.kind {
        SourceKind::Desktop => "desktop",
        SourceKind::Monitor => "monitor",
        SourceKind::Window => "window",
        SourceKind::CaptureDevice => "device",
    };
    [
        s.select_index.map_or_else(|| "-".into(), |i| i.to_string()),
        kind.into(),
        s.id.clone(),
        s.title.clone(),
        s.app.clone(),
        format!("{}x{}", s.width, s.height),
        r.state.clone(),
    ]
}

/// A cell cut to [`MAX_CELL`] characters with "…".
fn fit(cell: &str) -> String {
    if cell.chars().count() > MAX_CELL {
        cell.chars().take(MAX_CELL - 1).chain(['…']).collect()
    } else {
        cell.to_string()
    }
}

/// Render the table (index, kind, id, title, app, size, state).
pub fn format_table(rows: &[Row]) -> String {
    let header = ["INDEX", "KIND", "ID", "TITLE", "APP", "SIZE", "STATE"].map(String::from);
    let body: Vec<[String; 7]> = rows.iter().map(cells).collect();
    let lines: Vec<[String; 7]> = std::iter::once(header)
        .chain(body)
        .map(|row| row.map(|c| fit(&c)))
        .collect();
    let mut widths = [0usize; 7];
    for row in &lines {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    for row in &lines {
        let mut line = String::new();
        for (c, w) in row.iter().zip(widths) {
            line.push_str(c);
            line.push_str(&" ".repeat(w.saturating_sub(c.chars().count()) + 2));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Find `source` (an id, a select_index or a device_id) in a numbered list.
pub fn resolve<'a>(list: &'a [SourceInfo], source: &str) -> Option<&'a SourceInfo> {
    list.iter()
        .find(|s| s.id == source)
        .or_else(|| {
            let i: u32 = source.parse().ok()?;
            list.iter().find(|s| s.select_index == Some(i))
        })
        .or_else(|| list.iter().find(|s| s.device_id.as_deref() == Some(source)))
}

/// Why a local look failed: capture does not work here (exit 2: refused,
/// unavailable, no answer in time), or something else (exit 1).
#[derive(Debug)]
pub(super) enum LookError {
    NotCapturing(String),
    Other(String),
}

impl LookError {
    /// Say why on stderr; the exit code.
    pub(super) fn report(self) -> ExitCode {
        match self {
            LookError::NotCapturing(why) => {
                eprintln!("cannot capture on this machine: {why}");
                ExitCode::from(2)
            }
            LookError::Other(why) => {
                eprintln!("{why}");
                ExitCode::from(1)
            }
        }
    }
}

/// The local list once capture works, numbered as the engine numbers it
/// (so the indices match what a StartShare with `select_index` picks on
/// this machine). While the user is asked (the portal's dialog), it waits
/// up to `wait`, saying so once on stderr; never an empty list for
/// capture that does not work.
pub(super) fn local_list(
    backend: &mut dyn Backend,
    wait: Duration,
) -> Result<Vec<SourceInfo>, LookError> {
    let deadline = Instant::now() + wait;
    let mut told = false;
    loop {
        let (listed, status) = list_with_status(backend);
        let reason = status.reason.unwrap_or_default();
        match status.state {
            CaptureState::Ok => {
                return listed
                    .map(number_sources)
                    .map_err(|e| LookError::Other(format!("cannot list sources: {e}")));
            }
            CaptureState::Refused | CaptureState::Unavailable => {
                return Err(LookError::NotCapturing(reason));
            }
            CaptureState::Waiting if Instant::now() >= deadline => {
                let waited = wait.as_secs_f64();
                return Err(LookError::NotCapturing(format!(
                    "no answer within {waited} s (--wait): {reason}"
                )));
            }
            CaptureState::Waiting if !told => {
                eprintln!("{reason} (waiting up to {} s)", wait.as_secs_f64());
                told = true;
            }
            CaptureState::Waiting => {}
        }
        std::thread::sleep(WAIT_STEP.min(deadline.saturating_duration_since(Instant::now())));
    }
}

/// How often a waiting look asks the backend again.
const WAIT_STEP: Duration = Duration::from_millis(100);

/// Why a remote `RoomShare` query failed, in words.
pub(super) fn remote_error(what: &str, e: &ClientError) -> String {
    match e {
        ClientError::Refused { code: 6, .. } => format!(
            "{what}: error 6 (Query Path Error): the RoomShare extension is absent — this looks like a real Rooms device, which does not list its sources or serve thumbnails; only another roomshare engine does"
        ),
        other => format!("{what}: {other}"),
    }
}

/// A remote engine's sources.
pub(super) async fn remote_sources(client: &Client) -> Result<Vec<SourceInfo>, String> {
    client
        .fetch::<SourcesAnswer>()
        .await
        .map(|a| a.sources)
        .map_err(|e| remote_error("Query [\"RoomShare\",\"Sources\"]", &e))
}

/// A remote thumbnail: its size and JPEG bytes.
pub(super) async fn remote_thumbnail(
    client: &Client,
    id: &str,
) -> Result<(u32, u32, Vec<u8>), String> {
    let mut params = Map::new();
    params.insert("source_id".into(), Value::String(id.to_string()));
    let answer = client
        .fetch_with::<ThumbnailAnswer>(params, false)
        .await
        .map_err(|e| remote_error("Thumbnail", &e))?;
    let jpeg = base64::engine::general_purpose::STANDARD
        .decode(&answer.jpeg_base64)
        .map_err(|e| format!("jpeg_base64 is not Base64: {e}"))?;
    Ok((answer.width, answer.height, jpeg))
}

/// Connect to a remote engine and read its sources; failures are printed
/// and become the exit code.
pub(super) async fn connect_and_list(
    remote: &RemoteArgs,
) -> Result<(Client, Vec<SourceInfo>), ExitCode> {
    let client = remote.connect().await?;
    match remote_sources(&client).await {
        Ok(list) => Ok((client, list)),
        Err(e) => {
            eprintln!("{e}");
            Err(ExitCode::from(1))
        }
    }
}

async fn remote_rows(remote: &RemoteArgs) -> Result<Vec<Row>, ExitCode> {
    let (client, list) = connect_and_list(remote).await?;
    let mut rows = Vec::new();
    for source in list {
        let state = match remote_thumbnail(&client, &source.id).await {
            Ok((w, h, _)) => format!("ok (thumbnail {w}x{h})"),
            Err(e) => e,
        };
        rows.push(Row { source, state });
    }
    Ok(rows)
}

/// List and capture once each, here (blocking: run off the async workers).
fn local_rows(mode: SourcesMode, wait: Duration) -> Result<Vec<Row>, LookError> {
    let mut backend = (mode.factory())();
    let rows = local_list(backend.as_mut(), wait)?
        .into_iter()
        .map(|source| {
            let state = match backend.capture(&source.id) {
                Ok(img) => format!("ok ({}x{})", img.width(), img.height()),
                Err(e) => format!("unavailable: {e}"),
            };
            Row { source, state }
        })
        .collect();
    Ok(rows)
}

pub async fn run(args: SourcesArgs) -> ExitCode {
    let look = args.look;
    let rows = if look.remote.url.is_some() {
        match remote_rows(&look.remote).await {
            Ok(rows) => rows,
            Err(code) => return code,
        }
    } else {
        let (mode, wait) = (look.sources, look.wait);
        match tokio::task::spawn_blocking(move || local_rows(mode, wait)).await {
            Ok(Ok(rows)) => rows,
            Ok(Err(e)) => return e.report(),
            Err(e) => {
                eprintln!("capture failed: {e}");
                return ExitCode::from(1);
            }
        }
    };
    print_line(format_table(&rows).trim_end_matches('\n'));
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::demo_sources;

    #[test]
    fn resolve_by_id_index_and_device() {
        let list = number_sources(demo_sources());
        assert_eq!(
            resolve(&list, "desktop").map(|s| s.id.as_str()),
            Some("desktop")
        );
        assert_eq!(resolve(&list, "1").and_then(|s| s.select_index), Some(1));
        assert_eq!(
            resolve(&list, "hdmi-1").map(|s| s.kind),
            Some(SourceKind::CaptureDevice)
        );
        assert!(resolve(&list, "99").is_none());
        let table = format_table(&[Row {
            source: list[0].clone(),
            state: "ok".into(),
        }]);
        assert!(table.starts_with("INDEX  KIND"), "{table}");
        assert!(table.contains("desktop"));
    }

    #[test]
    fn long_cells_are_cut() {
        let mut source = number_sources(demo_sources())[0].clone();
        source.title = "x".repeat(80);
        let table = format_table(&[Row {
            source,
            state: "ok".into(),
        }]);
        assert!(
            table.contains(&format!("{}…", "x".repeat(MAX_CELL - 1))),
            "{table}"
        );
    }
}
