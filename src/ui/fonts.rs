//! Fonts: egui's defaults plus a CJK font found at run time (nicknames,
//! window titles and the Chinese UI). No 20 MB font is committed: the
//! console looks in `assets/fonts/`, `ROOMSHARE_CJK_FONT` and the usual
//! system locations, and logs clearly when none is found.

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A candidate font file and the face to use inside a collection (.ttc).
struct Candidate {
    path: &'static str,
    /// Face index: Noto Sans CJK .ttc holds JP, KR, SC, TC, HK; 2 = SC.
    index: u32,
}

const SYSTEM_CANDIDATES: &[Candidate] = &[
    Candidate {
        path: "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        index: 2,
    },
    Candidate {
        path: "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
        index: 2,
    },
    Candidate {
        path: "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
        index: 2,
    },
    Candidate {
        path: "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
        index: 2,
    },
    Candidate {
        path: "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        index: 0,
    },
    Candidate {
        path: "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
        index: 0,
    },
    Candidate {
        path: "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
        index: 0,
    },
    Candidate {
        path: "/System/Library/Fonts/PingFang.ttc",
        index: 0,
    },
    Candidate {
        path: "C:\\Windows\\Fonts\\msyh.ttc",
        index: 0,
    },
];

/// Where the CJK font came from, for logs and the about line.
#[derive(Debug, Clone, PartialEq)]
pub enum CjkFont {
    Loaded { path: PathBuf, index: u32 },
    Missing { tried: Vec<PathBuf> },
}

fn candidates() -> Vec<(PathBuf, u32)> {
    let mut list = Vec::new();
    if let Ok(p) = std::env::var("ROOMSHARE_CJK_FONT")
        && !p.is_empty()
    {
        // `path` or `path#index`.
        let (path, index) = match p.rsplit_once('#') {
            Some((path, idx)) => (path.to_string(), idx.parse().unwrap_or(0)),
            None => (p.clone(), 0),
        };
        list.push((PathBuf::from(path), index));
    }
    let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/fonts");
    for name in ["cjk.ttf", "cjk.otf", "cjk.ttc"] {
        list.push((assets.join(name), 0));
    }
    for c in SYSTEM_CANDIDATES {
        list.push((PathBuf::from(c.path), c.index));
    }
    list
}

/// Install egui's default fonts plus the first CJK font found, as a
/// fallback for both proportional and monospace text.
pub fn install(ctx: &egui::Context) -> CjkFont {
    let mut tried = Vec::new();
    for (path, index) in candidates() {
        match std::fs::read(&path) {
            Ok(bytes) => {
                let mut defs = egui::FontDefinitions::default();
                let data = egui::FontData::from_blob(Arc::new(bytes), index);
                defs.font_data.insert("cjk".into(), Arc::new(data));
                for family in [egui::FontFamily::Proportional, egui::FontFamily::Monospace] {
                    defs.families.entry(family).or_default().push("cjk".into());
                }
                ctx.set_fonts(defs);
                tracing::info!(target: "roomshare::ui", "CJK font: {} (face {index})", path.display());
                return CjkFont::Loaded { path, index };
            }
            Err(_) => tried.push(path),
        }
    }
    tracing::warn!(
        target: "roomshare::ui",
        "no CJK font found (tried {}); Chinese text will show as boxes. \
         Install fonts-noto-cjk or set ROOMSHARE_CJK_FONT=/path/to/font.ttc#index",
        tried.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    );
    CjkFont::Missing { tried }
}
