//! Figures with their targets: the median and worst of the runs, whether
//! the target is met, the table printed, the JSON kept for comparing
//! commits and the Markdown of BENCHMARKS.md. For most figures more is
//! worse; rates are the exception.

use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Statistic {
    Median,
    Worst,
}

impl Statistic {
    fn label(self) -> &'static str {
        match self {
            Statistic::Median => "median",
            Statistic::Worst => "worst",
        }
    }
}

/// Which way a figure gets better: its worst run is its largest sample, or
/// (for rates) its smallest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Less,
    More,
}

impl Better {
    fn label(self) -> &'static str {
        match self {
            Better::Less => "less",
            Better::More => "more",
        }
    }
}

/// A target: `statistic` of the runs at most `limit` (for figures where
/// less is better).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bound {
    pub statistic: Statistic,
    pub limit: f64,
}

pub const fn median_at_most(limit: f64) -> Bound {
    Bound {
        statistic: Statistic::Median,
        limit,
    }
}

pub const fn worst_at_most(limit: f64) -> Bound {
    Bound {
        statistic: Statistic::Worst,
        limit,
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub section: &'static str,
    pub name: String,
    pub unit: &'static str,
    pub samples: Vec<f64>,
    /// Every bound must hold; none: reported without a target.
    pub target: Vec<Bound>,
    pub better: Better,
}

impl Figure {
    pub fn new(section: &'static str, name: impl Into<String>, unit: &'static str) -> Figure {
        Figure {
            section,
            name: name.into(),
            unit,
            samples: Vec::new(),
            target: Vec::new(),
            better: Better::Less,
        }
    }

    /// A rate: its worst run is its smallest sample.
    pub fn more_is_better(self) -> Figure {
        Figure {
            better: Better::More,
            ..self
        }
    }

    pub fn with_target(mut self, target: &[Bound]) -> Figure {
        self.target = target.to_vec();
        self
    }

    pub fn median(&self) -> f64 {
        median(&self.samples)
    }

    pub fn worst(&self) -> f64 {
        let worse = match self.better {
            Better::Less => f64::max,
            Better::More => f64::min,
        };
        self.samples.iter().copied().fold(f64::NAN, worse)
    }

    fn statistic(&self, statistic: Statistic) -> f64 {
        match statistic {
            Statistic::Median => self.median(),
            Statistic::Worst => self.worst(),
        }
    }

    /// None without a target.
    pub fn meets_target(&self) -> Option<bool> {
        (!self.target.is_empty()).then(|| {
            self.target
                .iter()
                .all(|bound| self.statistic(bound.statistic) <= bound.limit)
        })
    }

    fn target_text(&self) -> String {
        self.target
            .iter()
            .map(|bound| {
                format!(
                    "{} ≤ {} {}",
                    bound.statistic.label(),
                    number(bound.limit),
                    self.unit
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn result_text(&self) -> &'static str {
        match self.meets_target() {
            Some(true) => "PASS",
            Some(false) => "MISS",
            None => "",
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "section": self.section,
            "name": self.name,
            "unit": self.unit,
            "median": self.median(),
            "worst": self.worst(),
            "samples": self.samples,
            "better": self.better.label(),
            "target": self.target_text(),
            "result": self.result_text(),
        })
    }
}

/// The middle sample; the mean of the two middle ones for an even count.
pub fn median(samples: &[f64]) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// Three significant digits at most, without trailing zeros.
pub fn number(value: f64) -> String {
    let decimals = match value.abs() {
        v if v >= 100.0 => 0,
        v if v >= 10.0 => 1,
        v if v >= 1.0 => 2,
        _ => 3,
    };
    let text = format!("{value:.decimals$}");
    match text.contains('.') {
        true => text.trim_end_matches('0').trim_end_matches('.').to_owned(),
        false => text,
    }
}

/// The table, with a heading before each section's figures.
pub fn table(figures: &[Figure]) -> String {
    let header = ["figure", "median", "worst", "target", "result"].map(str::to_owned);
    let rows: Vec<[String; 5]> = figures
        .iter()
        .map(|figure| {
            let value = |v: f64| format!("{} {}", number(v), figure.unit);
            [
                figure.name.clone(),
                value(figure.median()),
                value(figure.worst()),
                figure.target_text(),
                figure.result_text().to_owned(),
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|column| {
            rows.iter()
                .chain([&header])
                .map(|row| row[column].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String; 5]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut text = line(&header);
    let mut section = None;
    for (figure, row) in figures.iter().zip(&rows) {
        if section != Some(figure.section) {
            section = Some(figure.section);
            text.push_str(&format!("── {}\n", figure.section));
        }
        text.push_str(&line(row));
    }
    text
}

/// The markers between which BENCHMARKS.md holds the generated results.
pub const RESULTS_BEGIN: &str = "<!-- results -->";
pub const RESULTS_END: &str = "<!-- /results -->";

/// The results as Markdown: `about` (when, where, how), then one table per
/// section, each figure with the commit it was measured at.
pub fn markdown(figures: &[Figure], commit: &str, about: &str) -> String {
    let mut text = format!("{about}\n");
    let mut section = None;
    for figure in figures {
        if section != Some(figure.section) {
            section = Some(figure.section);
            text.push_str(&format!(
                "\n### {}\n\n| figure | median | worst | target | result | commit |\n|---|---|---|---|---|---|\n",
                figure.section
            ));
        }
        let value = |v: f64| format!("{} {}", number(v), figure.unit);
        text.push_str(&format!(
            "| {} | {} | {} | {} | {} | `{commit}` |\n",
            figure.name,
            value(figure.median()),
            value(figure.worst()),
            figure.target_text(),
            figure.result_text(),
        ));
    }
    text
}

/// `document` with what stands between the results markers replaced by
/// `results`; the rest (the method, the notes) is kept as written.
pub fn replace_results(document: &str, results: &str) -> anyhow::Result<String> {
    let (Some(begin), Some(end)) = (document.find(RESULTS_BEGIN), document.find(RESULTS_END))
    else {
        anyhow::bail!("no {RESULTS_BEGIN} … {RESULTS_END} markers");
    };
    anyhow::ensure!(begin < end, "{RESULTS_END} comes before {RESULTS_BEGIN}");
    Ok(format!(
        "{}\n{results}{}",
        &document[..begin + RESULTS_BEGIN.len()],
        &document[end..]
    ))
}

/// The figures with their samples, for comparing commits.
pub fn json(figures: &[Figure], context: Value) -> Value {
    json!({
        "context": context,
        "figures": figures.iter().map(Figure::to_json).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figure(samples: &[f64], target: &[Bound]) -> Figure {
        Figure {
            samples: samples.to_vec(),
            ..Figure::new("latency", "verdict", "s").with_target(target)
        }
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn every_bound_must_hold() {
        let target = [median_at_most(3.0), worst_at_most(5.0)];
        assert_eq!(figure(&[1.0, 2.0, 4.9], &target).meets_target(), Some(true));
        assert_eq!(
            figure(&[1.0, 2.0, 5.1], &target).meets_target(),
            Some(false)
        );
        assert_eq!(
            figure(&[3.5, 3.5, 1.0], &target).meets_target(),
            Some(false)
        );
        assert_eq!(figure(&[9.0], &[]).meets_target(), None);
    }

    #[test]
    fn the_worst_rate_is_the_smallest() {
        let rate = Figure {
            samples: vec![3.0, 1.0, 2.0],
            ..Figure::new("log streaming", "lines", "lines/s").more_is_better()
        };
        assert_eq!(rate.worst(), 1.0);
        assert_eq!(figure(&[3.0, 1.0, 2.0], &[]).worst(), 3.0);
    }

    #[test]
    fn numbers_keep_three_significant_digits() {
        assert_eq!(number(0.01234), "0.012");
        assert_eq!(number(1.5), "1.5");
        assert_eq!(number(12.345), "12.3");
        assert_eq!(number(30.0), "30");
        assert_eq!(number(1234.0), "1234");
    }

    #[test]
    fn markdown_gives_each_figure_its_commit_under_its_section() {
        let figures = [
            figure(&[1.0, 2.0], &[median_at_most(3.0)]),
            Figure {
                samples: vec![7.0],
                ..Figure::new("image", "binary", "MB")
            },
        ];
        assert_eq!(
            markdown(&figures, "abc1234", "Measured at commit `abc1234`."),
            "Measured at commit `abc1234`.\n\
             \n### latency\n\n\
             | figure | median | worst | target | result | commit |\n\
             |---|---|---|---|---|---|\n\
             | verdict | 1.5 s | 2 s | median ≤ 3 s | PASS | `abc1234` |\n\
             \n### image\n\n\
             | figure | median | worst | target | result | commit |\n\
             |---|---|---|---|---|---|\n\
             | binary | 7 MB | 7 MB |  |  | `abc1234` |\n"
        );
    }

    #[test]
    fn results_are_replaced_between_the_markers_only() {
        let document =
            "# Benchmarks\n\nmethod\n\n<!-- results -->\nold\n<!-- /results -->\n\nnotes\n";
        assert_eq!(
            replace_results(document, "new\n").unwrap(),
            "# Benchmarks\n\nmethod\n\n<!-- results -->\nnew\n<!-- /results -->\n\nnotes\n"
        );
        assert!(replace_results("no markers", "new\n").is_err());
    }

    #[test]
    fn table_lists_sections_targets_and_results() {
        let figures = [
            figure(&[1.0, 2.0], &[median_at_most(3.0)]),
            Figure {
                samples: vec![7.0],
                ..Figure::new("image", "binary", "MB").with_target(&[worst_at_most(25.0)])
            },
        ];
        assert_eq!(
            table(&figures),
            "figure   median  worst  target         result\n\
             ── latency\n\
             verdict  1.5 s   2 s    median ≤ 3 s   PASS\n\
             ── image\n\
             binary   7 MB    7 MB   worst ≤ 25 MB  PASS\n"
        );
    }
}
