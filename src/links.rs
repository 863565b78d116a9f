//! Links to the AWS console, which lives on a different host in each
//! partition: one rule for the host, one function per page. Each part taken
//! from a name or an ARN is percent-encoded, so that a link stays one URL
//! in the log and in a Markdown link.

use crate::arn::{self, resource_name, Arn};
use crate::present::summary::code;

/// `part` as one URL path segment or query value: everything but RFC 3986's
/// unreserved characters is percent-encoded.
pub(crate) fn encoded(part: &str) -> String {
    part.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// The console's host for `region`.
fn console_host(region: &str) -> String {
    let region = encoded(region);
    if region.starts_with("cn-") {
        "console.amazonaws.cn".to_owned()
    } else if region.starts_with("us-gov-") {
        "console.amazonaws-us-gov.com".to_owned()
    } else {
        format!("{region}.console.aws.amazon.com")
    }
}

/// The region of the console page of a resource: the one its ARN names, else
/// us-east-1, since a link that opens the console is better than none.
pub(crate) fn region_of(resource_arn: Option<&str>) -> &str {
    resource_arn.and_then(arn::region).unwrap_or("us-east-1")
}

/// A task's page, in the region its ARN names.
pub(crate) fn task(cluster: &str, task_arn: &str) -> String {
    let region = region_of(Some(task_arn));
    let task_id = resource_name(task_arn);
    format!(
        "https://{}/ecs/v2/clusters/{}/tasks/{}/configuration?region={}",
        console_host(region),
        encoded(cluster),
        encoded(task_id),
        encoded(region)
    )
}

/// A service's events page.
pub(crate) fn service_events(region: &str, cluster: &str, service: &str) -> String {
    format!(
        "https://{}/ecs/v2/clusters/{}/services/{}/events?region={}",
        console_host(region),
        encoded(cluster),
        encoded(service),
        encoded(region)
    )
}

/// A CodeDeploy deployment's page.
pub(crate) fn codedeploy_deployment(region: &str, deployment_id: &str) -> String {
    format!(
        "https://{}/codesuite/codedeploy/deployments/{}?region={}",
        console_host(region),
        encoded(deployment_id),
        encoded(region)
    )
}

/// `family:revision` as Markdown, linked to the task definition's page in
/// the region its ARN names; the plain name when `arn` is not a task
/// definition ARN.
pub(crate) fn task_definition_markdown(reference: &str) -> String {
    let Some(arn) = Arn::parse(reference) else {
        return code(reference);
    };
    let Some((family, revision)) = arn.task_definition() else {
        return code(reference);
    };
    let region = arn.region;
    format!(
        "[{}](https://{}/ecs/v2/task-definitions/{}/{}/containers?region={})",
        code(&format!("{family}:{revision}")),
        console_host(region),
        encoded(family),
        encoded(revision),
        encoded(region)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_is_on_its_partitions_console() {
        let cases = [
            ("eu-west-1", "https://eu-west-1.console.aws.amazon.com/"),
            ("cn-north-1", "https://console.amazonaws.cn/"),
            ("us-gov-west-1", "https://console.amazonaws-us-gov.com/"),
        ];
        for (region, start) in cases {
            let arn = format!("arn:aws:ecs:{region}:123456789012:task-definition/shop:7");
            let task_arn = format!("arn:aws:ecs:{region}:123456789012:task/prod/abc123");
            for link in [
                task("prod", &task_arn),
                codedeploy_deployment(region, "d-ABC"),
                task_definition_markdown(&arn),
            ] {
                assert!(
                    link.trim_start_matches("[`shop:7`](").starts_with(start),
                    "{link}"
                );
                assert!(link.contains(&format!("?region={region}")), "{link}");
            }
        }
    }

    #[test]
    fn each_page_has_its_path() {
        assert_eq!(
            task("prod", "arn:aws:ecs:eu-west-1:1:task/prod/abc123"),
            "https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/prod/tasks/abc123/configuration?region=eu-west-1"
        );
        assert_eq!(
            codedeploy_deployment("eu-west-1", "d-ABC"),
            "https://eu-west-1.console.aws.amazon.com/codesuite/codedeploy/deployments/d-ABC?region=eu-west-1"
        );
        assert_eq!(
            task_definition_markdown("arn:aws-cn:ecs:cn-north-1:123456789012:task-definition/shop:7"),
            "[`shop:7`](https://console.amazonaws.cn/ecs/v2/task-definitions/shop/7/containers?region=cn-north-1)"
        );
        assert_eq!(task_definition_markdown("shop:7"), "`shop:7`");
        // A task whose ARN names no region still gets a link that opens.
        assert_eq!(
            task("prod", "abc123"),
            "https://us-east-1.console.aws.amazon.com/ecs/v2/clusters/prod/tasks/abc123/configuration?region=us-east-1"
        );
    }

    #[test]
    fn a_name_cannot_leave_its_link() {
        assert_eq!(
            task_definition_markdown("arn:aws:ecs:eu-west-1:1:task-definition/a`b](x) <y>:7"),
            "[`` a`b](x) <y>:7 ``](https://eu-west-1.console.aws.amazon.com/ecs/v2/task-definitions/a%60b%5D%28x%29%20%3Cy%3E/7/containers?region=eu-west-1)"
        );
        assert_eq!(
            task_definition_markdown("shop|x\n::error::y"),
            "`shop\\|x ::error::y`"
        );
        assert_eq!(
            task("prod)\n", "arn:aws:ecs:eu-west-1:1:task/prod/a b"),
            "https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/prod%29%0A/tasks/a%20b/configuration?region=eu-west-1"
        );
    }
}
