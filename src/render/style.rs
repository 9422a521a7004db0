//! What every terminal view shares: the ANSI colours they paint with, and how
//! text from Azure (names, ids, messages) is made safe to print. One place,
//! so that the views colour alike and none forgets to clean.

pub(super) const GREEN: &str = "\x1b[32m";
pub(super) const RED: &str = "\x1b[31m";
pub(super) const YELLOW: &str = "\x1b[33m";
pub(super) const BOLD: &str = "\x1b[1m";
pub(super) const RESET: &str = "\x1b[0m";

/// `text` in the colour (or style) `code` when `color`; as it is otherwise,
/// so that the coloured text without its codes is the plain one.
pub(super) fn paint(text: &str, code: &str, color: bool) -> String {
    if color {
        format!("{code}{text}{RESET}")
    } else {
        text.to_string()
    }
}

/// Like [`paint`], in bold as well: for what must stand out (status tags,
/// an incomplete audit, an irreversible change).
pub(super) fn paint_bold(text: &str, code: &str, color: bool) -> String {
    if color {
        format!("{BOLD}{code}{text}{RESET}")
    } else {
        text.to_string()
    }
}

/// Replaces control characters (escape sequences, newlines) with U+FFFD, so
/// that text from Azure cannot drive the terminal or break a line.
pub(super) fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

/// A JSON string: quoted, with quotes and control characters escaped (how
/// the diffs show ids, as Terraform does).
pub(super) fn quoted(text: &str) -> String {
    serde_json::Value::String(text.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paint_adds_codes_only_when_asked() {
        assert_eq!(paint("x", GREEN, true), "\x1b[32mx\x1b[0m");
        assert_eq!(paint("x", GREEN, false), "x");
        assert_eq!(paint_bold("x", RED, true), "\x1b[1m\x1b[31mx\x1b[0m");
        assert_eq!(paint_bold("x", RED, false), "x");
    }

    #[test]
    fn clean_and_quoted_neutralise_control_characters() {
        assert_eq!(clean("a\x1b[2J\nb"), "a\u{fffd}[2J\u{fffd}b");
        assert_eq!(quoted("a\"b\x1b"), "\"a\\\"b\\u001b\"");
    }
}
