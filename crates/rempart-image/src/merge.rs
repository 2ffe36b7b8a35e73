//! Stacks layers into the final filesystem, following the OCI whiteout rules.

use std::collections::BTreeMap;

use rempart_core::{EntryKind, InventoryEntry};

use crate::walk::LayerWalk;

/// The filesystem a container started from the image would see.
#[derive(Debug, Default, Clone)]
pub struct MergedFs {
    entries: BTreeMap<String, InventoryEntry>,
}

impl MergedFs {
    /// Applies the layers in order, base first.
    pub fn from_layers<'a>(layers: impl IntoIterator<Item = &'a LayerWalk>) -> MergedFs {
        let mut merged = MergedFs::default();
        for (index, layer) in layers.into_iter().enumerate() {
            merged.apply(index, layer);
        }
        merged
    }

    fn apply(&mut self, index: usize, layer: &LayerWalk) {
        // Whiteouts only hide what lower layers wrote, so they go first; an entry of the same
        // layer with the same name (re-created after deletion) then lands on top.
        for dir in &layer.opaque_dirs {
            self.remove_children(dir);
        }
        for path in &layer.whiteouts {
            self.entries.remove(path);
            self.remove_children(path);
        }
        for entry in &layer.entries {
            // A non-directory replacing a directory takes the directory's content with it.
            if entry.kind != EntryKind::Dir
                && self
                    .entries
                    .get(&entry.path)
                    .is_some_and(|old| old.kind == EntryKind::Dir)
            {
                self.remove_children(&entry.path);
            }
            let mut entry = entry.clone();
            entry.layer = index;
            self.entries.insert(entry.path.clone(), entry);
        }
    }

    fn remove_children(&mut self, dir: &str) {
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let doomed: Vec<String> = self
            .entries
            .range(prefix.clone()..)
            .take_while(|(path, _)| path.starts_with(&prefix))
            .map(|(path, _)| path.clone())
            .collect();
        for path in doomed {
            self.entries.remove(&path);
        }
    }

    /// True if the file that `layer` wrote at `path` is what the final image holds there.
    pub fn is_visible(&self, path: &str, layer: usize) -> bool {
        self.entries
            .get(path)
            .is_some_and(|entry| entry.layer == layer)
    }

    pub fn get(&self, path: &str) -> Option<&InventoryEntry> {
        self.entries.get(path)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries sorted by path.
    pub fn entries(&self) -> impl Iterator<Item = &InventoryEntry> {
        self.entries.values()
    }

    pub fn into_entries(self) -> Vec<InventoryEntry> {
        self.entries.into_values().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> InventoryEntry {
        InventoryEntry {
            path: path.into(),
            kind: EntryKind::File,
            size: 1,
            mode: 0o644,
            uid: 0,
            gid: 0,
            layer: 0,
        }
    }

    fn dir(path: &str) -> InventoryEntry {
        InventoryEntry {
            kind: EntryKind::Dir,
            ..file(path)
        }
    }

    #[test]
    fn whiteouts_and_opaque_dirs_hide_lower_layers_only() {
        let base = LayerWalk {
            entries: vec![
                dir("etc"),
                file("etc/secret"),
                dir("app"),
                file("app/a"),
                file("app/b"),
            ],
            ..LayerWalk::default()
        };
        let top = LayerWalk {
            entries: vec![file("app/c")],
            whiteouts: vec!["etc/secret".into()],
            opaque_dirs: vec!["app".into()],
            ..LayerWalk::default()
        };
        let merged = MergedFs::from_layers([&base, &top]);
        let paths: Vec<&str> = merged.entries().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["app", "app/c", "etc"]);
        assert!(!merged.is_visible("etc/secret", 0));
        assert!(merged.is_visible("app/c", 1));
    }

    #[test]
    fn overwritten_file_belongs_to_the_top_layer() {
        let base = LayerWalk {
            entries: vec![file("x")],
            ..LayerWalk::default()
        };
        let top = LayerWalk {
            entries: vec![file("x")],
            ..LayerWalk::default()
        };
        let merged = MergedFs::from_layers([&base, &top]);
        assert!(!merged.is_visible("x", 0));
        assert!(merged.is_visible("x", 1));
    }

    #[test]
    fn file_replacing_directory_drops_its_children() {
        let base = LayerWalk {
            entries: vec![dir("d"), file("d/inner")],
            ..LayerWalk::default()
        };
        let top = LayerWalk {
            entries: vec![file("d")],
            ..LayerWalk::default()
        };
        let merged = MergedFs::from_layers([&base, &top]);
        assert!(merged.get("d/inner").is_none());
        assert_eq!(merged.len(), 1);
    }
}
