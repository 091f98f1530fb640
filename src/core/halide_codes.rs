//! Halide's error codes (`halide_error_code_t`) recovered from the text of
//! an ahead-of-time runtime's error.
//!
//! Such a runtime reports an error by printing `Error: ...` and calling
//! `abort()`, so the numeric code the pipeline would have returned is lost.
//! The messages come from a fixed set of runtime functions
//! (`runtime/errors.cpp`), so the code can be read back from the text.

/// `(text the message contains, halide_error_code_t)`, most specific first.
const RULES: &[(&str, i32)] = &[
    ("Requirement Failed", -27),
    ("Constraint violated", -8),
    ("is accessed at", -4),
    ("but must be at least", -9),
    ("but must be at most", -10),
    ("Out of memory", -11),
    ("requires a buffer of exactly", -43),
    ("but type of the buffer passed in is", -3),
    ("which exceeds the maximum size", -5),
    ("do not cover required region", -2),
    ("is not aligned", -24),
    ("is negative", -28),
    ("argument", -12),
];

/// The `halide_error_code_t` whose message `text` is, if it is one.
pub fn code_for_message(text: &str) -> Option<i32> {
    let code = RULES.iter().find(|(needle, _)| text.contains(needle))?.1;
    // "argument ... is NULL" only; other texts that merely say "argument"
    // are not Halide's buffer_argument_is_null.
    if code == -12 && !text.contains("is NULL") {
        return None;
    }
    Some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_messages_map_to_their_codes() {
        let cases = [
            ("Requirement Failed: (false) 500 500", Some(-27)),
            (
                "Input buffer input is accessed at 12, which is beyond the max (7) in dimension 0",
                Some(-4),
            ),
            (
                "Output buffer f is accessed at -3, which is before the min (0) in dimension 1",
                Some(-4),
            ),
            ("Constraint violated: input.stride.0 (4) == 1 (1)", Some(-8)),
            (
                "Parameter gain is -1.000000 but must be at least 0.000000",
                Some(-9),
            ),
            (
                "Parameter gain is 9.000000 but must be at most 4.000000",
                Some(-10),
            ),
            ("Out of memory (halide_malloc returned NULL)", Some(-11)),
            ("Buffer argument input is NULL", Some(-12)),
            ("something else entirely", None),
            ("an argument was odd", None),
        ];
        for (text, code) in cases {
            assert_eq!(code_for_message(text), code, "{text}");
        }
    }
}
