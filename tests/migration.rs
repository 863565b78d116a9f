//! Migrations as a one-off ECS task, end to end: the binary against the
//! simulator, from RunTask to the verdict.

use crate::common;

use std::time::Duration;

use common::{sim, Job, Run};
use ecs_deploy_sim::Sim;
use serde_json::{json, Value};

/// A Fargate service in a VPC with an app container that logs to
/// CloudWatch and an envoy sidecar, both essential; `timelines` says what
/// the migration task does.
fn scenario_text(timelines: &str) -> String {
    format!(
        r#"
clusters: [prod]
taskDefinitions:
  - family: shop
    networkMode: awsvpc
    requiresCompatibilities: [FARGATE]
    cpu: "256"
    memory: "512"
    containerDefinitions:
      - name: web
        image: "shop:1"
        logConfiguration: {{logDriver: awslogs, options: {{awslogs-group: /ecs/shop, awslogs-stream-prefix: ecs}}}}
      - name: envoy
        image: "envoy:1"
services:
  - cluster: prod
    serviceName: shop-web
    taskDefinition: shop:1
    launchType: FARGATE
    platformVersion: "1.4.0"
    propagateTags: TASK_DEFINITION
    networkConfiguration:
      awsvpcConfiguration: {{subnets: [subnet-a, subnet-b], securityGroups: [sg-db], assignPublicIp: DISABLED}}
logGroups: [/ecs/shop]
{timelines}
"#
    )
}

fn scenario(timelines: &str) -> Sim {
    sim(&scenario_text(timelines))
}

fn task_timeline(entry: &str) -> String {
    format!("timelines:\n  tasks:\n    - {{family: shop, {entry}}}\n")
}

const INPUTS: &[(&str, &str)] = &[
    ("cluster", "prod"),
    ("service", "shop-web"),
    ("container-name", "web"),
    ("image", "shop:2"),
    ("migration-command", "bin/rails db:migrate"),
];

fn run_migration(sim: &Sim, extra: &[(&str, &str)]) -> Run {
    let inputs: Vec<(&str, &str)> = INPUTS.iter().chain(extra).copied().collect();
    Job::new(Some(sim)).run(&inputs)
}

/// The one `::error::` annotation, unescaped.
fn error_annotation(run: &Run) -> String {
    let line = run
        .stdout
        .lines()
        .find_map(|line| line.strip_prefix("::error::"))
        .unwrap_or_else(|| panic!("no error annotation in:\n{}", run.log()));
    line.replace("%0A", "\n")
        .replace("%0D", "\r")
        .replace("%25", "%")
}

fn only_task(sim: &Sim) -> Value {
    let tasks = sim.tasks();
    assert_eq!(tasks.len(), 1, "{tasks:#?}");
    tasks[0].clone()
}

#[test]
fn a_successful_migration_streams_its_logs_in_order_and_complete() {
    let lines: Vec<String> = (1..=30).map(|n| format!("migrating {n:02}")).collect();
    let sim = scenario(&task_timeline(&format!(
        "seconds: 2, exitCode: 0, logs: {}",
        serde_json::to_string(&lines).unwrap()
    )));
    let run = run_migration(&sim, &[]);
    assert_eq!(run.code, 0, "{}", run.log());

    let task = only_task(&sim);
    assert_eq!(task["lastStatus"], "STOPPED");
    assert_eq!(
        run.outputs["migration-task-arn"],
        task["taskArn"].as_str().unwrap()
    );
    assert_eq!(run.outputs["migration-exit-code"], "0");
    assert_eq!(task["startedBy"], "ecs-deploy");
    assert_eq!(
        task["taskDefinitionArn"].as_str().unwrap(),
        run.outputs["task-definition-arn"],
        "the migration runs the revision just registered"
    );

    let relayed: Vec<&str> = run
        .stdout
        .lines()
        .filter(|line| line.starts_with("migrating "))
        .collect();
    assert_eq!(relayed, lines, "every line once, in order");
    let group = run
        .stdout
        .find("::group::Migration task")
        .expect("a log group");
    let first = run.stdout.find("migrating 01").unwrap();
    let end = run.stdout[first..]
        .find("::endgroup::")
        .expect("the group ends")
        + first;
    assert!(group < first && run.stdout[first..end].contains("migrating 30"));
    assert!(run.stdout.contains("Migration succeeded"), "{}", run.log());
}

#[test]
fn the_migration_runs_between_registration_and_deployment_with_only_its_command_overridden() {
    let sim = scenario(&task_timeline("seconds: 0.2"));
    let run = run_migration(
        &sim,
        &[("migration-environment-variables", "VERBOSE=1\nSTEP=all")],
    );
    assert_eq!(run.code, 0, "{}", run.log());
    let operations: Vec<String> = sim
        .calls()
        .into_iter()
        .filter(|call| call.service == "ecs")
        .map(|call| call.operation)
        .filter(|op| ["RegisterTaskDefinition", "RunTask", "UpdateService"].contains(&op.as_str()))
        .collect();
    assert_eq!(
        operations,
        ["RegisterTaskDefinition", "RunTask", "UpdateService"],
        "the deployment starts only after the migration"
    );
    let request = &sim.calls_to("RunTask")[0].body;
    assert_eq!(
        request["overrides"]["containerOverrides"],
        json!([{
            "name": "web",
            "command": ["bin/rails", "db:migrate"],
            "environment": [{"name": "VERBOSE", "value": "1"}, {"name": "STEP", "value": "all"}],
        }])
    );
    assert_eq!(request["count"], 1);
}

#[test]
fn network_and_placement_are_copied_from_an_awsvpc_service() {
    let sim = scenario(&task_timeline("seconds: 0.2"));
    let run = run_migration(&sim, &[]);
    assert_eq!(run.code, 0, "{}", run.log());
    let request = &sim.calls_to("RunTask")[0].body;
    assert_eq!(
        request["networkConfiguration"],
        json!({"awsvpcConfiguration": {
            "subnets": ["subnet-a", "subnet-b"],
            "securityGroups": ["sg-db"],
            "assignPublicIp": "DISABLED",
        }})
    );
    assert_eq!(request["launchType"], "FARGATE");
    assert_eq!(request["platformVersion"], "1.4.0");
    assert_eq!(request["propagateTags"], "TASK_DEFINITION");
    assert_eq!(request["cluster"], "prod");
}

#[test]
fn run_task_inputs_place_a_migration_with_no_service() {
    let sim = scenario(&task_timeline("seconds: 0.2"));
    let run = Job::new(Some(&sim)).run(&[
        ("cluster", "prod"),
        ("task-definition", "shop"),
        ("migration-command", r#"["alembic", "upgrade", "head"]"#),
        ("migration-container", "web"),
        ("run-task-subnets", "subnet-x,subnet-y"),
        ("run-task-security-groups", "sg-migrate"),
        ("run-task-assign-public-IP", "ENABLED"),
        (
            "run-task-capacity-provider-strategy",
            r#"[{"capacityProvider": "FARGATE_SPOT", "weight": 1}]"#,
        ),
    ]);
    assert_eq!(run.code, 0, "{}", run.log());
    let request = &sim.calls_to("RunTask")[0].body;
    assert_eq!(
        request["networkConfiguration"],
        json!({"awsvpcConfiguration": {
            "subnets": ["subnet-x", "subnet-y"],
            "securityGroups": ["sg-migrate"],
            "assignPublicIp": "ENABLED",
        }})
    );
    assert_eq!(
        request["capacityProviderStrategy"],
        json!([{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}])
    );
    assert!(request.get("launchType").is_none());
}

#[test]
fn an_awsvpc_migration_without_subnets_is_refused_before_run_task() {
    let sim = scenario("");
    let run = Job::new(Some(&sim)).run(&[
        ("cluster", "prod"),
        ("task-definition", "shop"),
        ("migration-command", "migrate"),
        ("migration-container", "web"),
    ]);
    assert_eq!(run.code, 1);
    assert_eq!(
        error_annotation(&run),
        "task definition shop uses networkMode awsvpc, so the migration task needs subnets: give run-task-subnets and run-task-security-groups, or a service to copy them from"
    );
    assert!(sim.calls_to("RunTask").is_empty());
}

#[test]
fn a_non_zero_exit_of_the_migration_container_fails_and_says_why() {
    let sim = scenario(&task_timeline(
        "seconds: 0.5, exitCode: 1, logs: ['PG::UndefinedTable: relation \"users\" does not exist']",
    ));
    let run = run_migration(&sim, &[]);
    assert_eq!(run.code, 1, "{}", run.log());
    let task = only_task(&sim);
    let id = task["taskArn"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap();
    assert_eq!(
        error_annotation(&run),
        format!(
            "migration failed: container web exited with 1\n\
             task stopped: EssentialContainerExited: Essential container in task exited\n\
             container web (migration): exit code 1\n\
             container envoy (essential): exit code 1\n\
             last log lines:\n  PG::UndefinedTable: relation \"users\" does not exist\n\
             task: https://us-east-1.console.aws.amazon.com/ecs/v2/clusters/prod/tasks/{id}/configuration?region=us-east-1\n\
             The service was not updated."
        )
    );
    assert_eq!(run.outputs["migration-exit-code"], "1");
    assert!(sim.calls_to("UpdateService").is_empty());
}

#[test]
fn a_failed_sidecar_fails_the_migration_even_when_the_migration_container_exited_0() {
    let sim = scenario(&task_timeline(
        "seconds: 0.5, exitCode: 0, containerExitCodes: {envoy: 137}",
    ));
    let run = run_migration(&sim, &[]);
    assert_eq!(run.code, 1, "{}", run.log());
    let error = error_annotation(&run);
    assert!(
        error.starts_with(
            "migration failed: container web exited with 0, but essential container envoy exited with 137\n"
        ),
        "{error}"
    );
    assert!(
        error.contains("\ncontainer envoy (essential): exit code 137\n"),
        "{error}"
    );
    assert_eq!(run.outputs["migration-exit-code"], "0");
}

#[test]
fn a_task_that_never_started_reports_its_stop_code_and_reasons() {
    let resource = "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm";
    let cases = [
        (
            "outcome: failToStart, seconds: 0.3".to_owned(),
            "CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref shop:2: not found",
        ),
        (
            format!("outcome: failToStart, seconds: 0.3, stoppedReason: '{resource}'"),
            resource,
        ),
    ];
    for (timeline, reason) in cases {
        let sim = scenario(&task_timeline(&timeline));
        let run = run_migration(&sim, &[]);
        assert_eq!(run.code, 1, "{}", run.log());
        let error = error_annotation(&run);
        assert!(
            error.starts_with(&format!(
                "migration failed: the task never started (TaskFailedToStart: {reason})\n\
                 task stopped: TaskFailedToStart: {reason}\n\
                 container web (migration): no exit code, {reason}\n\
                 container envoy (essential): no exit code, {reason}\n"
            )),
            "{error}"
        );
        assert!(!error.contains("null"), "{error}");
        assert!(!run.outputs.contains_key("migration-exit-code"));
    }
}

#[test]
fn run_task_failures_are_an_immediate_error_with_their_reasons() {
    let sim = scenario(&task_timeline(
        "outcome: runFailure, failures: [{arn: 'arn:aws:ecs:us-east-1:123456789012:container-instance/prod/1', reason: RESOURCE:MEMORY}, {reason: AGENT, detail: agent disconnected}]",
    ));
    let run = run_migration(&sim, &[]);
    assert_eq!(run.code, 1, "{}", run.log());
    let error = error_annotation(&run);
    assert!(error.starts_with("ECS started no migration task of arn:aws:ecs:us-east-1:123456789012:task-definition/shop:2 in cluster prod: RESOURCE:MEMORY for arn:aws:ecs:us-east-1:123456789012:container-instance/prod/1; AGENT (agent disconnected) for ?"), "{error}");
    assert!(!run.outputs.contains_key("migration-task-arn"));
    assert!(sim.calls_to("DescribeTasks").is_empty());
}

#[test]
fn access_denied_on_describe_tasks_is_an_immediate_explicit_error() {
    let sim = scenario(&format!(
        "{}faults:\n  - {{service: ecs, operation: DescribeTasks, kind: accessDenied, always: true}}\n",
        task_timeline("seconds: 600")
    ));
    let run = run_migration(&sim, &[]);
    assert_eq!(run.code, 1, "{}", run.log());
    let error = error_annotation(&run);
    assert!(
        error.contains("failed to follow migration task "),
        "{error}"
    );
    assert!(
        error.contains("AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/deploy/ci is not authorized to perform: ecs:DescribeTasks"),
        "{error}"
    );
    assert!(
        error.contains("(the role needs ecs:DescribeTasks); the task was left running: https://"),
        "{error}"
    );
    assert!(run.outputs.contains_key("migration-task-arn"));
}

#[test]
fn a_migration_past_its_timeout_is_stopped_with_stop_task() {
    let sim = scenario(&task_timeline("seconds: 600"));
    let run = run_migration(&sim, &[("migration-timeout-minutes", "1")]);
    assert_eq!(run.code, 1, "{}", run.log());
    let stops = sim.calls_to("StopTask");
    assert_eq!(stops.len(), 1);
    assert_eq!(
        stops[0].body["reason"],
        "ecs-deploy: the migration did not finish within 1 minute"
    );
    let task = only_task(&sim);
    assert_eq!(task["stopCode"], "UserInitiated");
    let error = error_annotation(&run);
    assert!(
        error.starts_with("migration failed: the migration did not finish within 1 minute: ecs-deploy stopped the task with StopTask\ntask stopped: UserInitiated: ecs-deploy: the migration did not finish within 1 minute\n"),
        "{error}"
    );
    assert_eq!(run.outputs["migration-exit-code"], "143");
}

#[test]
fn cancelling_the_workflow_stops_the_migration_task() {
    let sim = scenario(&task_timeline("seconds: 600"));
    let inputs: Vec<(&str, &str)> = INPUTS.to_vec();
    let running = Job::new(Some(&sim)).start(&inputs);
    let started = sim.wait_until(Duration::from_secs(30), |sim| {
        sim.tasks()
            .first()
            .is_some_and(|task| task["lastStatus"] == "RUNNING")
            && !sim.calls_to("DescribeTasks").is_empty()
    });
    assert!(started, "the migration task never ran");
    running.signal("INT");
    let run = running.finish();
    assert_eq!(run.code, 1, "{}", run.log());
    assert_eq!(sim.calls_to("StopTask").len(), 1);
    assert_eq!(only_task(&sim)["lastStatus"], "STOPPED");
    let error = error_annotation(&run);
    assert!(
        error.starts_with("cancelled by SIGINT: migration task arn:aws:ecs:")
            && error.ends_with("was stopped with StopTask; nothing was deployed"),
        "{error}"
    );
}

#[test]
fn a_retried_run_task_of_the_same_step_starts_no_second_task() {
    let sim = scenario(&task_timeline("seconds: 0.3"));
    let step = |sim: &Sim| {
        Job::new(Some(sim))
            .env("GITHUB_JOB", "deploy")
            .env("GITHUB_ACTION", "migrate")
            .run(INPUTS)
    };
    let first = step(&sim);
    let retried = step(&sim);
    assert_eq!(
        (first.code, retried.code),
        (0, 0),
        "{}{}",
        first.log(),
        retried.log()
    );
    let calls = sim.calls_to("RunTask");
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].body["clientToken"], calls[1].body["clientToken"]);
    assert_eq!(
        only_task(&sim)["taskArn"],
        first.outputs["migration-task-arn"].as_str()
    );
    assert_eq!(
        first.outputs["migration-task-arn"],
        retried.outputs["migration-task-arn"]
    );
}

#[test]
fn a_separate_migration_template_without_awslogs_is_registered_and_announced() {
    let sim = scenario("timelines:\n  tasks:\n    - {family: shop-migrate, seconds: 0.2}\n");
    let template = r#"{"family": "shop-migrate", "containerDefinitions": [{"name": "web", "image": "placeholder"}]}"#;
    let run = Job::new(Some(&sim))
        .file("migrate.json", template)
        .run(&[INPUTS, &[("migration-task-definition", "migrate.json")]].concat());
    assert_eq!(run.code, 0, "{}", run.log());
    let families: Vec<String> = sim
        .task_definitions()
        .iter()
        .map(|definition| definition["family"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(families, ["shop", "shop-migrate"]);
    let migrated = only_task(&sim);
    assert!(migrated["taskDefinitionArn"]
        .as_str()
        .unwrap()
        .contains("task-definition/shop-migrate:1"));
    assert_eq!(
        migrated["containers"][0]["image"], "shop:2",
        "rendered with the same image"
    );
    assert!(
        run.stdout.contains("::notice::The migration's output is not shown here: container web logs with the none driver, not awslogs. See the task in the console: https://"),
        "{}",
        run.log()
    );
}

#[test]
fn a_dry_run_says_what_it_would_run_and_starts_nothing() {
    let sim = scenario("");
    let run = run_migration(&sim, &[("dry-run", "true")]);
    assert_eq!(run.code, 0, "{}", run.log());
    assert!(
        run.stdout.contains("::notice::Dry run: the migration `bin/rails db:migrate` would run as a one-off task of task definition shop in cluster prod, before any deployment; nothing was started."),
        "{}",
        run.log()
    );
    assert!(sim.calls_to("RunTask").is_empty());
}

#[test]
fn workflow_commands_in_the_task_logs_are_not_obeyed() {
    let sim = scenario(&task_timeline(
        "seconds: 0.5, logs: ['::error::not from ecs-deploy', '::add-mask::secret']",
    ));
    let run = run_migration(&sim, &[]);
    assert_eq!(run.code, 0, "{}", run.log());
    let lines: Vec<&str> = run.stdout.lines().collect();
    let relayed = lines
        .iter()
        .position(|line| *line == "::error::not from ecs-deploy")
        .expect("the line is relayed");
    let stop = lines[..relayed]
        .iter()
        .rev()
        .find_map(|line| line.strip_prefix("::stop-commands::"))
        .expect("commands are stopped before the task's lines");
    let resume = lines[relayed..]
        .iter()
        .position(|line| *line == format!("::{stop}::"))
        .expect("and resumed after them")
        + relayed;
    assert!(lines[relayed..resume].contains(&"::add-mask::secret"));
}

#[test]
fn run_task_retried_after_a_lost_answer_starts_no_second_task() {
    let sim = scenario(&format!(
        "{}faults:\n  - {{service: ecs, operation: RunTask, kind: dropAfter}}\n",
        task_timeline("seconds: 0.3")
    ));
    let run = run_migration(&sim, &[]);
    assert_eq!(run.code, 0, "{}", run.log());
    let calls = sim.calls_to("RunTask");
    assert_eq!(calls.len(), 2, "the lost answer is retried");
    assert_eq!(calls[0].body["clientToken"], calls[1].body["clientToken"]);
    assert_eq!(
        only_task(&sim)["taskArn"],
        run.outputs["migration-task-arn"].as_str()
    );
}

#[test]
fn an_unwritable_job_summary_is_a_warning_after_a_successful_migration() {
    let sim = scenario(&task_timeline("seconds: 0.2, exitCode: 0"));
    let job = Job::new(Some(&sim));
    // A directory cannot be appended to.
    let summary = job.workspace().display().to_string();
    let inputs: Vec<(&str, &str)> = INPUTS.to_vec();
    let run = job.env("GITHUB_STEP_SUMMARY", &summary).run(&inputs);
    assert_eq!(run.code, 0, "{}", run.log());
    assert!(run.stdout.contains("Migration succeeded"), "{}", run.log());
    assert!(
        run.log()
            .contains("::warning::failed to write the job summary"),
        "{}",
        run.log()
    );
    assert_eq!(sim.calls_to("UpdateService").len(), 1, "the deploy went on");
}

#[test]
fn a_missing_migration_container_is_refused_before_anything_is_registered_and_in_a_dry_run() {
    for dry_run in ["false", "true"] {
        let sim = scenario(&task_timeline("seconds: 0.2"));
        let run = run_migration(
            &sim,
            &[("migration-container", "wbe"), ("dry-run", dry_run)],
        );
        assert_eq!(run.code, 1, "dry-run {dry_run}: {}", run.log());
        assert!(
            error_annotation(&run).starts_with(
                "migration-container: task definition shop has no container \"wbe\"; its containers are web, envoy"
            ),
            "dry-run {dry_run}: {}",
            run.log()
        );
        assert!(sim.calls_to("RegisterTaskDefinition").is_empty());
        assert!(sim.calls_to("RunTask").is_empty());
    }
}

#[test]
fn a_separate_migration_template_is_checked_before_anything_is_registered() {
    let sim = scenario(&task_timeline("seconds: 0.2"));
    let run = Job::new(Some(&sim))
        .file(
            "migrate.json",
            r#"{"family": "migrate", "containerDefinitions": [{"name": "runner", "image": "shop:1"}, {"name": "sidecar", "image": "x"}]}"#,
        )
        .run(
            &INPUTS
                .iter()
                .copied()
                .chain([("migration-task-definition", "migrate.json")])
                .collect::<Vec<_>>(),
        );
    assert_eq!(run.code, 1, "{}", run.log());
    assert!(
        error_annotation(&run).starts_with(
            "failed to render the migration task definition migrate.json: container \"web\" is not in task definition migrate; its containers are: runner, sidecar"
        ),
        "{}",
        run.log()
    );
    assert!(sim.calls_to("RegisterTaskDefinition").is_empty());
}

#[test]
fn an_output_that_cannot_be_written_after_run_task_stops_the_task_and_says_so() {
    // RunTask answers 2 s after the task started; the output file's folder
    // is gone by then.
    let sim = sim(&format!(
        "{}faults:\n  - {{service: ecs, operation: RunTask, kind: slowAfter, seconds: 2}}\n",
        scenario_text(&task_timeline("seconds: 600"))
    ));
    let outputs = tempfile::tempdir().unwrap();
    let output_file = outputs.path().join("output").display().to_string();
    let running = Job::new(Some(&sim))
        .env("GITHUB_OUTPUT", &output_file)
        .start(INPUTS);
    assert!(sim.wait_until(Duration::from_secs(20), |sim| !sim.tasks().is_empty()));
    std::fs::remove_dir_all(outputs.path()).unwrap();
    let run = running.finish();
    assert_eq!(run.code, 1, "{}", run.log());
    let task = only_task(&sim)["taskArn"].as_str().unwrap().to_owned();
    assert_eq!(sim.calls_to("StopTask").len(), 1, "{}", run.log());
    assert!(
        error_annotation(&run).contains(&format!(
            "task {task} had started and nothing was deployed; it was stopped with StopTask"
        )),
        "{}",
        run.log()
    );
    assert!(sim.calls_to("UpdateService").is_empty());
}
