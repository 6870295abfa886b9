//! Where a reconcile reads the time: the system clock in the operator, a clock the test moves in
//! the mock tests (so no test sleeps to let a second pass).

use std::sync::{Arc, Mutex, PoisonError};

#[cfg(test)]
use jiff::SignedDuration;
use jiff::Timestamp;

/// The time source of the reconciles.
#[derive(Clone, Debug, Default)]
pub(crate) struct Clock {
    /// `None`: the system clock; `Some`: a time that moves only when told to.
    manual: Option<Arc<Mutex<Timestamp>>>,
}

impl Clock {
    /// The time now.
    pub(crate) fn now(&self) -> Timestamp {
        match &self.manual {
            None => Timestamp::now(),
            Some(t) => *t.lock().unwrap_or_else(PoisonError::into_inner),
        }
    }

    /// A clock stopped at the current time, which [`Clock::advance`] moves.
    #[cfg(test)]
    pub(crate) fn manual() -> Self {
        Self {
            manual: Some(Arc::new(Mutex::new(Timestamp::now()))),
        }
    }

    /// Moves a manual clock forward by `by` (the system clock cannot be moved).
    #[cfg(test)]
    pub(crate) fn advance(&self, by: SignedDuration) {
        if let Some(t) = &self.manual {
            let mut t = t.lock().unwrap_or_else(PoisonError::into_inner);
            *t = t.checked_add(by).unwrap_or(*t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let clock = Clock::manual();
        let start = clock.now();
        assert_eq!(clock.now(), start);
        clock.advance(SignedDuration::from_secs(2));
        assert_eq!(
            clock.now(),
            start.checked_add(SignedDuration::from_secs(2)).unwrap()
        );
        assert!(Clock::default().now() >= start);
    }
}
