//! Everything the adapter reads from AWS's error answers, in one place: the exception names it
//! classifies by, and the few message patterns it must read because no exception type carries the
//! information. The crate docs ("AWS behaviours relied on") say which of these AWS documents.

/// The exception AWS documents for a result it cannot return (too large, an unsupported type, a
/// multidimensional array).
pub(crate) const UNSUPPORTED_RESULT: &str = "UnsupportedResultException";

/// What an exception means for a retry and for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exception {
    /// The cluster is resuming from auto-pause: nothing ran.
    Resuming,
    /// The request was refused before running.
    Throttled,
    /// A 5xx answer: the call may or may not have run.
    ServerError,
    /// The statement ran past the Data API's time limit: it may have run, or still be running.
    Timeout,
    /// Anything else: final.
    Other,
}

/// Classifies an AWS exception name (`x-amzn-ErrorType` / `__type`, as the SDK reports it).
pub(crate) fn exception(code: &str) -> Exception {
    match code {
        // The service model's 400 for a cluster waking from auto-pause.
        "DatabaseResumingException" => Exception::Resuming,
        // Not in the Data API's model: the SDK's generic throttling codes, should a front end send
        // them.
        "ThrottlingException" | "TooManyRequestsException" | "Throttling" => Exception::Throttled,
        // The service model's 500, 503 and 504.
        "InternalServerErrorException"
        | "ServiceUnavailableError"
        | "DatabaseUnavailableException" => Exception::ServerError,
        "StatementTimeoutException" => Exception::Timeout,
        _ => Exception::Other,
    }
}

/// Words of any plausible wording of "the result is over the response size limit". Inside an
/// [`UNSUPPORTED_RESULT`] the other documented causes (an unsupported data type, a
/// multidimensional array) use none of them. AWS documents the cause, not the text; the v1 wording
/// reported by users was "Database returned more than the allowed response size limit".
const SIZE_LIMIT_WORDS: &[&str] = &[
    "size",
    "too large",
    "too big",
    "limit",
    "exceed",
    "mib",
    "1mb",
    "1 mb",
];

/// Whether an [`UNSUPPORTED_RESULT`]'s `message` is about the response size.
pub(crate) fn says_size_limit(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    SIZE_LIMIT_WORDS.iter().any(|word| message.contains(word))
}

/// The prefixes before the SQLState and the MySQL error number at the end of a
/// `DatabaseErrorException`'s message (`…; Error code: 1062; SQLState: 23000`). Not documented by
/// AWS; any spelling in which the label is followed by the value is accepted, case-insensitively.
const SQL_STATE_LABELS: &[&str] = &["sqlstate:", "sqlstate =", "sqlstate"];
const VENDOR_CODE_LABELS: &[&str] = &["error code:", "errorcode:", "error code =", "error code"];

/// The text right after the last of `labels` in `message` (case-insensitive).
fn after_label<'m>(message: &'m str, labels: &[&str]) -> Option<&'m str> {
    let lower = message.to_ascii_lowercase();
    labels
        .iter()
        .find_map(|label| lower.rfind(label).map(|at| at + label.len()))
        .map(|end| message[end..].trim_start())
}

/// The five-character SQLState a SQL error's message ends with.
pub(crate) fn sql_state(message: &str) -> Option<String> {
    let rest = after_label(message, SQL_STATE_LABELS)?;
    let state: String = rest.chars().take(5).collect();
    (state.len() == 5 && state.chars().all(|c| c.is_ascii_alphanumeric())).then_some(state)
}

/// MySQL's error number in a SQL error's message.
pub(crate) fn vendor_code(message: &str) -> Option<u32> {
    let rest = after_label(message, VENDOR_CODE_LABELS)?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exceptions_are_classified_by_name() {
        for (code, class) in [
            ("DatabaseResumingException", Exception::Resuming),
            ("ThrottlingException", Exception::Throttled),
            ("InternalServerErrorException", Exception::ServerError),
            ("ServiceUnavailableError", Exception::ServerError),
            ("DatabaseUnavailableException", Exception::ServerError),
            ("StatementTimeoutException", Exception::Timeout),
            ("DatabaseErrorException", Exception::Other),
            ("BadRequestException", Exception::Other),
            (UNSUPPORTED_RESULT, Exception::Other),
        ] {
            assert_eq!(exception(code), class, "{code}");
        }
    }

    #[test]
    fn every_plausible_size_wording_is_a_size_limit_and_the_other_causes_are_not() {
        for message in [
            "Database returned more than the allowed response size limit",
            "Database response exceeded size limit",
            "The result set is too large",
            "Response exceeds 1 MiB",
            "Result is larger than 1MB",
        ] {
            assert!(says_size_limit(message), "{message}");
        }
        for message in [
            "The result contains the unsupported data type money.",
            "Multidimensional arrays are not supported",
            "",
        ] {
            assert!(!says_size_limit(message), "{message}");
        }
    }

    #[test]
    fn sql_state_and_vendor_code_are_read_from_any_spelling() {
        for (message, state, code) in [
            (
                "Duplicate entry '1' for key 'PRIMARY'; Error code: 1062; SQLState: 23000",
                Some("23000"),
                Some(1062),
            ),
            (
                "ERROR: duplicate key value violates unique constraint; SQLState: 23505",
                Some("23505"),
                None,
            ),
            ("duplicate key (SQLSTATE 23505)", Some("23505"), None),
            (
                "error code 1452, sqlstate: 23000",
                Some("23000"),
                Some(1452),
            ),
            ("Transaction may be expired", None, None),
            ("SQLState: 12", None, None),
        ] {
            assert_eq!(sql_state(message).as_deref(), state, "{message}");
            assert_eq!(vendor_code(message), code, "{message}");
        }
    }
}
