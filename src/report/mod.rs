//! Stage 6: data → bytes. Renderers are pure functions of what they are given; one file
//! per output. Tables use comfy-table (colour only on a terminal and without `NO_COLOR`).

pub mod analysis;
pub mod ipo_route;
pub mod listing;
pub mod media;

use comfy_table::{ContentArrangement, Table, presets};

/// A table in sipdiag's house style.
pub(crate) fn new_table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.to_vec());
    t
}
