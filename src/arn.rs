//! Amazon Resource Names: one parser for their parts, used for console
//! links (the region), names in lines (the resource's last part) and the
//! checks of what an input or a reference names.

/// `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`, borrowed from the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Arn<'a> {
    pub(crate) partition: &'a str,
    pub(crate) service: &'a str,
    /// Empty for global resources (an S3 object, an IAM role).
    pub(crate) region: &'a str,
    pub(crate) account: &'a str,
    /// Everything after the fifth colon, colons included
    /// (`task-definition/shop:7`, `secret:db-AbCdEf:password::`).
    pub(crate) resource: &'a str,
}

impl<'a> Arn<'a> {
    pub(crate) fn parse(text: &'a str) -> Option<Arn<'a>> {
        let mut parts = text.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        let (partition, service, region, account, resource) = (
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
        );
        (!partition.is_empty() && !service.is_empty()).then_some(Arn {
            partition,
            service,
            region,
            account,
            resource,
        })
    }

    /// An ECS task definition's `family:revision`.
    pub(crate) fn task_definition(&self) -> Option<(&'a str, &'a str)> {
        if self.service != "ecs" {
            return None;
        }
        self.resource
            .strip_prefix("task-definition/")?
            .split_once(':')
    }
}

/// The last part of a reference, an ARN or a name: a service's name
/// (`…:service/<cluster>/<name>`), a task's id, a task definition's
/// `family:revision`, or the reference itself when it has no `/`.
pub(crate) fn resource_name(reference: &str) -> &str {
    reference.rsplit('/').next().unwrap_or(reference)
}

/// The region an ARN names; None for a name, or a global resource.
pub(crate) fn region(reference: &str) -> Option<&str> {
    Arn::parse(reference)
        .map(|arn| arn.region)
        .filter(|region| !region.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_of_arns() {
        let arn =
            Arn::parse("arn:aws-cn:ecs:cn-north-1:123456789012:task-definition/shop:7").unwrap();
        assert_eq!(
            (
                arn.partition,
                arn.service,
                arn.region,
                arn.account,
                arn.resource
            ),
            (
                "aws-cn",
                "ecs",
                "cn-north-1",
                "123456789012",
                "task-definition/shop:7"
            )
        );
        assert_eq!(arn.task_definition(), Some(("shop", "7")));
        let secret =
            Arn::parse("arn:aws:secretsmanager:eu-west-1:1:secret:db-AbCdEf:password::").unwrap();
        assert_eq!(secret.resource, "secret:db-AbCdEf:password::");
        assert_eq!(secret.task_definition(), None);
        let object = Arn::parse("arn:aws:s3:::bucket/key.env").unwrap();
        assert_eq!((object.region, object.resource), ("", "bucket/key.env"));
        for not_an_arn in ["shop:7", "arn:aws:ecs", "", "arn::ecs:r:a:x"] {
            assert_eq!(Arn::parse(not_an_arn), None, "{not_an_arn}");
        }
    }

    #[test]
    fn names_and_regions_of_references() {
        assert_eq!(
            resource_name("arn:aws:ecs:us-east-1:1:service/prod/shop-web"),
            "shop-web"
        );
        assert_eq!(
            resource_name("arn:aws:ecs:us-east-1:1:task-definition/shop:7"),
            "shop:7"
        );
        assert_eq!(resource_name("shop-web"), "shop-web");
        assert_eq!(
            region("arn:aws:ecs:eu-west-1:1:service/prod/web"),
            Some("eu-west-1")
        );
        assert_eq!(region("arn:aws:s3:::bucket/key"), None);
        assert_eq!(region("shop-web"), None);
    }
}
