//! A lower bound of a result's size in the response, kept while its rows are read.

use super::{Error, Result};

/// A lower bound of a result's size in the response, kept while its rows are read, so that reading
/// stops as soon as the result cannot fit (AWS's 1 MiB limit) instead of holding it all.
///
/// A field's raw value from the engine takes at most four times its bytes in the response: a field is
/// at least `"n":0` (formatted JSON) or `{"isNull":true}`, strings and text keep their bytes, blobs
/// grow by base64, and the densest binary forms (an int4 array element: 8 bytes; a TINYINT: 1) print
/// as at least 2 characters or fit the field's own minimum. So `2 + Σ (4 + raw / 4)` per row never
/// exceeds its JSON, and a result refused here would be refused by the exact check too.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    limit: usize,
    used: usize,
}

impl Budget {
    pub(crate) fn new(limit: usize) -> Self {
        Self { limit, used: 0 }
    }

    /// Counts one row by the raw lengths of its fields (0 for NULL).
    pub(crate) fn row(&mut self, raw_lengths: impl Iterator<Item = usize>) -> Result<()> {
        let row: usize = raw_lengths.map(|n| 4 + n / 4).sum();
        self.used = self.used.saturating_add(2 + row);
        if self.used > self.limit {
            return Err(Error::TooLarge { limit: self.limit });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_refuses_once_the_lower_bound_passes_the_limit() {
        // A row of one 400-byte field counts 2 + 4 + 100.
        let mut budget = Budget::new(212);
        assert!(budget.row([400].into_iter()).is_ok());
        assert!(budget.row([400].into_iter()).is_ok());
        let error = budget.row([0].into_iter()).expect_err("over the limit");
        assert!(matches!(error, Error::TooLarge { limit: 212 }), "{error}");
        // The bound stays below the response: 1,000 rows of 1,000 bytes fit 1 MiB exactly as JSON
        // (each at least `[{"stringValue":"…"}]`, 1,022 bytes), and count 258,000.
        let mut budget = Budget::new(1_022_000);
        for _ in 0..1_000 {
            budget.row([1_000].into_iter()).expect("fits");
        }
    }
}
