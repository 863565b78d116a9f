//! ecs-deploy: render, register and deploy an Amazon ECS task definition in
//! one GitHub Actions step. `pipeline::run` is the whole program; the other
//! modules are its steps and edges (see ARCHITECTURE.md).

pub mod aws;
pub mod cancel;
pub mod config;
pub mod deploy;
pub mod diff;
pub mod env;
pub mod github;
pub mod inputs;
mod links;
pub mod migration;
pub mod outcome;
pub mod pipeline;
pub mod render;
pub mod runner;
pub mod summary;
pub mod template;
