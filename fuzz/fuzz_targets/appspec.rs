//! AppSpec handling: any YAML or JSON document is pointed at a task
//! definition or rejected with a message, never a panic.
#![no_main]

use ecs_deploy::deploy::codedeploy::appspec;
use ecs_deploy::template;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for name in ["appspec.yaml", "appspec.json"] {
        if let Ok(mut document) = template::parse_document(name, text) {
            let _ = appspec::set_task_definition(&mut document, "arn:aws:ecs:us-east-1:1:task-definition/shop:2");
        }
    }
});
