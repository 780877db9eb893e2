//! `roomshare snap SOURCE -o file.png`: one full-resolution capture of a
//! local source (or a remote engine's thumbnail, with `--url`).

use super::out::print_line;
use super::sources::{
    LookArgs, LookError, connect_and_list, local_list, remote_thumbnail, resolve,
};
use crate::capture::SourcesMode;
use clap::Args;
use image::RgbaImage;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Args, Debug, Clone)]
pub struct SnapArgs {
    /// The source: its id (`desktop`, `window:1234`, `monitor:screen`), select_index or device_id.
    pub source: String,
    /// Where to write the PNG.
    #[arg(short, long)]
    pub output: PathBuf,
    #[command(flatten)]
    pub look: LookArgs,
}

/// A remote engine serves thumbnails only. `Err(code)`: a connection or
/// listing failure, already printed.
async fn remote_picture(
    look: &LookArgs,
    wanted: &str,
) -> Result<Result<RgbaImage, String>, ExitCode> {
    let (client, list) = connect_and_list(&look.remote).await?;
    Ok(remote_thumbnail_of(&client, &list, &look.remote.url(), wanted).await)
}

async fn remote_thumbnail_of(
    client: &crate::client::Client,
    list: &[crate::protocol::SourceInfo],
    url: &str,
    wanted: &str,
) -> Result<RgbaImage, String> {
    let source = resolve(list, wanted).ok_or_else(|| {
        format!("no source {wanted:?} on {url}; see `roomshare sources --url {url}`")
    })?;
    let (_, _, jpeg) = remote_thumbnail(client, &source.id).await?;
    let img = image::load_from_memory(&jpeg)
        .map_err(|e| format!("the thumbnail is not a readable JPEG: {e}"))?;
    eprintln!(
        "note: a remote engine serves thumbnails only ({}x{}), not full resolution",
        img.width(),
        img.height()
    );
    Ok(img.to_rgba8())
}

/// Capture here (blocking: run off the async workers).
fn local_picture(mode: SourcesMode, wait: Duration, wanted: &str) -> Result<RgbaImage, LookError> {
    let mut backend = (mode.factory())();
    let list = local_list(backend.as_mut(), wait)?;
    let source = resolve(&list, wanted).ok_or_else(|| {
        LookError::Other(format!("no source {wanted:?}; see `roomshare sources`"))
    })?;
    backend
        .capture(&source.id)
        .map_err(|e| LookError::Other(e.to_string()))
}

pub async fn run(args: SnapArgs) -> ExitCode {
    let picture = if args.look.remote.url.is_some() {
        match remote_picture(&args.look, &args.source).await {
            Ok(picture) => picture.map_err(LookError::Other),
            Err(code) => return code,
        }
    } else {
        let (mode, wait, wanted) = (args.look.sources, args.look.wait, args.source.clone());
        tokio::task::spawn_blocking(move || local_picture(mode, wait, &wanted))
            .await
            .unwrap_or_else(|e| Err(LookError::Other(format!("capture failed: {e}"))))
    };
    let image = match picture {
        Ok(img) => img,
        Err(e) => return e.report(),
    };
    match image.save_with_format(&args.output, image::ImageFormat::Png) {
        Ok(()) => {
            print_line(&format!(
                "{} ({}x{})",
                args.output.display(),
                image.width(),
                image.height()
            ));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cannot write {}: {e}", args.output.display());
            ExitCode::from(1)
        }
    }
}
