//! A container's CloudWatch Logs stream: where it is (`log_source`, from the
//! task definition's awslogs options), following it (`LogTail`: every
//! event printed once, in the order written, by paging GetLogEvents forward
//! from the head of the stream with the token of the previous page), and
//! the last lines of a stopped task's (`last_lines`); whether a log group
//! exists (`log_group_lookup`).

use std::collections::VecDeque;

use anyhow::{anyhow, Result};
use aws_sdk_cloudwatchlogs::error::SdkError;
use aws_sdk_cloudwatchlogs::operation::get_log_events::{GetLogEventsError, GetLogEventsOutput};
use aws_sdk_cloudwatchlogs::Client;
use serde_json::Value;

use super::errors::lookup_refused;
use super::{error_code, explain, Aws};
use crate::preflight::verdict::Lookup;

/// Lines kept for a failure message.
pub(crate) const RECENT_LINES: usize = 20;
/// Pages read in one drain; the rest waits for the next one.
const MAX_PAGES: usize = 100;

/// A container's CloudWatch Logs destination under the awslogs driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogSource {
    pub group: String,
    /// `<awslogs-stream-prefix>/<container>/`; the task ID completes it.
    pub stream_prefix: String,
    /// awslogs-region, when it names one.
    pub region: Option<String>,
}

impl LogSource {
    pub(crate) fn stream(&self, task_id: &str) -> String {
        format!("{}{task_id}", self.stream_prefix)
    }
}

/// Where `container` of `definition` writes its output, or why its output
/// cannot be read here.
pub(crate) fn log_source(definition: &Value, container: &str) -> Result<LogSource, String> {
    let Some(found) = definition["containerDefinitions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["name"] == container)
    else {
        return Err(format!(
            "container {container} is not in the task definition"
        ));
    };
    let logging = &found["logConfiguration"];
    let driver = logging["logDriver"].as_str().unwrap_or("none");
    if driver != "awslogs" {
        return Err(format!(
            "container {container} logs with the {driver} driver, not awslogs"
        ));
    }
    let option = |key: &str| logging["options"][key].as_str().map(String::from);
    match (option("awslogs-group"), option("awslogs-stream-prefix")) {
        (Some(group), Some(prefix)) => Ok(LogSource {
            group,
            stream_prefix: format!("{prefix}/{container}/"),
            region: option("awslogs-region"),
        }),
        (None, _) => Err(format!(
            "container {container} has no awslogs-group option"
        )),
        (Some(_), None) => Err(format!(
            "container {container} has no awslogs-stream-prefix option, so its stream is named after the Docker container ID"
        )),
    }
}

/// The last `RECENT_LINES` events of `group`/`stream`, oldest first: one
/// GetLogEvents from the end of the stream, however long it is. None when
/// the stream does not exist (the container wrote nothing).
pub(crate) async fn last_lines(
    client: &Client,
    group: &str,
    stream: &str,
) -> Result<Option<Vec<String>>> {
    let page = client
        .get_log_events()
        .log_group_name(group)
        .log_stream_name(stream)
        .start_from_head(false)
        .limit(RECENT_LINES as i32)
        .send()
        .await;
    Ok(read(page, group, stream)?.map(|page| page_lines(&page)))
}

/// A page of GetLogEvents; None for a stream that does not exist yet.
fn read(
    page: Result<GetLogEventsOutput, SdkError<GetLogEventsError>>,
    group: &str,
    stream: &str,
) -> Result<Option<GetLogEventsOutput>> {
    match page {
        Ok(page) => Ok(Some(page)),
        Err(e) if error_code(&e) == Some("ResourceNotFoundException") => Ok(None),
        Err(e) => Err(anyhow!(
            "failed to read log stream {stream} of group {group}: {}",
            explain("logs:GetLogEvents", &e)
        )),
    }
}

/// The page's events as lines, without the line ends the awslogs driver
/// keeps.
fn page_lines(page: &GetLogEventsOutput) -> Vec<String> {
    page.events()
        .iter()
        .map(|event| {
            let message = event.message().unwrap_or_default();
            message.trim_end_matches(['\n', '\r']).to_owned()
        })
        .collect()
}

pub(crate) struct LogTail {
    client: Client,
    group: String,
    stream: String,
    /// The forward token of the last page read; None before the first.
    next_token: Option<String>,
    recent: VecDeque<String>,
}

impl LogTail {
    /// A tail of `group`/`stream`, read with `client` (of the log
    /// configuration's region).
    pub(crate) fn new(client: Client, group: &str, stream: &str) -> LogTail {
        LogTail {
            client,
            group: group.to_owned(),
            stream: stream.to_owned(),
            next_token: None,
            recent: VecDeque::new(),
        }
    }

    /// Hands `print` every event written since the last drain, in order, a
    /// page at a time as each arrives: a burst reaches the log as it is
    /// read, and only one page is held at once. A stream that does not
    /// exist yet (the container has not written) has none.
    pub(crate) async fn drain(&mut self, mut print: impl FnMut(&[String])) -> Result<()> {
        for _ in 0..MAX_PAGES {
            let sent = self.next_token.clone();
            let page = self
                .client
                .get_log_events()
                .log_group_name(&self.group)
                .log_stream_name(&self.stream)
                .start_from_head(true)
                .set_next_token(sent.clone())
                .send()
                .await;
            let Some(page) = read(page, &self.group, &self.stream)? else {
                return Ok(());
            };
            let lines = page_lines(&page);
            for line in lines.iter().rev().take(RECENT_LINES).rev() {
                if self.recent.len() == RECENT_LINES {
                    self.recent.pop_front();
                }
                self.recent.push_back(line.clone());
            }
            if !lines.is_empty() {
                print(&lines);
            }
            // The same token back means the end of the stream for now.
            self.next_token = page.next_forward_token().map(String::from);
            if self.next_token.is_none() || self.next_token == sent {
                break;
            }
        }
        Ok(())
    }

    /// The last lines read, oldest first.
    pub(crate) fn recent(&self) -> impl Iterator<Item = &str> {
        self.recent.iter().map(String::as_str)
    }
}

pub(crate) async fn log_group_lookup(aws: &Aws, name: &str, region: Option<&str>) -> Lookup {
    let logs = Client::new(&aws.config_in(region));
    // The group itself sorts first among the groups its name begins.
    let answer = logs
        .describe_log_groups()
        .log_group_name_prefix(name)
        .limit(1)
        .send()
        .await;
    match answer {
        Ok(answer) => {
            let groups = answer.log_groups.unwrap_or_default();
            if groups
                .iter()
                .any(|g| g.log_group_name.as_deref() == Some(name))
            {
                Lookup::Found
            } else {
                Lookup::Missing
            }
        }
        Err(error) => lookup_refused(
            &error,
            "logs:DescribeLogGroups",
            &["ResourceNotFoundException"],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn log_sources_come_from_awslogs_options() {
        let definition = json!({
            "family": "shop",
            "containerDefinitions": [
                {"name": "web", "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/shop", "awslogs-stream-prefix": "ecs", "awslogs-region": "eu-west-1"}}},
                {"name": "envoy"},
                {"name": "log-router", "logConfiguration": {"logDriver": "awsfirelens"}},
                {"name": "worker", "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/shop"}}},
            ]
        });
        assert_eq!(
            log_source(&definition, "web"),
            Ok(LogSource {
                group: "/ecs/shop".into(),
                stream_prefix: "ecs/web/".into(),
                region: Some("eu-west-1".into())
            })
        );
        assert_eq!(
            log_source(&definition, "web").unwrap().stream("abc"),
            "ecs/web/abc"
        );
        assert_eq!(
            log_source(&definition, "envoy"),
            Err("container envoy logs with the none driver, not awslogs".into())
        );
        assert_eq!(
            log_source(&definition, "log-router"),
            Err("container log-router logs with the awsfirelens driver, not awslogs".into())
        );
        assert_eq!(
            log_source(&definition, "worker"),
            Err("container worker has no awslogs-stream-prefix option, so its stream is named after the Docker container ID".into())
        );
        assert_eq!(
            log_source(&definition, "db"),
            Err("container db is not in the task definition".into())
        );
    }
}
