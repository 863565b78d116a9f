//! The job summary: one table per run, filled by the steps as they learn
//! things and rendered once at the end, on failure too, so that the run page
//! shows how far the run got and why it stopped.

use std::time::Duration;

use anyhow::Result;

#[derive(Debug, Default)]
pub(crate) struct Summary {
    rows: Vec<(String, String)>,
    /// Each step's name and how long it took, in order.
    steps: Vec<(&'static str, Duration)>,
}

impl Summary {
    /// Adds a row. `label` and `value` are Markdown (code spans, links) on one
    /// line; text from outside goes into them through `text` or `code`.
    pub(crate) fn add(&mut self, label: impl Into<String>, value: impl Into<String>) {
        self.rows.push((label.into(), value.into()));
    }

    pub(crate) fn add_step(&mut self, step: &'static str, took: Duration) {
        self.steps.push((step, took));
    }

    /// The table for the run that ended with `result`.
    pub(crate) fn render(&self, result: &Result<()>) -> String {
        let verdict = match result {
            Ok(()) => "✅ succeeded".to_owned(),
            Err(error) if crate::outcome::is_failed(error) => "❌ failed".to_owned(),
            Err(_) => "⚠️ ecs-deploy could not finish".to_owned(),
        };
        let mut rows = vec![("Result".to_owned(), verdict)];
        rows.extend(self.rows.iter().cloned());
        if !self.steps.is_empty() {
            let times: Vec<String> = self
                .steps
                .iter()
                .map(|(step, took)| format!("{step} {}", seconds(*took)))
                .collect();
            rows.push(("Time".to_owned(), times.join(" · ")));
        }
        if let Err(error) = result {
            rows.push(("Reason".to_owned(), text(&format!("{error:#}"))));
        }
        let mut table = String::from("### ecs-deploy\n\n| | |\n|---|---|\n");
        for (label, value) in rows {
            table.push_str(&format!("| {label} | {value} |\n"));
        }
        table.push('\n');
        table
    }
}

/// The characters that mean something inside a table cell of GitHub's
/// Markdown: escape, code span, emphasis, strikethrough, link and image,
/// HTML tag and autolink, entity, cell border, math. The others only mean
/// something at the start of a line, and a cell never starts one.
const MARKDOWN_INLINE: &[char] = &['\\', '`', '*', '_', '~', '[', ']', '<', '>', '&', '|', '$'];

/// Text from outside (AWS, the inputs, the template) shown as itself in a
/// table cell: each character that could start Markdown or HTML is
/// backslash-escaped, which CommonMark renders as the character alone (and
/// the table reads `\|` as a `|` of the cell); line breaks become `<br>`.
pub(crate) fn text(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.replace("\r\n", "\n").chars() {
        match c {
            '\r' | '\n' => escaped.push_str("<br>"),
            c if MARKDOWN_INLINE.contains(&c) => {
                escaped.push('\\');
                escaped.push(c);
            }
            c => escaped.push(c),
        }
    }
    escaped
}

/// Text from outside as a code span in a table cell. Backslashes are literal
/// in a code span, so it is fenced by one backtick more than the longest run
/// of backticks in it (spaced, so that a backtick at either end stays in);
/// a `|` is `\|`, which the table reads as a `|` of the cell; line breaks
/// become spaces, as in any code span.
pub(crate) fn code(value: &str) -> String {
    let value = value
        .replace("\r\n", " ")
        .replace(['\r', '\n'], " ")
        .replace('|', "\\|");
    let longest_run = value.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run + 1);
    if longest_run == 0 {
        format!("{fence}{value}{fence}")
    } else {
        format!("{fence} {value} {fence}")
    }
}

fn seconds(took: Duration) -> String {
    format!("{:.1} s", took.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Failed;
    use anyhow::anyhow;

    #[test]
    fn a_successful_run_is_one_table_with_its_step_times() {
        let mut summary = Summary::default();
        summary.add("Service", "`prod/shop-web`");
        summary.add_step("render", Duration::from_millis(120));
        summary.add_step("register", Duration::from_millis(2040));
        assert_eq!(
            summary.render(&Ok(())),
            "### ecs-deploy\n\n| | |\n|---|---|\n\
             | Result | ✅ succeeded |\n\
             | Service | `prod/shop-web` |\n\
             | Time | render 0.1 s · register 2.0 s |\n\n"
        );
    }

    #[test]
    fn a_failed_run_says_why_inside_one_cell() {
        let summary = Summary::default();
        let failed: Result<()> = Err(anyhow!(Failed("exit 1 | see logs\nline two".into())));
        let text = summary.render(&failed);
        assert!(text.contains("| Result | ❌ failed |"), "{text}");
        assert!(
            text.contains("| Reason | exit 1 \\| see logs<br>line two |"),
            "{text}"
        );
        let errored = summary.render(&Err(anyhow!("AccessDeniedException: no")));
        assert!(errored.contains("| Result | ⚠️ ecs-deploy could not finish |"));
    }

    /// The hostile texts every test of the summary shows.
    const HOSTILE: [&str; 9] = [
        "::add-mask::x",
        "::error::x",
        "a\n::warning::b",
        "50%",
        "a\r\nb\rc",
        "a|b\\|c",
        "``a`b",
        "<script>alert(1)</script> &amp;",
        "[x](https://evil.example) ] *y* _z_ ~w~ $m$",
    ];

    /// The `|` that end a cell: GitHub's table reads a `|` right after a
    /// backslash as part of the cell.
    fn borders(row: &str) -> usize {
        let bytes = row.as_bytes();
        (0..bytes.len())
            .filter(|&i| bytes[i] == b'|' && (i == 0 || bytes[i - 1] != b'\\'))
            .count()
    }

    #[test]
    fn text_is_shown_as_itself() {
        let cases = [
            ("::add-mask::x", "::add-mask::x"),
            ("a\n::warning::b", "a<br>::warning::b"),
            ("50%", "50%"),
            ("a\r\nb\rc", "a<br>b<br>c"),
            ("a|b\\|c", "a\\|b\\\\\\|c"),
            ("``a`b", "\\`\\`a\\`b"),
            ("<script>", "\\<script\\>"),
            ("&amp;", "\\&amp;"),
            ("[x](y) ]", "\\[x\\](y) \\]"),
            ("*y* _z_ ~w~ $m$", "\\*y\\* \\_z\\_ \\~w\\~ \\$m\\$"),
            ("shop-web: exit 1.", "shop-web: exit 1."),
        ];
        for (value, markdown) in cases {
            assert_eq!(text(value), markdown, "{value:?}");
        }
    }

    #[test]
    fn code_is_one_code_span_that_holds_every_backtick() {
        let cases = [
            ("shop-web", "`shop-web`"),
            ("a`b", "`` a`b ``"),
            ("``a`b", "``` ``a`b ```"),
            ("a`", "`` a` ``"),
            ("a|b", "`a\\|b`"),
            ("a\r\nb\nc", "`a b c`"),
            ("<script>&amp;", "`<script>&amp;`"),
        ];
        for (value, markdown) in cases {
            assert_eq!(code(value), markdown, "{value:?}");
        }
    }

    #[test]
    fn hostile_text_keeps_the_table_in_shape() {
        let mut summary = Summary::default();
        for hostile in HOSTILE {
            summary.add(format!("Service {}", code(hostile)), text(hostile));
            summary.add("Image", code(hostile));
        }
        let failed: Result<()> = Err(anyhow!(Failed(HOSTILE.join("\n"))));
        let table = summary.render(&failed);
        let rows: Vec<&str> = table
            .lines()
            .skip(2)
            .take_while(|l| !l.is_empty())
            .collect();
        assert_eq!(rows.len(), 2 + 1 + 2 * HOSTILE.len() + 1, "{table}");
        for row in rows {
            assert_eq!(borders(row), 3, "{row}");
        }
    }
}
