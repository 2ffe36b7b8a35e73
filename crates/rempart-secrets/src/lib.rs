//! Placeholder, replaced by the analyzer implementation.
