/// Caps that bound the cost of a hostile image. Every cap is per layer (or per directory tree).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Highest allowed ratio of uncompressed to compressed bytes...
    pub max_compression_ratio: u64,
    /// ...once this many uncompressed bytes have been produced. Small layers legitimately reach
    /// high ratios (a file of zeros), so the ratio only counts past this point.
    pub ratio_threshold_bytes: u64,
    /// Absolute cap on a layer's uncompressed size.
    pub max_layer_bytes: u64,
    /// Cap on the number of entries in one layer.
    pub max_entries: u64,
    /// Paths with more components than this are skipped (with a record).
    pub max_path_depth: usize,
    /// Paths longer than this many bytes (Linux's `PATH_MAX`) are skipped (with a record that
    /// quotes only their start): no file system could hold them, and each copy of a name a
    /// hostile layer made hundreds of megabytes long costs that much memory.
    pub max_path_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_compression_ratio: 100,
            ratio_threshold_bytes: 256 * 1024 * 1024,
            max_layer_bytes: 64 * 1024 * 1024 * 1024,
            max_entries: 2_000_000,
            max_path_depth: 128,
            max_path_bytes: 4096,
        }
    }
}
