//! The keyword prefilter: which rule keywords occur in a file, and where the anchor words of the
//! generic rules start.
//!
//! The automaton is aho-corasick's DFA; only the search loop is ours. aho-corasick walks the
//! input as one stream, so every byte waits for the table lookup of the byte before it, and that
//! latency, not the work, set the speed (about 440 MB/s over text). Here the input is cut into
//! lanes, each started early by one keyword length less a byte so that no keyword is lost at a
//! cut, and the lanes' lookups are interleaved in one loop: they do not depend on each other, so
//! the CPU overlaps them. A keyword seen twice near a cut is harmless: callers want the set of
//! keywords, and sort and deduplicate the located starts.

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::dfa::DFA;
use aho_corasick::{Anchored, MatchKind};

/// Independent lookups in flight per step (the loop below is written out for four).
const LANES: usize = 4;

/// Anchor-word starts recorded per file at most. A file made of nothing but anchor words would
/// otherwise cost memory in proportion to its size; past this, the anchored rules search the
/// whole file instead, which finds the same matches, only slower.
pub(crate) const MAX_LOCATED: usize = 64 * 1024;

/// Bytes per lane walked between two checks for a match state.
const BLOCK: usize = 64;

/// Below this many bytes per lane a file is walked as one stream: the lanes' overlaps would cost
/// more than they hide. Most text files in images are a few KiB, so this must stay small.
const MIN_LANE_BYTES: usize = 256;

pub(crate) struct KeywordSet {
    dfa: DFA,
    /// Keywords whose every occurrence is recorded, not only their presence.
    tracked: Vec<bool>,
    start: StateID,
    /// Bytes a lane starts before its own range: a keyword ending in the range may begin there.
    overlap: usize,
}

impl KeywordSet {
    /// Keywords matched ASCII case-insensitively; `tracked` (one flag per keyword) says which
    /// ones to locate. Errors name the reason only; the caller knows which rule set it was
    /// building.
    pub(crate) fn new(keywords: &[String], tracked: Vec<bool>) -> Result<KeywordSet, String> {
        debug_assert_eq!(keywords.len(), tracked.len());
        let dfa = DFA::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            // Start states must not be special: the loop below treats every special state as a
            // match (there is no dead state in an unanchored standard search).
            .prefilter(false)
            .build(keywords)
            .map_err(|e| e.to_string())?;
        let start = dfa.start_state(Anchored::No).map_err(|e| e.to_string())?;
        let overlap = dfa.max_pattern_len().saturating_sub(1);
        Ok(KeywordSet {
            dfa,
            tracked,
            start,
            overlap,
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.dfa.patterns_len()
    }

    /// Marks in `seen` (indexed by keyword, `len()` long) every keyword that occurs in `content`,
    /// and adds to `located` the start and keyword of each occurrence of a tracked keyword, in no
    /// particular order and possibly twice. Returns false when `located` is incomplete: it
    /// reached [`MAX_LOCATED`] entries.
    pub(crate) fn mark_present(
        &self,
        content: &[u8],
        seen: &mut [bool],
        located: &mut Vec<(usize, usize)>,
    ) -> bool {
        let mut marks = Marks {
            seen,
            located,
            complete: true,
        };
        self.walk(content, &mut marks);
        marks.complete
    }

    fn walk(&self, content: &[u8], marks: &mut Marks<'_>) {
        let lane_len = content.len() / LANES;
        if lane_len < MIN_LANE_BYTES.max(self.overlap) {
            let mut sid = self.start;
            for (at, &byte) in content.iter().enumerate() {
                sid = self.step(sid, byte, at, marks);
            }
            return;
        }
        // Lane i owns bytes [i * lane_len, (i + 1) * lane_len); the last lane also owns the tail,
        // walked alone afterwards. Each lane other than the first first reads the `overlap` bytes
        // before its range, so a keyword straddling a cut is still seen whole.
        let mut state = [self.start; LANES];
        for (lane, sid) in state.iter_mut().enumerate().skip(1) {
            let owned = lane * lane_len;
            let from = owned - self.overlap;
            for (at, &byte) in content[from..owned].iter().enumerate() {
                *sid = self.step(*sid, byte, from + at, marks);
            }
        }
        let [a, b, c, d] =
            [0, 1, 2, 3].map(|lane| &content[lane * lane_len..(lane + 1) * lane_len]);
        let mut from = 0;
        while from < lane_len {
            let to = (from + BLOCK).min(lane_len);
            let before = state;
            let [a, b, c, d] = [&a[from..to], &b[from..to], &c[from..to], &d[from..to]];
            // The fast pass only notes whether any lane entered a match state; the block is
            // walked again, marking, only when one did. A call in this loop would push the
            // lanes' states out of registers.
            let mut matched = false;
            for (((&a, &b), &c), &d) in a.iter().zip(b).zip(c).zip(d) {
                for (sid, byte) in state.iter_mut().zip([a, b, c, d]) {
                    *sid = self.dfa.next_state(Anchored::No, *sid, byte);
                    matched |= self.dfa.is_special(*sid);
                }
            }
            if matched {
                state = before;
                for (offset, (((&a, &b), &c), &d)) in a.iter().zip(b).zip(c).zip(d).enumerate() {
                    for (lane, (sid, byte)) in state.iter_mut().zip([a, b, c, d]).enumerate() {
                        let at = lane * lane_len + from + offset;
                        *sid = self.step(*sid, byte, at, marks);
                    }
                }
            }
            from = to;
        }
        let mut last = state[LANES - 1];
        let tail = LANES * lane_len;
        for (at, &byte) in content[tail..].iter().enumerate() {
            last = self.step(last, byte, tail + at, marks);
        }
    }

    /// One byte, at offset `at`.
    #[inline]
    fn step(&self, sid: StateID, byte: u8, at: usize, marks: &mut Marks<'_>) -> StateID {
        let next = self.dfa.next_state(Anchored::No, sid, byte);
        if self.dfa.is_special(next) {
            self.mark_matches(next, at, marks);
        }
        next
    }

    #[cold]
    fn mark_matches(&self, sid: StateID, at: usize, marks: &mut Marks<'_>) {
        for index in 0..self.dfa.match_len(sid) {
            let pattern = self.dfa.match_pattern(sid, index);
            marks.seen[pattern.as_usize()] = true;
            if self.tracked[pattern.as_usize()] {
                if marks.located.len() < MAX_LOCATED {
                    let start = at + 1 - self.dfa.pattern_len(pattern);
                    marks.located.push((start, pattern.as_usize()));
                } else {
                    marks.complete = false;
                }
            }
        }
    }
}

struct Marks<'a> {
    seen: &'a mut [bool],
    located: &'a mut Vec<(usize, usize)>,
    complete: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn present(keywords: &[&str], content: &[u8]) -> Vec<String> {
        let owned: Vec<String> = keywords.iter().map(|k| (*k).to_owned()).collect();
        let set = KeywordSet::new(&owned, vec![false; owned.len()]).expect("keywords build");
        let mut seen = vec![false; set.len()];
        assert!(set.mark_present(content, &mut seen, &mut Vec::new()));
        owned
            .into_iter()
            .zip(seen)
            .filter_map(|(k, s)| s.then_some(k))
            .collect()
    }

    #[test]
    fn keywords_at_every_lane_cut_are_found() {
        let keywords = ["ghp_", "password", "akia", "-----begin"];
        // Large enough for lanes; every keyword is planted across each lane cut in turn.
        let len = LANES * MIN_LANE_BYTES * 2 + 7;
        let lane_len = len / LANES;
        for keyword in keywords {
            for cut in 1..LANES {
                for shift in 0..keyword.len() {
                    let mut content = vec![b'.'; len];
                    let at = cut * lane_len - shift;
                    content[at..at + keyword.len()].copy_from_slice(keyword.as_bytes());
                    assert_eq!(
                        present(&keywords, &content),
                        vec![keyword.to_owned()],
                        "{keyword} at lane cut {cut}, {shift} bytes before it"
                    );
                }
            }
        }
    }

    #[test]
    fn keywords_at_both_ends_and_in_the_tail_are_found() {
        let keywords = ["ghp_", "xoxb-", "akia"];
        let len = LANES * MIN_LANE_BYTES + 3;
        let mut content = vec![b' '; len];
        content[..4].copy_from_slice(b"GHP_");
        content[len - 5..].copy_from_slice(b"xOxB-");
        assert_eq!(present(&keywords, &content), vec!["ghp_", "xoxb-"]);
        // The tail past the last full lane is only three bytes: plant a keyword ending there.
        let mut content = vec![b' '; len];
        content[len - 4..].copy_from_slice(b"akia");
        assert_eq!(present(&keywords, &content), vec!["akia"]);
    }

    #[test]
    fn overlapping_and_nested_keywords_are_all_found() {
        // `key` inside `api_key`, and `secret` overlapping `secret_key`: a standard search
        // reports every one, which is what enables each rule.
        let keywords = ["api_key", "key", "secret", "secret_key", "absent"];
        for content in [b"x SECRET_KEY=1 api_key".to_vec(), {
            let mut big = vec![b'-'; 64 * 1024];
            big[100..110].copy_from_slice(b"secret_key");
            big[20_000..20_007].copy_from_slice(b"api_key");
            big
        }] {
            assert_eq!(
                present(&keywords, &content),
                vec!["api_key", "key", "secret", "secret_key"]
            );
        }
    }

    #[test]
    fn agrees_with_aho_corasick_on_random_text() {
        // The crate's own overlapping search is the oracle, for presence and for the starts of
        // the tracked keywords.
        let keywords = ["ab", "bca", "cab", "aaaa", "bb", "abcab"];
        let tracked = vec![true, false, true, true, false, true];
        let owned: Vec<String> = keywords.iter().map(|k| (*k).to_owned()).collect();
        let oracle = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&owned)
            .expect("oracle builds");
        let set = KeywordSet::new(&owned, tracked.clone()).expect("keywords build");
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for len in [0, 1, 5, 255, 1024, 1027, 4095, 4096 * LANES, 70_001] {
            for _ in 0..20 {
                let content: Vec<u8> = (0..len)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        // Mostly filler, so that some keywords are absent from some inputs.
                        b"aBcxxxxx"[usize::try_from(seed % 8).expect("small")]
                    })
                    .collect();
                let mut expected = vec![false; keywords.len()];
                let mut expected_located = Vec::new();
                for m in oracle.find_overlapping_iter(&content) {
                    let pattern = m.pattern().as_usize();
                    expected[pattern] = true;
                    if tracked[pattern] {
                        expected_located.push((m.start(), pattern));
                    }
                }
                expected_located.sort_unstable();
                let mut seen = vec![false; set.len()];
                let mut located = Vec::new();
                assert!(set.mark_present(&content, &mut seen, &mut located));
                located.sort_unstable();
                located.dedup();
                assert_eq!(seen, expected, "length {len}");
                assert_eq!(located, expected_located, "length {len}");
            }
        }
    }

    #[test]
    fn located_starts_are_capped_and_the_cap_is_reported() {
        let owned = vec!["pwd".to_owned(), "zz".to_owned()];
        let set = KeywordSet::new(&owned, vec![true, false]).expect("keywords build");
        let content = "pwd ".repeat(MAX_LOCATED + 10) + "zz";
        let mut seen = vec![false; 2];
        let mut located = Vec::new();
        assert!(!set.mark_present(content.as_bytes(), &mut seen, &mut located));
        assert_eq!(located.len(), MAX_LOCATED);
        // Presence is still complete.
        assert_eq!(seen, [true, true]);
    }
}
