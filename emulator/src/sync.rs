//! The one poisoned-lock policy: a `std::sync::Mutex` whose holder panicked is still used, because
//! every value kept behind one (idle connections, open transactions, catalog facts) stays valid
//! between the statements that change it.

use std::sync::{Mutex, MutexGuard};

/// Locks `mutex`, taking the value over from a holder that panicked.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
