//! What the benches share: where their generated captures are kept.

use std::path::{Path, PathBuf};

/// Cargo's target directory (`CARGO_TARGET_DIR`, else found from the bench binary's own
/// path), under which the benches keep their generated captures (`bench-data/`).
pub fn target_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(d);
    }
    std::env::current_exe()
        .ok()
        .and_then(|p| p.ancestors().nth(3).map(Path::to_path_buf))
        .filter(|p| p.join("CACHEDIR.TAG").exists() || p.ends_with("target"))
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
}
