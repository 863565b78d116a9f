//! The load balancer target groups a service registers its tasks with, read
//! for the deploy time breakdown's advice.

use aws_sdk_elasticloadbalancingv2::types::TargetGroup;
use aws_sdk_elasticloadbalancingv2::Client;

use super::{explain, Aws};

/// DescribeTargetGroups takes at most this many ARNs a call.
const TARGET_GROUPS_A_CALL: usize = 20;

/// The target groups `arns` names, each with its attributes (key, value);
/// the error explained.
pub(crate) async fn target_groups(
    aws: &Aws,
    arns: &[String],
) -> Result<Vec<(TargetGroup, Vec<(String, String)>)>, String> {
    let elb = Client::new(&aws.config_in(None));
    let mut groups = Vec::new();
    for batch in arns.chunks(TARGET_GROUPS_A_CALL) {
        let described = elb
            .describe_target_groups()
            .set_target_group_arns(Some(batch.to_vec()))
            .send()
            .await
            .map_err(|e| explain("elasticloadbalancing:DescribeTargetGroups", &e))?;
        groups.extend(described.target_groups().iter().cloned());
    }
    let attributes = futures::future::join_all(groups.iter().map(|group| async {
        let arn = group.target_group_arn().unwrap_or_default();
        let described = elb
            .describe_target_group_attributes()
            .target_group_arn(arn)
            .send()
            .await
            .map_err(|e| explain("elasticloadbalancing:DescribeTargetGroupAttributes", &e))?;
        Ok::<_, String>(
            described
                .attributes()
                .iter()
                .filter_map(|a| Some((a.key()?.to_owned(), a.value()?.to_owned())))
                .collect(),
        )
    }))
    .await;
    groups
        .into_iter()
        .zip(attributes)
        .map(|(group, attributes)| Ok((group, attributes?)))
        .collect()
}
