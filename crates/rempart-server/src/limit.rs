//! A request budget per API token (governor's keyed GCRA limiter): a client that loops on the
//! API slows down alone, the others keep their share. In memory, per replica: the limit
//! protects this process.

use std::num::NonZeroU32;

use governor::{DefaultKeyedRateLimiter, Quota};

pub(crate) struct RateLimiter {
    limiter: DefaultKeyedRateLimiter<String>,
}

impl RateLimiter {
    /// `per_second` requests per second per key, in bursts of as many.
    pub(crate) fn new(per_second: u32) -> RateLimiter {
        let rate = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
        RateLimiter {
            limiter: DefaultKeyedRateLimiter::keyed(Quota::per_second(rate)),
        }
    }

    /// Takes one request from `key`'s budget; false when it is spent.
    pub(crate) fn allow(&self, key: &str) -> bool {
        // Forget idle keys now and then, so that the map stays small.
        if self.limiter.len() > 10_000 {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&key.to_owned()).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_over_the_rate_is_refused_and_others_keep_their_share() {
        let limiter = RateLimiter::new(5);
        let allowed = (0..20).filter(|_| limiter.allow("a")).count();
        assert_eq!(allowed, 5);
        assert!(limiter.allow("b"));
    }
}
