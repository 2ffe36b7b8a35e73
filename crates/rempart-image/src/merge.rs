//! Stacks layers into the final filesystem, following the OCI whiteout rules.

use std::collections::HashMap;

use foldhash::fast::RandomState;

use rempart_core::{EntryKind, InventoryEntry};

use crate::walk::LayerWalk;

/// Seeded per process: paths come from the image, and must not be able to pick collisions.
type PathMap<'a, V> = HashMap<&'a str, V, RandomState>;

/// The filesystem a container started from the image would see.
#[derive(Debug, Default, Clone)]
pub struct MergedFs {
    /// Sorted by path, each path once.
    entries: Vec<InventoryEntry>,
}

impl MergedFs {
    /// Applies the layers in order, base first.
    pub fn from_layers<'a>(layers: impl IntoIterator<Item = &'a LayerWalk>) -> MergedFs {
        let layers: Vec<&LayerWalk> = layers.into_iter().collect();
        let entries = visible_in_path_order(&layers)
            .into_iter()
            .map(|(index, position)| InventoryEntry {
                layer: index,
                ..layers[index].entries[position].clone()
            })
            .collect();
        MergedFs { entries }
    }

    /// Like [`MergedFs::from_layers`], moving the entries out of the walks instead of copying
    /// them: the walks are left without entries.
    pub fn take_from_layers(layers: &mut [LayerWalk]) -> MergedFs {
        let order = visible_in_path_order(&layers.iter().collect::<Vec<_>>());
        let entries = order
            .into_iter()
            .map(|(index, position)| {
                // An empty stand-in allocates nothing; the walks' lists are cleared below.
                let stand_in = InventoryEntry {
                    path: String::new(),
                    kind: EntryKind::File,
                    size: 0,
                    mode: 0,
                    uid: 0,
                    gid: 0,
                    layer: 0,
                };
                InventoryEntry {
                    layer: index,
                    ..std::mem::replace(&mut layers[index].entries[position], stand_in)
                }
            })
            .collect();
        for layer in layers {
            layer.entries = Vec::new();
        }
        MergedFs { entries }
    }

    fn find(&self, path: &str) -> Option<&InventoryEntry> {
        self.entries
            .binary_search_by(|entry| entry.path.as_str().cmp(path))
            .ok()
            .map(|index| &self.entries[index])
    }

    /// True if the file that `layer` wrote at `path` is what the final image holds there.
    pub fn is_visible(&self, path: &str, layer: usize) -> bool {
        self.find(path).is_some_and(|entry| entry.layer == layer)
    }

    pub fn get(&self, path: &str) -> Option<&InventoryEntry> {
        self.find(path)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries sorted by path.
    pub fn entries(&self) -> impl Iterator<Item = &InventoryEntry> {
        self.entries.iter()
    }

    pub fn into_entries(self) -> Vec<InventoryEntry> {
        self.entries
    }
}

/// The entries the final filesystem shows, as (layer, position in the layer), sorted by path.
///
/// Each path's topmost entry wins (one hash insert per entry), then entries hidden by a higher
/// layer are dropped. The survivors come in layer and tar order, which is close to path order:
/// the stable sort finds long presorted runs in it, and sorts small (path, layer, position)
/// triples rather than whole entries. A map ordered by path, updated entry by entry, cost most of
/// a warm scan on long shared path prefixes.
fn visible_in_path_order(layers: &[&LayerWalk]) -> Vec<(usize, usize)> {
    let total = layers.iter().map(|layer| layer.entries.len()).sum();
    let mut top: PathMap<'_, (usize, usize)> =
        HashMap::with_capacity_and_hasher(total, RandomState::default());
    let mut hiders = Hiders::default();
    for (index, layer) in layers.iter().enumerate() {
        for path in &layer.whiteouts {
            Hiders::raise(&mut hiders.path_and_below, path, index);
        }
        for path in &layer.opaque_dirs {
            Hiders::raise(&mut hiders.below, path, index);
        }
        for (position, entry) in layer.entries.iter().enumerate() {
            let previous = top.insert(&entry.path, (index, position));
            // A non-directory replacing a directory takes the directory's content with it.
            if entry.kind != EntryKind::Dir
                && previous
                    .is_some_and(|(below, at)| layers[below].entries[at].kind == EntryKind::Dir)
            {
                Hiders::raise(&mut hiders.below, &entry.path, index);
            }
        }
    }
    let mut visible: Vec<(&str, usize, usize)> = Vec::with_capacity(top.len());
    for (index, layer) in layers.iter().enumerate() {
        for (position, entry) in layer.entries.iter().enumerate() {
            let path = entry.path.as_str();
            if top.get(path) == Some(&(index, position)) && !hiders.hides(path, index) {
                visible.push((path, index, position));
            }
        }
    }
    visible.sort_by(|a, b| a.0.cmp(b.0));
    visible
        .into_iter()
        .map(|(_, index, position)| (index, position))
        .collect()
}

/// What higher layers hide: for each path, the highest layer that hides lower layers' entries.
#[derive(Default)]
struct Hiders<'a> {
    /// Whiteouts: the path itself and everything below it.
    path_and_below: PathMap<'a, usize>,
    /// Opaque directories and directories replaced by a file: only what is below the path.
    below: PathMap<'a, usize>,
}

impl<'a> Hiders<'a> {
    fn raise(map: &mut PathMap<'a, usize>, path: &'a str, layer: usize) {
        let highest = map.entry(path).or_insert(layer);
        *highest = (*highest).max(layer);
    }

    /// Whether a layer above `layer` hides `path`. A hider does not hide entries of its own
    /// layer: a whiteout and an entry re-created in the same layer leave the entry.
    fn hides(&self, path: &str, layer: usize) -> bool {
        if self.path_and_below.is_empty() && self.below.is_empty() {
            return false;
        }
        let above = |map: &PathMap<'_, usize>, at: &str| map.get(at).is_some_and(|&by| by > layer);
        if above(&self.path_and_below, path) {
            return true;
        }
        let mut ancestor = path;
        while !ancestor.is_empty() {
            // `a/b/c` -> `a/b` -> `a` -> `` (the root, which an opaque root directory hides).
            ancestor = ancestor.rfind('/').map_or("", |slash| &ancestor[..slash]);
            if above(&self.path_and_below, ancestor) || above(&self.below, ancestor) {
                return true;
            }
        }
        false
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

    #[test]
    fn same_layer_recreation_survives_its_whiteout_and_opaque_root_hides_everything_below() {
        let base = LayerWalk {
            entries: vec![dir("etc"), file("etc/a"), file("etc-b"), file("x")],
            ..LayerWalk::default()
        };
        let middle = LayerWalk {
            entries: vec![dir("etc"), file("etc/new")],
            whiteouts: vec!["etc".into()],
            ..LayerWalk::default()
        };
        let merged = MergedFs::from_layers([&base, &middle]);
        let paths: Vec<&str> = merged.entries().map(|e| e.path.as_str()).collect();
        // `etc-b` sorts between `etc` and `etc/new` and is not below `etc`.
        assert_eq!(paths, ["etc", "etc-b", "etc/new", "x"]);
        assert!(merged.is_visible("etc", 1));

        let top = LayerWalk {
            entries: vec![file("y")],
            opaque_dirs: vec![String::new()],
            ..LayerWalk::default()
        };
        let merged = MergedFs::from_layers([&base, &middle, &top]);
        let paths: Vec<&str> = merged.entries().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["y"]);
    }

    #[test]
    fn a_lower_whiteout_does_not_hide_a_higher_layer() {
        let base = LayerWalk {
            entries: vec![dir("d"), file("d/old")],
            ..LayerWalk::default()
        };
        let middle = LayerWalk {
            whiteouts: vec!["d".into()],
            ..LayerWalk::default()
        };
        let top = LayerWalk {
            entries: vec![dir("d"), file("d/new")],
            ..LayerWalk::default()
        };
        let merged = MergedFs::from_layers([&base, &middle, &top]);
        let paths: Vec<&str> = merged.entries().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["d", "d/new"]);
        assert!(merged.is_visible("d", 2));
    }

    #[test]
    fn moving_the_entries_out_gives_the_same_view() {
        let mut layers = vec![
            LayerWalk {
                entries: vec![dir("d"), file("d/a"), file("d/b"), file("e")],
                ..LayerWalk::default()
            },
            LayerWalk {
                entries: vec![file("d/b"), file("e")],
                whiteouts: vec!["d/a".into()],
                ..LayerWalk::default()
            },
        ];
        let copied = MergedFs::from_layers(&layers);
        let moved = MergedFs::take_from_layers(&mut layers);
        assert_eq!(
            copied.entries().collect::<Vec<_>>(),
            moved.entries().collect::<Vec<_>>()
        );
        assert_eq!(moved.len(), 3);
        assert!(moved.is_visible("d/b", 1));
        assert!(layers.iter().all(|layer| layer.entries.is_empty()));
    }
}
