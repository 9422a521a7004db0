//! Fitting Azure's long text into the 100 columns of the text views.
//!
//! ARM resource ids run to 140 characters and more, and the messages the
//! audit writes name them in full (the JSON keeps them so). A person reading
//! a terminal needs the name: storage account names are unique across Azure,
//! and the text shows each account's subscription and resource group once.
//! So, unless the user asked for full ids (`-v`), ids inside text become the
//! name they end in, and lines are wrapped at spaces (or, in lists, after
//! commas) with an indent that keeps them under the line they continue.

/// The width the text views keep to, for the estates people read at a
/// terminal (an id or a word longer than the line stays whole).
pub(super) const WIDTH: usize = 100;

/// Every resource id in `text` (a run of non-blank characters from
/// `/subscriptions/`, at the start of a word or after an opening quote or
/// bracket) shortened to what follows its last `/`: the resource's name, with
/// any punctuation the sentence put after it (`.../vaults/kv:` -> `kv:`). A
/// URL that contains an id (`https://host/subscriptions/...`) stays whole.
pub(super) fn ids_to_names(text: &str) -> String {
    const MARK: &str = "/subscriptions/";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = find_ignore_case(rest, MARK) {
        // The character before the mark, wherever it was written.
        let before = rest[..start].chars().last().or_else(|| out.chars().last());
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let starts_a_word = before.is_none_or(|c| c.is_whitespace() || "'\"(<[`".contains(c));
        if !starts_a_word {
            // Inside a URL or a path: copy it up to its next blank as it is.
            let end = tail.find(char::is_whitespace).unwrap_or(tail.len());
            out.push_str(&tail[..end]);
            rest = &tail[end..];
            continue;
        }
        let end = tail.find(char::is_whitespace).unwrap_or(tail.len());
        let id = &tail[..end];
        // The mark itself ends in '/', so there is always a last slash.
        let name_at = id.rfind('/').map_or(0, |i| i + 1);
        if name_at == id.len() {
            // `/subscriptions/` and nothing after it names nothing: keep it.
            out.push_str(id);
        } else {
            out.push_str(&id[name_at..]);
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// Where `needle` (ASCII) starts in `haystack`, ignoring ASCII case as ARM does.
fn find_ignore_case(haystack: &str, needle: &str) -> Option<usize> {
    haystack.char_indices().map(|(i, _)| i).find(|&i| {
        haystack
            .get(i..i + needle.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(needle))
    })
}

/// `text` after `first` on its first line and after `indent` on the next,
/// broken at spaces so that no line passes `WIDTH` unless one word does.
/// Every line ends in a newline.
pub(super) fn wrap_words(first: &str, indent: &str, text: &str) -> String {
    let mut out = String::new();
    let mut line = first.to_string();
    let mut empty = true;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let needed = line.chars().count() + usize::from(!empty) + word.chars().count();
        if !empty && needed > WIDTH {
            out.push_str(line.trim_end());
            out.push('\n');
            line = indent.to_string();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
    out
}

/// Splits `a, b, c` into lines of at most `width` characters, breaking after
/// commas only (an item longer than `width` gets a line of its own).
pub(super) fn wrap_list(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    let items: Vec<&str> = text.split(", ").collect();
    for (i, item) in items.iter().enumerate() {
        let piece = if i + 1 < items.len() {
            format!("{item},")
        } else {
            item.to_string()
        };
        let needed = if line.is_empty() {
            piece.chars().count()
        } else {
            line.chars().count() + 1 + piece.chars().count()
        };
        if !line.is_empty() && needed > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&piece);
    }
    lines.push(line);
    lines
}

/// The value after `key` in a resource id (`subscriptions`, `resourceGroups`),
/// compared as ARM does, without regard to case.
pub(super) fn id_segment<'a>(id: &'a str, key: &str) -> Option<&'a str> {
    let mut segments = id.split('/');
    segments
        .by_ref()
        .find(|s| s.eq_ignore_ascii_case(key))
        .and_then(|_| segments.next())
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    const VAULT: &str =
        "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-logs";

    #[test]
    fn ids_become_names_and_keep_their_punctuation() {
        assert_eq!(
            ids_to_names(&format!("key 'k' in vault {VAULT}: grant it")),
            "key 'k' in vault kv-logs: grant it"
        );
        assert_eq!(
            ids_to_names(&format!("'{VAULT}' and {}", VAULT.to_uppercase())),
            "'kv-logs' and KV-LOGS"
        );
        assert_eq!(ids_to_names("no id here"), "no id here");
        assert_eq!(
            ids_to_names("odd /subscriptions/ end"),
            "odd /subscriptions/ end"
        );
        assert_eq!(ids_to_names("é /subscriptions/s/x/ñame"), "é ñame");
        let url = format!("GET https://management.azure.com{VAULT}?api-version=1 failed");
        assert_eq!(ids_to_names(&url), url);
        assert_eq!(
            ids_to_names(&format!("({VAULT}) `{VAULT}`")),
            "(kv-logs) `kv-logs`"
        );
    }

    #[test]
    fn words_wrap_under_their_indent() {
        let text = "word ".repeat(40);
        let wrapped = wrap_words("  - code: ", "      ", &text);
        let lines: Vec<&str> = wrapped.lines().collect();
        assert!(lines.len() > 1);
        assert!(
            lines.iter().all(|l| l.chars().count() <= WIDTH),
            "{wrapped}"
        );
        assert!(lines[0].starts_with("  - code: word"));
        assert!(lines[1].starts_with("      word"));
        assert_eq!(wrap_words("x: ", "   ", "short"), "x: short\n");
        let long = "y".repeat(120);
        assert_eq!(wrap_words("x: ", "   ", &long), format!("x: {long}\n"));
    }

    #[test]
    fn wrap_list_breaks_after_commas() {
        assert_eq!(wrap_list("a, b, c", 5), vec!["a, b,", "c"]);
        assert_eq!(wrap_list("a, b, c", 100), vec!["a, b, c"]);
        assert_eq!(wrap_list("abcdefgh, b", 3), vec!["abcdefgh,", "b"]);
        assert_eq!(wrap_list("", 3), vec![""]);
    }

    #[test]
    fn segments_of_an_id() {
        assert_eq!(id_segment(VAULT, "subscriptions"), Some("s1"));
        assert_eq!(id_segment(VAULT, "resourcegroups"), Some("rg"));
        assert_eq!(id_segment("plain", "subscriptions"), None);
        assert_eq!(id_segment("/subscriptions/", "subscriptions"), None);
    }
}
