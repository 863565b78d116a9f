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
    /// Adds a row; `value` is Markdown (code spans, links), shown in one cell.
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
            rows.push(("Reason".to_owned(), format!("{error:#}")));
        }
        let mut text = String::from("### ecs-deploy\n\n| | |\n|---|---|\n");
        for (label, value) in rows {
            text.push_str(&format!("| {label} | {} |\n", cell(&value)));
        }
        text.push('\n');
        text
    }
}

/// A value that stays inside its table cell.
fn cell(value: &str) -> String {
    value
        .replace('|', "\\|")
        .replace("\r\n", "<br>")
        .replace('\n', "<br>")
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
}
