//! Hostile values in every input: whatever the value, the run ends with
//! exit 0 or 1 and, when it fails, an `::error::` that says why; it never
//! panics.

use crate::common;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::process::Command;

use common::{sim, Job};
use ecs_deploy::inputs::INPUTS;

const SCENARIO: &str = r#"
clusters: [prod]
taskDefinitions:
  - family: shop
    containerDefinitions: [{name: web, image: "shop:1", essential: true}]
services:
  - {cluster: prod, serviceName: web, taskDefinition: shop:1}
"#;

const TEMPLATE: &str =
    r#"{"family": "shop", "containerDefinitions": [{"name": "web", "image": "shop:1"}]}"#;

const HOSTILE: &[&str] = &[
    "\u{1}\u{7f}bell\u{7}",
    "a\n::warning::injected\nb",
    "%0A%25 \r\n",
    "\u{feff}é☃ 𝄞 \u{202e}",
    "[\"unclosed",
];

#[test]
fn every_input_with_a_hostile_value_fails_cleanly_or_runs() {
    let sim = sim(SCENARIO);
    for spec in INPUTS {
        for hostile in HOSTILE {
            let run = Job::new(Some(&sim)).file("td.json", TEMPLATE).run(&[
                ("cluster", "prod"),
                ("task-definition", "td.json"),
                ("container-name", "web"),
                ("image", "shop:2"),
                ("dry-run", "true"),
                // So that the GitHub token is used too.
                ("environment", "staging"),
                ("github-token", "ghs_token"),
                (spec.name, hostile),
            ]);
            assert!(
                run.code == 0 || run.code == 1,
                "{} = {hostile:?}: exit {}\n{}",
                spec.name,
                run.code,
                run.log()
            );
            if run.code == 1 {
                assert!(
                    run.stdout.lines().any(|line| line.starts_with("::error")),
                    "{} = {hostile:?}: no error annotation\n{}",
                    spec.name,
                    run.log()
                );
            }
        }
    }
}

#[test]
fn an_argument_that_is_not_utf8_is_an_error_not_a_panic() {
    let output = Command::new(env!("CARGO_BIN_EXE_ecs-deploy"))
        .env_clear()
        .env("GITHUB_ACTIONS", "true")
        .arg("--service")
        .arg(OsStr::from_bytes(b"web\xff"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "::error::a command-line argument is not valid UTF-8\n"
    );
}

#[test]
fn a_token_with_a_line_break_is_an_input_error_before_anything_starts() {
    let sim = sim(SCENARIO);
    let run = Job::new(Some(&sim)).run(&[
        ("cluster", "prod"),
        ("service", "web"),
        ("image", "shop:2"),
        ("environment", "staging"),
        ("github-token", "ghs_first\u{7}line\nsecond"),
    ]);
    assert_eq!(run.code, 1, "{}", run.log());
    assert!(
        run.stdout.contains("::error::invalid input github-token: contains a blank, a line break or a character that is not ASCII; give the token alone"),
        "{}",
        run.log()
    );
    assert!(!run.log().contains("ghs_first"), "{}", run.log());
    assert!(sim.calls().is_empty(), "nothing reached AWS");
}
