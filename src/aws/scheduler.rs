//! EventBridge Scheduler calls: schedules listed, and read and written as
//! raw JSON (`raw`), so that members this build does not know go back as
//! they were.

use anyhow::{anyhow, Context, Result};
use aws_sdk_scheduler::types::ScheduleSummary;
use aws_sdk_scheduler::Client;
use serde_json::Value;

use super::raw::{replace_body, ResponseBody};
use super::{error_code, explain};

/// ListSchedules of every group, page after page.
pub(crate) async fn list_schedules(scheduler: &Client) -> Result<Vec<ScheduleSummary>> {
    let mut schedules = Vec::new();
    let mut pages = scheduler.list_schedules().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            anyhow!(
                "failed to list the EventBridge Scheduler schedules: {}",
                explain("scheduler:ListSchedules", &e)
            )
        })?;
        schedules.extend(page.schedules().iter().cloned());
    }
    Ok(schedules)
}

/// The schedule as GetSchedule answers it, raw; None when it no longer
/// exists.
pub(crate) async fn get_schedule(
    scheduler: &Client,
    group: &str,
    name: &str,
) -> Result<Option<Value>> {
    let body = ResponseBody::default();
    let answer = scheduler
        .get_schedule()
        .name(name)
        .group_name(group)
        .customize()
        .interceptor(body.clone())
        .send()
        .await;
    match answer {
        Ok(_) => {
            Ok(Some(body.json().with_context(|| {
                format!("failed to read schedule {name}")
            })?))
        }
        Err(e) if error_code(&e) == Some("ResourceNotFoundException") => Ok(None),
        Err(e) => Err(anyhow!(
            "failed to read schedule {name} of group {group}: {}",
            explain("scheduler:GetSchedule", &e)
        )),
    }
}

/// UpdateSchedule of `name` with `update` as its whole body (the group is
/// one of its members).
pub(crate) async fn update_schedule(scheduler: &Client, name: &str, update: &Value) -> Result<()> {
    let body = serde_json::to_vec(update)?;
    scheduler
        .update_schedule()
        .name(name)
        .customize()
        .mutate_request(move |request| replace_body(request, body.clone()))
        .send()
        .await
        .map_err(|e| anyhow!("{}", explain("scheduler:UpdateSchedule", &e)))?;
    Ok(())
}
