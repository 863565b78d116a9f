//! The job summary: a timeline picture, a table of facts, the changes and,
//! on failure, the reason first and the evidence, filled by the steps as
//! they learn things and rendered once at the end, on failure too, so that
//! the run page shows how far the run got and why it stopped.

use std::time::{Duration, SystemTime};

use anyhow::Result;

/// GitHub's limit for one step's summary, with room for the marker.
const SIZE_LIMIT: usize = 1024 * 1024 - 200;

#[derive(Debug, Default)]
pub(crate) struct Summary {
    rows: Vec<(String, String)>,
    /// Each step's name and how long it took, in order.
    steps: Vec<(&'static str, Duration)>,
    /// The timeline's lanes in order: the run's steps, then each service.
    lanes: Vec<(String, Vec<Bar>)>,
    /// The task definitions' changes, one line each, already worded with
    /// values hidden (`diff`).
    changes: Vec<String>,
    /// Markdown blocks shown under the reason of a failed run.
    evidence: Vec<String>,
    /// A deployment was left under way for a later job (`wait-until`).
    handed_off: bool,
    /// Markdown blocks shown after the table (where the time went).
    sections: Vec<String>,
}

/// One bar of the timeline: a step, or a phase of a deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bar {
    pub(crate) name: String,
    pub(crate) start: SystemTime,
    pub(crate) end: SystemTime,
    pub(crate) failed: bool,
}

impl Summary {
    /// Adds a row. `label` and `value` are Markdown (code spans, links) on one
    /// line; text from outside goes into them through `text` or `code`.
    pub(crate) fn add(&mut self, label: impl Into<String>, value: impl Into<String>) {
        self.rows.push((label.into(), value.into()));
    }

    /// A step of the run from `started` to `end`, well or not.
    pub(crate) fn add_step(
        &mut self,
        step: &'static str,
        started: SystemTime,
        end: SystemTime,
        failed: bool,
    ) {
        self.steps
            .push((step, end.duration_since(started).unwrap_or_default()));
        self.add_bar(
            "ecs-deploy",
            Bar {
                name: step.to_owned(),
                start: started,
                end,
                failed,
            },
        );
    }

    /// A bar in lane `lane` (made on first use).
    pub(crate) fn add_bar(&mut self, lane: &str, bar: Bar) {
        match self.lanes.iter_mut().find(|(name, _)| name == lane) {
            Some((_, bars)) => bars.push(bar),
            None => self.lanes.push((lane.to_owned(), vec![bar])),
        }
    }

    pub(crate) fn add_change(&mut self, line: String) {
        self.changes.push(line);
    }

    /// A deployment goes on after the run: it has no verdict yet.
    pub(crate) fn handed_off(&mut self) {
        self.handed_off = true;
    }

    /// Each step's name and how long it took, in order.
    pub(crate) fn steps(&self) -> &[(&'static str, Duration)] {
        &self.steps
    }

    /// A Markdown block shown after the table.
    pub(crate) fn add_section(&mut self, markdown: String) {
        self.sections.push(markdown);
    }

    /// Markdown shown with the reason when the run fails.
    pub(crate) fn add_evidence(&mut self, markdown: String) {
        self.evidence.push(markdown);
    }

    /// The summary of the run that ended with `result`.
    pub(crate) fn render(&self, result: &Result<()>) -> String {
        let verdict = match result {
            Ok(()) if self.handed_off => "⏸ left under way for a later job".to_owned(),
            Ok(()) => "✅ succeeded".to_owned(),
            Err(error) if crate::outcome::is_failed(error) => "❌ failed".to_owned(),
            Err(_) => "⚠️ ecs-deploy could not finish".to_owned(),
        };
        let mut out = String::from("### ecs-deploy\n\n");
        let message = result
            .as_ref()
            .err()
            .map(|error| format!("{error:#}"))
            .unwrap_or_default();
        let mut lines = message.lines();
        if result.is_err() {
            // The reason first: its first line in words, the rest (log
            // lines, diagnostics) as it was written, with the evidence.
            out.push_str(&format!(
                "**{verdict}**: {}\n\n",
                text(lines.next().unwrap_or_default())
            ));
        }
        let details: Vec<&str> = lines.collect();
        if !self.lanes.is_empty() {
            out.push_str(&gantt(&self.lanes));
            out.push('\n');
        }
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
        out.push_str("| | |\n|---|---|\n");
        for (label, value) in rows {
            out.push_str(&format!("| {label} | {value} |\n"));
        }
        out.push('\n');
        if result.is_err() && (!details.is_empty() || !self.evidence.is_empty()) {
            out.push_str("#### Evidence\n\n");
            if !details.is_empty() {
                out.push_str(&code_block(&details.join("\n")));
            }
            for block in &self.evidence {
                out.push_str(block);
                out.push_str("\n\n");
            }
        }
        for section in &self.sections {
            out.push_str(section.trim_end());
            out.push_str("\n\n");
        }
        if !self.changes.is_empty() {
            out.push_str(&format!(
                "<details><summary>Task definition changes ({})</summary>\n\n{}</details>\n\n",
                self.changes.len(),
                code_block(&self.changes.join("\n"))
            ));
        }
        within_limit(out)
    }
}

/// The timeline as a Mermaid gantt chart: one section a lane, wall-clock
/// times in milliseconds, an axis that reads well from seconds to hours.
fn gantt(lanes: &[(String, Vec<Bar>)]) -> String {
    let millis = |at: SystemTime| {
        at.duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis()
    };
    let bars = lanes.iter().flat_map(|(_, bars)| bars);
    let first = bars.clone().map(|b| b.start).min();
    let last = bars.map(|b| b.end).max();
    let span = match (first, last) {
        (Some(first), Some(last)) => last.duration_since(first).unwrap_or_default(),
        _ => Duration::ZERO,
    };
    let (axis, tick) = match span.as_secs() {
        0..=10 => ("%H:%M:%S", "1second"),
        11..=60 => ("%H:%M:%S", "5second"),
        61..=180 => ("%H:%M:%S", "15second"),
        181..=900 => ("%H:%M", "1minute"),
        901..=3600 => ("%H:%M", "5minute"),
        _ => ("%H:%M", "15minute"),
    };
    let mut chart = format!(
        "```mermaid\ngantt\n    dateFormat x\n    axisFormat {axis}\n    tickInterval {tick}\n    todayMarker off\n"
    );
    for (lane, bars) in lanes {
        chart.push_str(&format!("    section {}\n", gantt_name(lane)));
        for bar in bars {
            let (start, end) = (millis(bar.start), millis(bar.end));
            let tag = if bar.failed { "crit" } else { "done" };
            // A moment (the verdict of a failure) is a milestone: a bar
            // without length would not be drawn.
            let when = if end > start {
                format!("{tag}, {start}, {end}")
            } else {
                format!("{tag}, milestone, {start}, 0d")
            };
            chart.push_str(&format!("    {} :{when}\n", gantt_name(&bar.name)));
        }
    }
    chart.push_str("```\n");
    chart
}

/// A task or section name Mermaid reads as plain text: what could end the
/// name (`:`), start a comment (`%%`) or an entity (`#`), break the line,
/// or be read as HTML is replaced.
fn gantt_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || " -_./,()+→".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    match cleaned.trim() {
        "" => "_".to_owned(),
        trimmed => trimmed.to_owned(),
    }
}

/// Text as a fenced code block, fenced by more backticks than any run in it.
fn code_block(value: &str) -> String {
    let longest_run = value.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat((longest_run + 1).max(3));
    format!("{fence}text\n{value}\n{fence}\n\n")
}

/// What says that the summary was cut, outside any block so that it shows.
const TRUNCATED: &str =
    "\n**… truncated: the summary reached GitHub's 1 MiB limit; the step's log has everything.**\n";

/// `markdown` cut at a line to GitHub's limit, with every block the cut
/// leaves open (a code block, a folded `<details>`, a table) closed and then
/// a marker saying so, outside all of them.
fn within_limit(markdown: String) -> String {
    if markdown.len() <= SIZE_LIMIT {
        return markdown;
    }
    let mut budget = SIZE_LIMIT;
    loop {
        let mut cut = budget;
        while !markdown.is_char_boundary(cut) {
            cut -= 1;
        }
        let kept = markdown[..cut]
            .rsplit_once('\n')
            .map_or("", |(kept, _)| kept);
        let closing = closing(kept);
        let size = kept.len() + closing.len() + TRUNCATED.len();
        if size <= SIZE_LIMIT {
            return format!("{kept}{closing}{TRUNCATED}");
        }
        budget -= size - SIZE_LIMIT;
    }
}

/// What closes the blocks still open at the end of `markdown`: the code
/// block (inside a `<details>`, so first), then each `<details>`, then a
/// blank line, which ends a table or a paragraph. Only ecs-deploy writes a
/// line that starts with `<details>` or a fence: text from outside enters
/// escaped, in a table cell or inside a code block.
fn closing(markdown: &str) -> String {
    let mut fence: Option<usize> = None;
    let mut details = 0usize;
    for line in markdown.lines() {
        let ticks = line.len() - line.trim_start_matches('`').len();
        match fence {
            None if ticks >= 3 => fence = Some(ticks),
            None if line.starts_with("<details>") => details += 1,
            None if line.starts_with("</details>") => details = details.saturating_sub(1),
            Some(open) if ticks >= open && line[ticks..].trim().is_empty() => fence = None,
            _ => {}
        }
    }
    let mut out = String::new();
    if let Some(ticks) = fence {
        out.push('\n');
        out.push_str(&"`".repeat(ticks));
    }
    out.push('\n');
    for _ in 0..details {
        out.push_str("\n</details>\n");
    }
    out
}

/// The characters that mean something inside a table cell of GitHub's
/// Markdown: escape, code span, emphasis, strikethrough, link and image,
/// HTML tag and autolink, entity, cell border, math. The others only mean
/// something at the start of a line, and a cell never starts one.
const MARKDOWN_INLINE: &[char] = &['\\', '`', '*', '_', '~', '[', ']', '<', '>', '&', '|', '$'];

/// Invisible, and no character of a URL, a domain or an address: GitHub's
/// autolinking stops at it.
const WORD_JOINER: char = '\u{2060}';

/// Text from outside (AWS, the inputs, the template) shown as itself in a
/// table cell: each character that could start Markdown or HTML is
/// backslash-escaped, which CommonMark renders as the character alone (and
/// the table reads `\|` as a `|` of the cell); line breaks become `<br>`.
/// GitHub makes links of bare URLs, `www.` domains and email addresses in
/// text, escaped or not (it looks at the text after escapes are read): a
/// word joiner after a `:` before `/`, after `www` before `.` and after an
/// `@` keeps each from being one, and shows nothing.
pub(crate) fn text(value: &str) -> String {
    let value = value.replace("\r\n", "\n");
    let chars: Vec<char> = value.chars().collect();
    let mut escaped = String::with_capacity(value.len());
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '\r' | '\n' => escaped.push_str("<br>"),
            c if MARKDOWN_INLINE.contains(&c) => {
                escaped.push('\\');
                escaped.push(c);
            }
            c => escaped.push(c),
        }
        let next = chars.get(i + 1).copied();
        let www = i >= 2
            && chars[i - 2..=i]
                .iter()
                .all(|c| c.eq_ignore_ascii_case(&'w'));
        if c == '@' || (c == ':' && next == Some('/')) || (www && next == Some('.')) {
            escaped.push(WORD_JOINER);
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

pub(crate) fn seconds(took: Duration) -> String {
    format!("{:.1} s", took.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Failed;
    use anyhow::anyhow;

    fn at(millis: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_millis(millis)
    }

    fn bar(name: &str, start: u64, end: u64, failed: bool) -> Bar {
        Bar {
            name: name.to_owned(),
            start: at(start),
            end: at(end),
            failed,
        }
    }

    #[test]
    fn the_timeline_is_a_gantt_chart_with_a_lane_per_service() {
        let lanes = vec![
            (
                "ecs-deploy".to_owned(),
                vec![
                    bar("render", 1_000, 1_400, false),
                    bar("deploy", 1_400, 21_000, true),
                ],
            ),
            (
                "web".to_owned(),
                vec![
                    bar("new tasks starting", 1_500, 9_000, false),
                    bar("failed, rolled back", 9_000, 9_000, true),
                ],
            ),
        ];
        assert_eq!(
            gantt(&lanes),
            "```mermaid\ngantt\n    dateFormat x\n    axisFormat %H:%M:%S\n    tickInterval 5second\n    todayMarker off\n\
             \x20   section ecs-deploy\n\
             \x20   render :done, 1000, 1400\n\
             \x20   deploy :crit, 1400, 21000\n\
             \x20   section web\n\
             \x20   new tasks starting :done, 1500, 9000\n\
             \x20   failed, rolled back :crit, milestone, 9000, 0d\n```\n"
        );
    }

    #[test]
    fn the_time_axis_reads_well_from_seconds_to_an_hour() {
        let axis = |seconds: u64| {
            let chart = gantt(&[("x".to_owned(), vec![bar("a", 0, seconds * 1000, false)])]);
            let line = |key: &str| {
                chart
                    .lines()
                    .find_map(|l| l.trim().strip_prefix(key).map(str::to_owned))
                    .unwrap()
            };
            (line("axisFormat "), line("tickInterval "))
        };
        assert_eq!(axis(20), ("%H:%M:%S".to_owned(), "5second".to_owned()));
        assert_eq!(axis(1800), ("%H:%M".to_owned(), "5minute".to_owned()));
        assert_eq!(axis(4 * 3600), ("%H:%M".to_owned(), "15minute".to_owned()));
    }

    #[test]
    fn names_from_outside_cannot_break_the_chart() {
        assert_eq!(gantt_name("a:b#c;%%d\n<e>"), "a_b_c___d__e_");
        assert_eq!(
            gantt_name("paused by lifecycle hook h-1"),
            "paused by lifecycle hook h-1"
        );
        assert_eq!(gantt_name(" : "), "_");
        // Mermaid makes no links of text; what would make one is gone anyway.
        assert_eq!(
            gantt_name("https://evil.example ops@evil.example"),
            "https_//evil.example ops_evil.example"
        );
    }

    /// Asserts that `markdown` is within GitHub's limit and ends with the
    /// marker, outside every code block, `<details>` and table, each of
    /// which is closed.
    fn assert_cut_and_balanced(markdown: &str) {
        assert!(markdown.len() <= 1024 * 1024, "{}", markdown.len());
        let body = markdown
            .strip_suffix(TRUNCATED)
            .expect("the marker ends it");
        // The marker's line follows a blank line, which ends a table or a
        // paragraph.
        assert!(body.ends_with('\n'), "{}", &body[body.len() - 200..]);
        let mut fence: Option<usize> = None;
        let mut details = 0;
        for line in body.lines() {
            let ticks = line.len() - line.trim_start_matches('`').len();
            match fence {
                None if ticks >= 3 => fence = Some(ticks),
                None if line.starts_with("<details>") => details += 1,
                None if line == "</details>" => details -= 1,
                Some(open) if ticks == open && line.len() == ticks => fence = None,
                _ => {}
            }
        }
        assert_eq!(fence, None, "a code block is left open");
        assert_eq!(details, 0, "a <details> is left open");
    }

    #[test]
    fn a_summary_over_githubs_limit_is_cut_with_its_blocks_closed_and_the_marker_outside() {
        // The cut falls inside the code block inside the folded changes.
        let mut summary = Summary::default();
        for i in 0..40_000 {
            summary.add_change(format!("environment of container web: + VARIABLE_{i:08}"));
        }
        let markdown = summary.render(&Ok(()));
        assert!(markdown.contains("VARIABLE_00010000"));
        assert_cut_and_balanced(&markdown);
        assert!(markdown.ends_with(
            "```\n\n</details>\n\n**… truncated: the summary reached GitHub's 1 MiB limit; the step's log has everything.**\n"
        ));

        // Inside the table, and inside the evidence of a failed run.
        let mut summary = Summary::default();
        for i in 0..30_000 {
            summary.add(
                format!("Row {i}"),
                "`a` value long enough to fill the table",
            );
        }
        assert_cut_and_balanced(&summary.render(&Ok(())));
        let long = format!("a{}", "\nlast log line with ```` four ticks".repeat(40_000));
        assert_cut_and_balanced(&Summary::default().render(&Err(anyhow!(Failed(long)))));
    }

    #[test]
    fn a_successful_run_is_one_table_with_its_step_times() {
        let mut summary = Summary::default();
        summary.add("Service", "`prod/shop-web`");
        summary.add_step("render", at(0), at(120), false);
        summary.add_step("register", at(120), at(2160), false);
        assert_eq!(
            summary.render(&Ok(())),
            "### ecs-deploy\n\n\
             ```mermaid\ngantt\n    dateFormat x\n    axisFormat %H:%M:%S\n    tickInterval 1second\n    todayMarker off\n\
             \x20   section ecs-deploy\n\
             \x20   render :done, 0, 120\n\
             \x20   register :done, 120, 2160\n```\n\n\
             | | |\n|---|---|\n\
             | Result | ✅ succeeded |\n\
             | Service | `prod/shop-web` |\n\
             | Time | render 0.1 s · register 2.0 s |\n\n"
        );
    }

    #[test]
    fn a_failed_run_says_why_first_and_keeps_the_rest_as_evidence() {
        let summary = Summary::default();
        let failed: Result<()> = Err(anyhow!(Failed(
            "exit 1 | see logs\nlast log lines:\n  ``` not a fence".into()
        )));
        let text = summary.render(&failed);
        assert!(
            text.starts_with("### ecs-deploy\n\n**❌ failed**: exit 1 \\| see logs\n\n"),
            "{text}"
        );
        assert!(text.contains("| Result | ❌ failed |"), "{text}");
        assert!(
            text.contains("#### Evidence\n\n````text\nlast log lines:\n  ``` not a fence\n````\n"),
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
            (
                "see https://evil.example/x and HTTP://evil.example",
                "see https:\u{2060}//evil.example/x and HTTP:\u{2060}//evil.example",
            ),
            (
                "www.evil.example WWW.evil.example",
                "www\u{2060}.evil.example WWW\u{2060}.evil.example",
            ),
            ("mail ops@evil.example", "mail ops@\u{2060}evil.example"),
            ("mailto:ops@evil.example", "mailto:ops@\u{2060}evil.example"),
            (
                "arn:aws:ecs:us-east-1:1:service/a",
                "arn:aws:ecs:us-east-1:1:service/a",
            ),
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
            .skip_while(|l| *l != "| | |")
            .take_while(|l| !l.is_empty())
            .collect();
        assert_eq!(rows.len(), 2 + 1 + 2 * HOSTILE.len(), "{table}");
        for row in rows {
            assert_eq!(borders(row), 3, "{row}");
        }
    }
}
