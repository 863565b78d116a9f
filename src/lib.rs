//! ecs-deploy: render, register and deploy an Amazon ECS task definition in
//! one GitHub Actions step. `pipeline::run` is the whole program; the other
//! modules are its steps and edges (see ARCHITECTURE.md). Only what the
//! binary, the tests and the fuzz targets use is public.

#![warn(unreachable_pub)]

mod arn;
mod aws;
mod cancel;
pub mod config;
pub mod deploy;
pub mod diff;
pub mod env;
mod event;
mod github;
pub mod inputs;
mod links;
mod migration;
mod outcome;
pub mod pipeline;
mod poll;
mod preflight;
mod present;
mod previous;
pub mod render;
mod revisions;
mod scheduled;
pub mod template;
mod timings;
