//! The simulator's integration tests, one module per file beside this one,
//! built as one binary: each test binary links the whole dependency graph
//! (the AWS SDK among it).

mod common;

mod codedeploy_sdk;
mod ecr_sdk;
mod ecs_lifecycle_hooks;
mod ecs_sdk;
mod ecs_service_tasks;
mod ecs_timelines;
mod elbv2_sdk;
mod eventbridge_sdk;
mod express_sdk;
mod faults;
mod github;
mod logs_sdk;
mod moto_compat;
mod rehearse;
mod s3_sdk;
mod scenarios;
mod scheduler_sdk;
mod secretsmanager_sdk;
mod serve;
mod ssm_sdk;
