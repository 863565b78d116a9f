//! ECS Express Mode services: what a task definition must have for
//! UpdateExpressGatewayService to take it. Pure.

use serde_json::Value;

/// The container Express Mode routes traffic to.
const MAIN: &str = "Main";

/// Why `definition` cannot run an Express service, if it cannot: Express
/// Mode needs a FARGATE-compatible definition whose container `Main` has
/// exactly one TCP port mapping with a name.
pub(crate) fn check_definition(definition: &Value) -> Result<(), String> {
    let fargate = definition["requiresCompatibilities"]
        .as_array()
        .is_some_and(|c| c.iter().any(|c| c == "FARGATE"));
    if !fargate {
        return Err(
            "it must be FARGATE compatible (requiresCompatibilities: [FARGATE])".to_owned(),
        );
    }
    let containers = definition["containerDefinitions"].as_array();
    let Some(main) = containers.into_iter().flatten().find(|c| c["name"] == MAIN) else {
        return Err(format!(
            "it has no container named {MAIN}, the one Express Mode sends traffic to"
        ));
    };
    let mappings = main["portMappings"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    let [mapping] = mappings else {
        return Err(format!(
            "container {MAIN} must have exactly one port mapping, not {}",
            mappings.len()
        ));
    };
    if mapping.get("protocol").is_some_and(|p| p != "tcp") {
        return Err(format!("the port mapping of {MAIN} must be TCP"));
    }
    if mapping["name"].as_str().is_none_or(str::is_empty) {
        return Err(format!("the port mapping of {MAIN} must have a name"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn definition(compatibilities: Value, containers: Value) -> Value {
        json!({"family": "shop", "requiresCompatibilities": compatibilities, "containerDefinitions": containers})
    }

    #[test]
    fn express_mode_takes_a_fargate_definition_with_one_named_tcp_port_on_main() {
        let main = |mappings: Value| json!([{"name": "Main", "image": "shop:2", "portMappings": mappings}]);
        let good = json!([{"containerPort": 8080, "name": "http"}]);
        assert_eq!(
            check_definition(&definition(json!(["FARGATE"]), main(good.clone()))),
            Ok(())
        );
        let cases = [
            (
                definition(json!(["EC2"]), main(good.clone())),
                "it must be FARGATE compatible (requiresCompatibilities: [FARGATE])",
            ),
            (
                definition(
                    json!(["FARGATE"]),
                    json!([{"name": "web", "portMappings": good}]),
                ),
                "it has no container named Main, the one Express Mode sends traffic to",
            ),
            (
                definition(json!(["FARGATE"]), main(json!([]))),
                "container Main must have exactly one port mapping, not 0",
            ),
            (
                definition(
                    json!(["FARGATE"]),
                    main(json!([{"containerPort": 53, "protocol": "udp", "name": "dns"}])),
                ),
                "the port mapping of Main must be TCP",
            ),
            (
                definition(json!(["FARGATE"]), main(json!([{"containerPort": 8080}]))),
                "the port mapping of Main must have a name",
            ),
        ];
        for (definition, why) in cases {
            assert_eq!(check_definition(&definition), Err(why.to_owned()));
        }
    }
}
