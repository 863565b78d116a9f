//! Rendering: any JSON or YAML template, with every kind of setting, renders
//! or fails with a message; diffing and redacting never panic.
#![no_main]

use ecs_deploy::render::{self, ContainerSettings, RenderSpec, TaskSettings};
use ecs_deploy::{diff, template};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(document) = template::parse_document("td.yaml", text) else {
        return;
    };
    let template = template::unwrap_described(document);
    let spec = RenderSpec {
        container_names: vec!["web".into()],
        image: Some("shop:2".into()),
        images: vec![("worker".into(), "worker:2".into())],
        container: ContainerSettings {
            environment: vec![("A".into(), "1".into())],
            secrets: vec![("S".into(), "arn:aws:ssm:us-east-1:1:parameter/s".into())],
            docker_labels: vec![("l".into(), "v".into())],
            log_driver: Some("awslogs".into()),
            log_options: vec![("o".into(), "v".into())],
            command: Some(vec!["run".into()]),
            env_files: Some(vec!["arn:aws:s3:::b/k".into()]),
        },
        task: TaskSettings { cpu: Some("256".into()), ..TaskSettings::default() },
        keep_null_keys: vec!["healthCheck".into()],
    };
    for spec in [&RenderSpec::default(), &spec, &render::restrict_to(&spec, &template)] {
        if let Ok(rendered) = render::render(template.clone(), spec) {
            for change in diff::diff(&render::normalize(template.clone()), &rendered) {
                let _ = change.to_string();
            }
            let _ = render::redacted(&rendered);
        }
    }
});
