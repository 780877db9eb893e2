//! Ask the Wayland ScreenCast portal once and save a PNG of every source the
//! user chose. Run it twice: the second run restores the grant from the
//! stored token (`$XDG_STATE_HOME/roomshare/portal-token`) without a dialog.
//!
//! ```sh
//! cargo run --example portal_capture -- /tmp/portal-shots
//! ```

#[cfg(target_os = "linux")]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    use roomshare::capture::portal::{PortalConfig, PortalSession};

    let out = std::path::PathBuf::from(
        std::env::args_os()
            .nth(1)
            .unwrap_or_else(|| "portal-shots".into()),
    );
    let config = PortalConfig::default();
    match &config.token_path {
        Some(path) => println!("restore token: {}", path.display()),
        None => println!("no HOME or XDG_STATE_HOME: the grant is not kept"),
    }
    let session = PortalSession::start(&config)?;
    std::fs::create_dir_all(&out)?;
    for source in session.sources() {
        match session.capture(&source.id) {
            Ok(picture) => {
                let name: String = source
                    .id
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                    .collect();
                let path = out.join(format!("{name}.png"));
                picture.save(&path)?;
                println!("{} ({}): {}", source.id, source.title, path.display());
            }
            Err(e) => println!("{} ({}): {e}", source.id, source.title),
        }
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("the ScreenCast portal backend is for Linux (Wayland) only");
}
