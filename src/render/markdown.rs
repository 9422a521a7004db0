//! Escaping for the Markdown views (the audit's and the plan's pull-request
//! comments): text from Azure must render as written, never as markup, and
//! both views must escape it alike (and end alike).

/// Plain text that renders as written: Markdown's punctuation is
/// backslash-escaped (so `<b>` shows as `<b>`, `*x*` is not emphasis), and
/// newlines become spaces (in a table cell they would end the row). Never at
/// the start of a line, so `#`, `-` and `>` there need no care.
pub(super) fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            // `|` only matters in a table, but `\|` renders as `|` anywhere.
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '&' | '~' | '|' => {
                out.push('\\');
                out.push(c);
            }
            '\r' | '\n' => out.push(' '),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// A code span holding `value` as written. Backticks inside get a longer
/// fence; in a table `|` is escaped as `\|`, which GitHub's tables turn back
/// into `|` even inside a code span (outside a table it would show the `\`).
pub(super) fn code(value: &str, in_table: bool) -> String {
    let mut content: String = value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if in_table {
        content = content.replace('|', "\\|");
    }
    let longest_run = content.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run + 1);
    let pad = if content.starts_with('`') || content.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{content}{pad}{fence}")
}

/// A finished Markdown document: exactly one trailing newline, however its
/// last section ended (each section leaves a blank line after itself).
pub(super) fn document(mut out: String) -> String {
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_and_text() {
        assert_eq!(code("a`b", false), "``a`b``");
        assert_eq!(code("`x", false), "`` `x ``");
        assert_eq!(code("a|b", true), "`a\\|b`");
        assert_eq!(code("a|b", false), "`a|b`");
        assert_eq!(code("a\nb", false), "`a b`");
        assert_eq!(text("a\nb*c*"), "a b\\*c\\*");
    }

    #[test]
    fn a_document_ends_with_one_newline() {
        assert_eq!(document("# t\n\n- a\n\n\n".to_string()), "# t\n\n- a\n");
        assert_eq!(document("x\n".to_string()), "x\n");
    }
}
