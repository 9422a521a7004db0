//! A partial run's report (`--write-report` with `--only`, `--audit-sizes`
//! or `--parallel-only`): docs/benchmarks.md rewritten with what this run
//! measured, and everything else kept from the page as it was, dated.
//!
//! Why: a full run takes half an hour on the shared two cores; a change that
//! touches one case should refresh that case's figures without pretending
//! the others were measured again. In the Audit, Apply and Targets sections
//! every table row says when it was measured; a section this run did not
//! produce is kept whole under a note with its date.

/// Sections whose table rows are merged with the earlier page's, by their first cell.
const MERGED: &[&str] = &["Audit", "Apply", "Targets"];

/// `(preamble, [(title, body)])`: the page cut at its `## ` headings.
fn sections(doc: &str) -> (String, Vec<(String, String)>) {
    let mut parts = doc.split("\n## ");
    let preamble = parts.next().unwrap_or_default().to_string();
    let rest = parts
        .map(|p| {
            let (title, body) = p.split_once('\n').unwrap_or((p, ""));
            (title.trim().to_string(), body.to_string())
        })
        .collect();
    (preamble, rest)
}

/// The date the earlier page says it was generated on.
fn earlier_date(doc: &str) -> String {
    doc.find(" on 20")
        .and_then(|at| doc.get(at + 4..at + 14))
        .filter(|d| d.chars().all(|c| c.is_ascii_digit() || c == '-'))
        .unwrap_or("an earlier run")
        .to_string()
}

/// A table row's key: its first cell, without thousands separators.
fn key(row: &str) -> String {
    row.trim_start_matches('|')
        .split('|')
        .next()
        .unwrap_or_default()
        .trim()
        .replace(',', "")
}

/// Rows grouped with the rows that continue them (an empty first cell).
fn row_groups(rows: &[&str]) -> Vec<Vec<String>> {
    let mut groups: Vec<Vec<String>> = Vec::new();
    for row in rows {
        match groups.last_mut() {
            Some(group) if key(row).is_empty() => group.push(row.to_string()),
            _ => groups.push(vec![row.to_string()]),
        }
    }
    groups
}

const WHEN: &str = " measured on |";

/// Whether two rows measure the same thing: the same key, or a target
/// restated with another bound ("... within 1.2x ..." and "... within 1.10x ...").
fn same_measure(a: &str, b: &str) -> bool {
    let subject = |k: &str| k.split(" within ").next().unwrap_or(k).to_string();
    a == b || subject(a) == subject(b)
}

/// `new`'s section with the tables' rows of `old` that this run did not
/// measure, each row dated, and `old`'s bold paragraphs it did not rewrite.
fn merged_section(new: &str, old: &str, today: &str, before: &str) -> String {
    let old_lines: Vec<&str> = old.lines().collect();
    let new_lines: Vec<&str> = new.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < new_lines.len() {
        let line = new_lines[i];
        if !line.starts_with('|') || i + 1 >= new_lines.len() || !new_lines[i + 1].starts_with("|-")
        {
            out.push(line.to_string());
            i += 1;
            continue;
        }
        let header = line;
        let end = (i + 2..new_lines.len())
            .find(|&j| !new_lines[j].starts_with('|'))
            .unwrap_or(new_lines.len());
        let rows = &new_lines[i + 2..end];
        out.push(format!("{header}{WHEN}"));
        out.push(format!("{}---|", new_lines[i + 1]));
        let measured: Vec<String> = rows.iter().map(|r| key(r)).collect();
        let mut groups: Vec<Vec<String>> = row_groups(rows)
            .into_iter()
            .map(|g| {
                g.into_iter()
                    .map(|row| format!("{row} {} |", if key(&row).is_empty() { "" } else { today }))
                    .collect()
            })
            .collect();
        // The same table on the earlier page (with or without its dates).
        let earlier = old_lines
            .iter()
            .position(|l| l.trim_end_matches(WHEN) == header);
        if let Some(at) = earlier {
            let dated = old_lines[at].ends_with(WHEN);
            let old_end = (at + 2..old_lines.len())
                .find(|&j| !old_lines[j].starts_with('|'))
                .unwrap_or(old_lines.len());
            for group in row_groups(&old_lines[at + 2..old_end]) {
                if measured.iter().any(|m| same_measure(m, &key(&group[0]))) {
                    continue;
                }
                groups.push(
                    group
                        .iter()
                        .enumerate()
                        .map(|(n, row)| match (dated, n) {
                            (true, _) => row.clone(),
                            (false, 0) => format!("{row} {before} |"),
                            (false, _) => format!("{row}  |"),
                        })
                        .collect(),
                );
            }
        }
        // Sizes in order (S, N), whichever run measured them.
        if groups.iter().all(|g| key(&g[0]).parse::<u64>().is_ok()) {
            groups.sort_by_key(|g| key(&g[0]).parse::<u64>().unwrap_or_default());
        }
        out.extend(groups.into_iter().flatten());
        i = end;
    }
    let mut text = out.join("\n");
    for paragraph in old.split("\n\n") {
        let paragraph = paragraph.trim();
        let Some(title) = paragraph
            .strip_prefix("**")
            .and_then(|p| p.split("**").next())
        else {
            continue;
        };
        if !new.contains(&format!("**{title}**")) {
            let dated = if paragraph.contains("(measured on ") {
                paragraph.to_string()
            } else {
                format!("{paragraph} (measured on {before})")
            };
            text = format!("{}\n\n{dated}\n", text.trim_end());
        }
    }
    text
}

/// The page this run writes: its own sections, merged with `old`'s.
pub(crate) fn with_earlier_measurements(new: &str, old: &str) -> String {
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let before = earlier_date(old);
    let (preamble, new_sections) = sections(new);
    let (_, old_sections) = sections(old);
    let mut titles: Vec<String> = old_sections.iter().map(|(t, _)| t.clone()).collect();
    for (title, _) in &new_sections {
        if !titles.contains(title) {
            let at = titles
                .iter()
                .position(|t| t == "Targets")
                .unwrap_or(titles.len());
            titles.insert(at, title.clone());
        }
    }
    let mut page = format!(
        "{}\n\nThis page was last rewritten by a partial run on {today} (`--write-report`): what that run \
         measured carries its date, and the rest is kept from the page as it was ({before}). The machine's two \
         cores were shared with other builds while it ran, so its figures carry that noise (load averages under \
         Machine).\n",
        preamble.trim_end()
    );
    for title in titles {
        let new_body = new_sections
            .iter()
            .find(|(t, _)| *t == title)
            .map(|(_, b)| b);
        let old_body = old_sections
            .iter()
            .find(|(t, _)| *t == title)
            .map(|(_, b)| b);
        let body = match (new_body, old_body) {
            (Some(new), Some(old)) if MERGED.contains(&title.as_str()) => {
                merged_section(new, old, &today, &before)
            }
            (Some(new), _) => new.clone(),
            (None, Some(old)) if title == "Release binary" => old.clone(),
            (None, Some(old)) => {
                format!("\n_Not measured by the run of {today}: as measured on {before}._\n{old}")
            }
            (None, None) => continue,
        };
        page.push_str(&format!("\n## {title}\n{}", body.trim_end_matches('\n')));
        page.push('\n');
    }
    page
}
