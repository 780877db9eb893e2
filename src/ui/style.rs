//! Colours and sizes shared by the panels: large, high-contrast text that
//! reads across a room, and one colour per meaning.

use egui::Color32;

pub const OK: Color32 = Color32::from_rgb(0x3f, 0xb9, 0x50);
pub const WARN: Color32 = Color32::from_rgb(0xe3, 0xa0, 0x08);
pub const ERR: Color32 = Color32::from_rgb(0xf0, 0x50, 0x4a);
pub const ACCENT: Color32 = Color32::from_rgb(0x4c, 0x9a, 0xff);
pub const SHARING: Color32 = Color32::from_rgb(0x2e, 0xcc, 0x71);
pub const MUTED: Color32 = Color32::from_rgb(0x9a, 0xa0, 0xa6);
pub const TILE_BG: Color32 = Color32::from_rgb(0x24, 0x27, 0x2b);
pub const TILE_BG_HOVER: Color32 = Color32::from_rgb(0x30, 0x34, 0x3a);
pub const PLACEHOLDER: Color32 = Color32::from_rgb(0x18, 0x1a, 0x1d);

/// Apply the console's look to a context (dark, larger text).
pub fn apply(ctx: &egui::Context) {
    ctx.all_styles_mut(|style| {
        use egui::{FontFamily, FontId, TextStyle};
        style
            .text_styles
            .insert(TextStyle::Body, FontId::new(15.0, FontFamily::Proportional));
        style.text_styles.insert(
            TextStyle::Button,
            FontId::new(15.0, FontFamily::Proportional),
        );
        style.text_styles.insert(
            TextStyle::Heading,
            FontId::new(21.0, FontFamily::Proportional),
        );
        style.text_styles.insert(
            TextStyle::Small,
            FontId::new(12.0, FontFamily::Proportional),
        );
        style.text_styles.insert(
            TextStyle::Monospace,
            FontId::new(13.5, FontFamily::Monospace),
        );
        style.spacing.item_spacing = egui::vec2(8.0, 6.0);
        style.spacing.button_padding = egui::vec2(10.0, 5.0);
    });
    ctx.set_theme(egui::Theme::Dark);
}
