//! What admission keeps in memory: verdicts by digest and scan policy, tag resolutions, and
//! recently done things not to repeat. Each map is bounded: when full, the oldest entries go.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures_util::FutureExt as _;
use futures_util::future::{BoxFuture, Shared};
use rempart::{ImageTrust, ImageVerdict};

/// A verdict answer is fresh this long; after that the store is asked again (a re-evaluation
/// or a new scan on another replica shows within this time).
const VERDICT_FRESH: Duration = Duration::from_secs(10);
/// "Not scanned" is remembered briefly, so that a pod retried in a loop does not ask the store
/// each time, while a scan finishing shows at once.
const UNKNOWN_FRESH: Duration = Duration::from_secs(2);
/// How long a verdict stays usable when the store does not answer: decisions on known images
/// go on through a store outage.
const VERDICT_STALE_LIMIT: Duration = Duration::from_hours(24);
/// A resolved tag is trusted this long (a tag moved in the registry shows within it).
const TAG_FRESH: Duration = Duration::from_secs(30);
/// A digest that met the trust policy is not verified again for this long.
const TRUST_FRESH: Duration = Duration::from_mins(5);
/// A failed resolution (or verification) is remembered briefly, so that a slow or failing registry costs one
/// wait per few seconds rather than one per request.
const TAG_FAILURE_FRESH: Duration = Duration::from_secs(5);
/// Entries per map; far more than the images of a cluster, and a bound for a hostile one.
const MAX_ENTRIES: usize = 50_000;

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Drops the oldest tenth of a full map.
fn make_room<K: Clone + Eq + std::hash::Hash, V>(
    map: &mut HashMap<K, V>,
    at: impl Fn(&V) -> Instant,
) {
    if map.len() < MAX_ENTRIES {
        return;
    }
    let mut ages: Vec<(Instant, K)> = map.iter().map(|(k, v)| (at(v), k.clone())).collect();
    ages.sort_by_key(|(at, _)| *at);
    for (_, key) in ages.into_iter().take(MAX_ENTRIES / 10) {
        map.remove(&key);
    }
}

/// What memory says about one image under one scan policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Remembered {
    /// A verdict fresh enough to use without asking the store.
    Fresh(ImageVerdict),
    /// Recently found not scanned.
    NotScanned,
    /// Nothing usable without the store.
    Ask,
}

#[derive(Debug, Clone)]
enum Entry {
    Verdict(ImageVerdict),
    NotScanned,
}

#[derive(Default)]
pub(crate) struct VerdictCache {
    entries: Mutex<HashMap<(String, String), (Entry, Instant)>>,
}

impl VerdictCache {
    pub(crate) fn get(&self, digest: &str, policy: &str) -> Remembered {
        let entries = lock(&self.entries);
        match entries.get(&(digest.to_owned(), policy.to_owned())) {
            Some((Entry::Verdict(verdict), at)) if at.elapsed() < VERDICT_FRESH => {
                Remembered::Fresh(verdict.clone())
            }
            Some((Entry::NotScanned, at)) if at.elapsed() < UNKNOWN_FRESH => Remembered::NotScanned,
            _ => Remembered::Ask,
        }
    }

    /// The last verdict known, however old (up to a day): what a decision uses when the store
    /// does not answer.
    pub(crate) fn stale(&self, digest: &str, policy: &str) -> Option<ImageVerdict> {
        match lock(&self.entries).get(&(digest.to_owned(), policy.to_owned())) {
            Some((Entry::Verdict(verdict), at)) if at.elapsed() < VERDICT_STALE_LIMIT => {
                Some(verdict.clone())
            }
            _ => None,
        }
    }

    pub(crate) fn put(&self, verdict: &ImageVerdict) {
        let mut entries = lock(&self.entries);
        make_room(&mut entries, |(_, at)| *at);
        entries.insert(
            (verdict.digest.clone(), verdict.policy.clone()),
            (Entry::Verdict(verdict.clone()), Instant::now()),
        );
    }

    pub(crate) fn put_not_scanned(&self, digest: &str, policy: &str) {
        let mut entries = lock(&self.entries);
        make_room(&mut entries, |(_, at)| *at);
        entries.insert(
            (digest.to_owned(), policy.to_owned()),
            (Entry::NotScanned, Instant::now()),
        );
    }

    /// Forgets what is known of `digest` (its scan just finished here).
    pub(crate) fn forget(&self, digest: &str) {
        lock(&self.entries).retain(|(known, _), _| known != digest);
    }

    /// Forgets every verdict (a re-evaluation changed them).
    pub(crate) fn clear(&self) {
        lock(&self.entries).clear();
    }
}

/// An answer fetched from a registry, or why it could not be.
type Answer<T> = Result<T, String>;

/// An answer under way, shared by every request waiting for it.
pub(crate) type Pending<T> = Shared<BoxFuture<'static, Answer<T>>>;

/// Answers fetched from registries, by key: each kept while `fresh` says, and one fetch per
/// key at a time, shared by every request that needs it.
pub(crate) struct Answers<T> {
    /// How long an answer for a key stays usable.
    fresh: fn(&str, &Answer<T>) -> Duration,
    entries: Mutex<HashMap<String, (Answer<T>, Instant)>>,
    pending: Mutex<HashMap<String, Pending<T>>>,
}

/// Tag references resolved to digests.
pub(crate) type TagCache = Answers<String>;

/// Images verified against the trust policy, by the reference the pod names.
pub(crate) type TrustCache = Answers<ImageTrust>;

impl TagCache {
    pub(crate) fn new() -> TagCache {
        Answers::with_freshness(|_, answer| {
            if answer.is_ok() {
                TAG_FRESH
            } else {
                TAG_FAILURE_FRESH
            }
        })
    }
}

impl TrustCache {
    pub(crate) fn new() -> TrustCache {
        Answers::with_freshness(|reference, answer| match answer {
            // A digest's signatures only change when one is added: a trusted digest stays
            // trusted a while. A tag may move to another digest, so it is checked as often as
            // a tag is resolved.
            Ok(trust) if trust.trusted && reference.contains("@sha256:") => TRUST_FRESH,
            // An untrusted image is looked at again soon: it may be signed in the meantime.
            Ok(_) => TAG_FRESH,
            Err(_) => TAG_FAILURE_FRESH,
        })
    }
}

impl<T: Clone + Send + Sync + 'static> Answers<T> {
    fn with_freshness(fresh: fn(&str, &Answer<T>) -> Duration) -> Answers<T> {
        Answers {
            fresh,
            entries: Mutex::new(HashMap::new()),
            pending: Mutex::new(HashMap::new()),
        }
    }

    /// The answer (or the failure) remembered for `key`, while fresh.
    pub(crate) fn get(&self, key: &str) -> Option<Answer<T>> {
        let entries = lock(&self.entries);
        let (answer, at) = entries.get(key)?;
        (at.elapsed() < (self.fresh)(key, answer)).then(|| answer.clone())
    }

    /// Records the answer for `key`; its fetch is no longer pending.
    pub(crate) fn put(&self, key: &str, answer: Answer<T>) {
        {
            let mut entries = lock(&self.entries);
            make_room(&mut entries, |(_, at)| *at);
            entries.insert(key.to_owned(), (answer, Instant::now()));
        }
        lock(&self.pending).remove(key);
    }

    /// The fetch of `key` under way, or a new one `start` spawns (a task: it runs to its end
    /// even when every waiter gave up, and records its answer).
    pub(crate) fn pending(
        &self,
        key: &str,
        start: impl FnOnce() -> tokio::task::JoinHandle<Answer<T>>,
    ) -> Pending<T> {
        let mut pending = lock(&self.pending);
        if let Some(running) = pending.get(key) {
            return running.clone();
        }
        let task = start();
        let shared = async move {
            task.await
                .unwrap_or_else(|e| Err(format!("the registry request stopped: {e}")))
        }
        .boxed()
        .shared();
        pending.insert(key.to_owned(), shared.clone());
        shared
    }
}

/// Keys seen within a window, each with a value.
pub(crate) struct Recent<V = ()> {
    window: Duration,
    seen: Mutex<HashMap<String, (V, Instant)>>,
}

impl<V: Clone> Recent<V> {
    pub(crate) fn new(window: Duration) -> Recent<V> {
        Recent {
            window,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// The value recorded for `key` within the window.
    pub(crate) fn get(&self, key: &str) -> Option<V> {
        let seen = lock(&self.seen);
        let (value, at) = seen.get(key)?;
        (at.elapsed() < self.window).then(|| value.clone())
    }

    /// Records `key` with `value`, from now.
    pub(crate) fn put(&self, key: &str, value: V) {
        let mut seen = lock(&self.seen);
        if seen.len() >= MAX_ENTRIES {
            let window = self.window;
            seen.retain(|_, (_, at)| at.elapsed() < window);
            make_room(&mut seen, |(_, at)| *at);
        }
        seen.insert(key.to_owned(), (value, Instant::now()));
    }
}

impl Recent<()> {
    /// True the first time `key` is seen in the window (and records it).
    pub(crate) fn first(&self, key: &str) -> bool {
        if self.get(key).is_some() {
            return false;
        }
        self.put(key, ());
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(digest: &str) -> ImageVerdict {
        ImageVerdict {
            digest: digest.to_owned(),
            passed: true,
            reasons: vec![],
            policy: "default".to_owned(),
            scanned_at: 1,
        }
    }

    #[test]
    fn verdicts_are_fresh_then_asked_again_and_kept_for_outages() {
        let cache = VerdictCache::default();
        assert_eq!(cache.get("sha256:a", "default"), Remembered::Ask);
        cache.put(&verdict("sha256:a"));
        assert_eq!(
            cache.get("sha256:a", "default"),
            Remembered::Fresh(verdict("sha256:a"))
        );
        assert_eq!(cache.get("sha256:a", "other"), Remembered::Ask);
        assert_eq!(
            cache.stale("sha256:a", "default"),
            Some(verdict("sha256:a"))
        );
        cache.put_not_scanned("sha256:b", "default");
        assert_eq!(cache.get("sha256:b", "default"), Remembered::NotScanned);
        assert_eq!(cache.stale("sha256:b", "default"), None);
        cache.forget("sha256:a");
        assert_eq!(cache.get("sha256:a", "default"), Remembered::Ask);
    }

    #[test]
    fn trusted_digests_are_remembered_longer_than_tags_and_failures() {
        let trust = |trusted| {
            Ok(ImageTrust {
                digest: "sha256:a".to_owned(),
                trusted,
                unmet: vec![],
            })
        };
        let cache = TrustCache::new();
        let pinned = "r.example/app@sha256:a";
        assert_eq!((cache.fresh)(pinned, &trust(true)), TRUST_FRESH);
        assert_eq!((cache.fresh)("r.example/app:1", &trust(true)), TAG_FRESH);
        assert_eq!((cache.fresh)(pinned, &trust(false)), TAG_FRESH);
        assert_eq!(
            (cache.fresh)(pinned, &Err("slow".to_owned())),
            TAG_FAILURE_FRESH
        );
        assert!(cache.get(pinned).is_none());
        cache.put(pinned, trust(true));
        assert_eq!(cache.get(pinned), Some(trust(true)));
    }

    #[test]
    fn recent_keys_count_once_per_window() {
        let recent: Recent = Recent::new(Duration::from_mins(1));
        assert!(recent.first("a"));
        assert!(!recent.first("a"));
        assert!(recent.first("b"));
        let scans: Recent<String> = Recent::new(Duration::ZERO);
        scans.put("sha256:a", "scan-1".to_owned());
        assert_eq!(scans.get("sha256:a"), None, "outside the window");
    }

    #[test]
    fn full_maps_drop_their_oldest_entries() {
        let mut map: HashMap<usize, Instant> =
            (0..MAX_ENTRIES).map(|n| (n, Instant::now())).collect();
        make_room(&mut map, |at| *at);
        assert_eq!(map.len(), MAX_ENTRIES - MAX_ENTRIES / 10);
    }
}
