//! Text that is not ecs-deploy's own (names from the definitions and
//! services, AWS's reasons and messages, a task's log) written to be as
//! hostile as it can: none of it may become a workflow command, and the
//! summary table keeps its shape.

use crate::common;

use common::{sim, Job, Run};
use ecs_deploy_sim::Sim;

/// Workflow commands on several lines, the legacy form, Markdown/HTML, and
/// what GitHub would make a link of: a URL, a `www.` domain, an address.
const HOSTILE: &str =
    "::add-mask::pwned\n  ::error::pwned\r::warning::pwned ##[error]pwned | ` <script>pwned</script> ] https://pwned.example/x www.pwned.example ops@pwned.example";

/// A name on one line, as inputs carry names.
const NAME: &str = "web|`<b>pwned`##[error]pwned]";

/// Asserts that the runner would find no workflow command ecs-deploy did not
/// write: outside a relayed block (`::stop-commands::TOKEN` to `::TOKEN::`)
/// each line that starts with `::` is one of ours with our text after it,
/// and no line holds the legacy `##[`.
fn assert_only_our_commands(run: &Run) {
    let mut relaying: Option<String> = None;
    // The runner reads a lone CR as the end of a line too.
    for line in run
        .stdout
        .split(['\r', '\n'])
        .chain(run.stderr.split(['\r', '\n']))
    {
        if let Some(token) = &relaying {
            if line == format!("::{token}::") {
                relaying = None;
            }
            continue;
        }
        // The runner tries the `::` form first, so only other lines can
        // hold a legacy command.
        let Some(command) = line.trim_start().strip_prefix("::") else {
            assert!(!line.contains("##["), "{line}\n{}", run.log());
            continue;
        };
        let (name, data) = command.split_once("::").unwrap_or((command, ""));
        let name = name.split(' ').next().unwrap_or_default();
        assert!(
            [
                "group",
                "endgroup",
                "error",
                "warning",
                "notice",
                "add-mask",
                "stop-commands"
            ]
            .contains(&name),
            "{line}\n{}",
            run.log()
        );
        assert!(!data.starts_with("pwned"), "{line}\n{}", run.log());
        if name == "add-mask" {
            assert!(!data.contains("pwned"), "{line}\n{}", run.log());
        }
        if name == "stop-commands" {
            relaying = Some(data.to_owned());
        }
    }
    assert_eq!(
        relaying,
        None,
        "a relayed block was left open:\n{}",
        run.log()
    );
}

/// Asserts that every row of the summary's table still has its two cells,
/// and that no text from outside became HTML or a link.
fn assert_summary_keeps_its_shape(run: &Run) {
    let rows: Vec<&str> = run.summary.lines().filter(|l| l.starts_with('|')).collect();
    assert!(rows.len() > 3, "{}", run.summary);
    for row in rows {
        // GitHub's table takes a `|` right after a backslash into the cell.
        let borders = row
            .char_indices()
            .filter(|&(i, c)| c == '|' && !row[..i].ends_with('\\'))
            .count();
        assert_eq!(borders, 3, "{row}\n{}", run.summary);
    }
    // No HTML but the folded block of changes, which is ecs-deploy's own.
    for line in run.summary.lines().filter(|l| l.starts_with('<')) {
        assert!(
            line.starts_with("<details><summary>Task definition changes (") || line == "</details>",
            "{line}\n{}",
            run.summary
        );
    }
    let shown = outside_code(&run.summary);
    for link in ["://pwned", "www.pwned", "@pwned"] {
        assert!(!shown.contains(link), "{link} would be a link:\n{shown}");
    }
}

/// The summary without its code blocks and code spans, where GitHub makes
/// no links: what it reads as text.
fn outside_code(markdown: &str) -> String {
    let mut text = String::new();
    let mut fence: Option<usize> = None;
    for line in markdown.lines() {
        let ticks = line.len() - line.trim_start_matches('`').len();
        match fence {
            None if ticks >= 3 => fence = Some(ticks),
            Some(open) if ticks >= open && line[ticks..].trim().is_empty() => fence = None,
            Some(_) => {}
            None => {
                let mut rest = line;
                while let Some(i) = rest.find(['\\', '`']) {
                    text.push_str(&rest[..i]);
                    if rest[i..].starts_with('\\') {
                        // An escaped character is text.
                        let escaped = rest[i + 1..].chars().next().map_or(0, char::len_utf8);
                        text.push_str(&rest[i..i + 1 + escaped]);
                        rest = &rest[i + 1 + escaped..];
                        continue;
                    }
                    let run = rest[i..].len() - rest[i..].trim_start_matches('`').len();
                    let fence = &rest[i..i + run];
                    let after = &rest[i + run..];
                    // A code span ends at the same number of backticks.
                    match after.match_indices(fence).find(|(at, _)| {
                        !after[at + run..].starts_with('`') && !after[..*at].ends_with('`')
                    }) {
                        Some((at, _)) => rest = &after[at + run..],
                        None => {
                            text.push_str(fence);
                            rest = after;
                        }
                    }
                }
                text.push_str(rest);
                text.push('\n');
            }
        }
    }
    text
}

fn yaml_string(text: &str) -> String {
    serde_json::to_string(text).unwrap()
}

#[test]
fn names_events_stopped_tasks_and_alarms_of_an_ecs_deployment() {
    let alarm = format!(
        "{{cluster: prod, service: {name}, outcome: alarm, seconds: 1, alarmNames: [{hostile}]}}",
        name = yaml_string(NAME),
        hostile = yaml_string(HOSTILE),
    );
    // The crashed task's last log lines reach the annotation and the
    // summary's evidence.
    let crash = format!(
        "{{cluster: prod, service: {name}, outcome: tasksFail, seconds: 0.5, failedTasks: 1, logs: [{hostile}]}}",
        name = yaml_string(NAME),
        hostile = yaml_string(HOSTILE),
    );
    for (timeline, shown) in [
        (alarm, r"\<script\>pwned"),
        (crash, "last log lines of stopped task "),
    ] {
        let sim = sim(&format!(
            r#"
clusters: [prod]
taskDefinitions:
  - family: shop
    containerDefinitions:
      - name: {name}
        image: "shop:1"
        essential: true
        logConfiguration:
          logDriver: awslogs
          options: {{awslogs-group: /ecs/shop, awslogs-stream-prefix: shop}}
logGroups: [/ecs/shop]
services:
  - cluster: prod
    serviceName: {name}
    taskDefinition: shop:1
    desiredCount: 1
    deploymentConfiguration:
      deploymentCircuitBreaker: {{enable: true, rollback: true}}
      alarms: {{alarmNames: [{hostile}], enable: true, rollback: true}}
timelines:
  deployments: [{timeline}]
"#,
            name = yaml_string(NAME),
            hostile = yaml_string(HOSTILE),
        ));
        let run = Job::new(Some(&sim)).run(&[
            ("cluster", "prod"),
            ("service", NAME),
            ("container-name", NAME),
            ("image", "shop:2"),
            ("wait-for-service-stability", "true"),
        ]);
        assert_eq!(run.code, 1, "{}", run.log());
        assert_only_our_commands(&run);
        assert_summary_keeps_its_shape(&run);
        assert!(run.summary.contains(shown), "{}", run.summary);
    }
}

#[test]
fn a_codedeploy_error_message() {
    let scenario = include_str!("../sim/scenarios/codedeploy-fails.yaml").replace(
        "errorMessage: \"The deployment failed because a specified lifecycle event hook (AfterAllowTestTraffic) failed: smoke test returned 500.\"",
        &format!("errorMessage: {}", yaml_string(HOSTILE)),
    );
    assert!(scenario.contains("pwned"));
    let sim = sim(&scenario);
    let run = Job::new(Some(&sim)).run(&[
        ("cluster", "prod"),
        ("service", "shop-web"),
        ("container-name", "web"),
        ("image", "shop:2"),
        ("wait-for-service-stability", "true"),
    ]);
    assert_eq!(run.code, 1, "{}", run.log());
    assert!(run.stdout.contains("pwned"), "{}", run.log());
    assert_only_our_commands(&run);
    assert_summary_keeps_its_shape(&run);
}

fn migration_scenario(task: &str) -> Sim {
    sim(&format!(
        r#"
clusters: [prod]
taskDefinitions:
  - family: shop
    containerDefinitions:
      - name: web
        image: "shop:1"
        logConfiguration: {{logDriver: awslogs, options: {{awslogs-group: /ecs/shop, awslogs-region: us-east-1, awslogs-stream-prefix: ecs}}}}
services:
  - {{cluster: prod, serviceName: shop-web, taskDefinition: shop:1}}
logGroups: [/ecs/shop]
timelines:
  tasks:
    - {{family: shop, {task}}}
"#
    ))
}

fn run_migration(job: Job) -> Run {
    job.run(&[
        ("cluster", "prod"),
        ("service", "shop-web"),
        ("container-name", "web"),
        ("image", "shop:2"),
        ("migration-command", HOSTILE),
    ])
}

#[test]
fn a_migrations_command_log_and_exit() {
    let sim = migration_scenario(&format!(
        "outcome: exit, seconds: 1, exitCode: 1, logs: [{hostile}, {hostile}]",
        hostile = yaml_string(HOSTILE)
    ));
    let run = run_migration(Job::new(Some(&sim)));
    assert_eq!(run.code, 1, "{}", run.log());
    assert!(run.stdout.contains("::stop-commands::"), "{}", run.log());
    assert_only_our_commands(&run);
    // Outside Actions nothing stops commands: the relayed lines are escaped.
    let plain = run_migration(Job::new(Some(&sim)).env("GITHUB_ACTIONS", "false"));
    assert!(
        plain.stdout.contains("%3A:add-mask::pwned"),
        "{}",
        plain.log()
    );
    assert_only_our_commands(&plain);
    assert_summary_keeps_its_shape(&run);
    // The last log lines are evidence, as written, inside a code block.
    let evidence = run
        .summary
        .split("#### Evidence\n\n```text\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```\n").next())
        .expect("the evidence in a code block");
    assert!(evidence.contains("last log lines:\n  "), "{}", run.summary);
    assert!(evidence.contains("<script>pwned"), "{}", run.summary);
}

#[test]
fn a_migration_tasks_stopped_reason() {
    let sim = migration_scenario(&format!(
        "outcome: failToStart, seconds: 1, stoppedReason: {}",
        yaml_string(HOSTILE)
    ));
    let run = run_migration(Job::new(Some(&sim)));
    assert_eq!(run.code, 1, "{}", run.log());
    assert!(run.log().contains("pwned"), "{}", run.log());
    assert_only_our_commands(&run);
    assert_summary_keeps_its_shape(&run);
}
