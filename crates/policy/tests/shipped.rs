//! The shipped packs' rule files, for tests that load a pack from edited
//! texts and need the packs it extends as shipped.

use std::path::PathBuf;

/// Pack `id`'s `pack.yaml` and `parameters/`, `programmes/` and `tests/`
/// files as `(path, text)`; `None` when no such pack ships.
pub fn rules(id: &str) -> Option<Vec<(String, String)>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../policies")
        .join(id);
    let mut sources = vec![(
        "pack.yaml".to_owned(),
        std::fs::read_to_string(dir.join("pack.yaml")).ok()?,
    )];
    for sub in ["parameters", "programmes", "tests"] {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for entry in entries {
            let path = entry.ok()?.path();
            let name = format!("{sub}/{}", path.file_name()?.to_string_lossy());
            sources.push((name, std::fs::read_to_string(&path).ok()?));
        }
    }
    Some(sources)
}
