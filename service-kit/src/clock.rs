//! Time as the services see it. Production reads the system clock; tests move a
//! manual clock so that expiries and deadlines are checked without sleeping.

use std::sync::{
    Arc,
    atomic::{AtomicI64, Ordering},
};

/// Milliseconds since the Unix epoch, the unit instants are stored in.
pub type Millis = i64;

/// A source of the current time, shared by a service's components.
#[derive(Debug, Clone)]
pub struct Clock(Option<Arc<AtomicI64>>);

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self(None)
    }

    /// A clock that stands at `start` until moved with [`Clock::advance`] or [`Clock::set`].
    pub fn manual(start: Millis) -> Self {
        Self(Some(Arc::new(AtomicI64::new(start))))
    }

    /// The current instant in milliseconds since the Unix epoch.
    pub fn now(&self) -> Millis {
        match &self.0 {
            Some(manual) => manual.load(Ordering::SeqCst),
            None => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as Millis)
                .unwrap_or_default(),
        }
    }

    /// Moves a manual clock forward; the system clock cannot be moved and ignores it.
    pub fn advance(&self, by: std::time::Duration) {
        if let Some(manual) = &self.0 {
            manual.fetch_add(by.as_millis() as Millis, Ordering::SeqCst);
        }
    }

    /// Sets a manual clock; the system clock ignores it.
    pub fn set(&self, to: Millis) {
        if let Some(manual) = &self.0 {
            manual.store(to, Ordering::SeqCst);
        }
    }
}

/// Converts stored milliseconds into a protobuf timestamp.
pub fn to_timestamp(millis: Millis) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: millis.div_euclid(1000), nanos: (millis.rem_euclid(1000) * 1_000_000) as i32 }
}

/// Converts a protobuf timestamp into milliseconds (sub-millisecond parts are dropped).
pub fn from_timestamp(timestamp: &prost_types::Timestamp) -> Millis {
    timestamp.seconds.saturating_mul(1000).saturating_add(i64::from(timestamp.nanos / 1_000_000))
}
