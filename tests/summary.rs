//! The job summary's timeline and its copy in a file.

use crate::common;

use std::process::Command;

use common::{gantt_bars, sim, Job};

const TWO_SERVICES: &str = r#"
clusters: [prod]
taskDefinitions:
  - {family: shop, containerDefinitions: [{name: web, image: "shop:1"}]}
  - {family: worker, containerDefinitions: [{name: web, image: "shop:1"}]}
services:
  - {cluster: prod, serviceName: web, taskDefinition: shop:1, desiredCount: 1}
  - {cluster: prod, serviceName: worker, taskDefinition: worker:1, desiredCount: 1}
timelines:
  deployments:
    - {cluster: prod, service: worker, outcome: tasksFail, seconds: 1}
"#;

#[test]
fn each_service_has_its_lane_and_a_failure_is_marked() {
    let sim = sim(TWO_SERVICES);
    let run = Job::new(Some(&sim)).run(&[
        ("cluster", "prod"),
        ("service", "web\nworker"),
        ("container-name", "web"),
        ("image", "shop:2"),
        ("max-failed-tasks", "1"),
    ]);
    assert_eq!(run.code, 1, "{}", run.log());
    let bars = gantt_bars(&run.summary);
    let lane = |section: &str| -> Vec<(String, String)> {
        bars.iter()
            .filter(|(s, _, _)| s == section)
            .map(|(_, name, tag)| (name.clone(), tag.clone()))
            .collect()
    };
    let bar = |name: &str, tag: &str| (name.to_owned(), tag.to_owned());
    assert_eq!(
        lane("ecs-deploy"),
        [
            bar("render", "done"),
            bar("preflight", "done"),
            bar("register", "done"),
            bar("deploy", "crit")
        ]
    );
    assert_eq!(lane("web")[0], bar("new tasks starting", "done"));
    assert_eq!(lane("web").last().unwrap().1, "done");
    assert_eq!(
        lane("worker").last().unwrap(),
        &bar(
            "failed-task threshold reached, previous revision restored",
            "crit"
        )
    );
    for service in ["web", "worker"] {
        assert!(
            run.summary.contains(&format!("| Service `{service}` |")),
            "{}",
            run.summary
        );
    }
}

#[test]
fn summary_writes_the_same_markdown_to_a_file_outside_actions() {
    let sim = sim(TWO_SERVICES);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("summary.md");
    let output = Command::new(env!("CARGO_BIN_EXE_ecs-deploy"))
        .env_clear()
        .envs(sim.env())
        .args([
            "--cluster",
            "prod",
            "--service",
            "web",
            "--container-name",
            "web",
        ])
        .args(["--image", "shop:2", "--summary"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let markdown = std::fs::read_to_string(&file).unwrap();
    assert!(
        markdown.starts_with("### ecs-deploy\n\n```mermaid\n"),
        "{markdown}"
    );
    assert!(markdown.contains("| Result | ✅ succeeded |"), "{markdown}");
    gantt_bars(&markdown);
}
