//! Amazon EventBridge: rules on event buses and their targets, as a
//! scheduled task is set up (PutRule, PutTargets) and found again
//! (DescribeRule, ListRules, ListTargetsByRule, ListRuleNamesByTarget,
//! ListEventBuses). Targets are
//! kept exactly as they were put.

use serde_json::{json, Map, Value};

use crate::aws::{object, required_str, AwsError, AwsResult, Paging};
use crate::scenario::Scenario;
use crate::world::{str_field, World};

const DEFAULT_BUS: &str = "default";

/// ListTargetsByRule and ListRuleNamesByTarget answer at most 100 a page.
const EVENT_PAGES: Paging = Paging {
    size_member: "Limit",
    token_member: "NextToken",
    default_size: 100,
    max_size: 100,
    error_code: "ValidationException",
};

/// The members of PutRule that DescribeRule answers as they were put.
const RULE_MEMBERS: [&str; 5] = [
    "ScheduleExpression",
    "EventPattern",
    "State",
    "Description",
    "RoleArn",
];

pub(crate) struct EventsState {
    buses: Vec<String>,
    rules: Vec<Rule>,
}

impl Default for EventsState {
    fn default() -> Self {
        EventsState {
            buses: vec![DEFAULT_BUS.to_string()],
            rules: Vec::new(),
        }
    }
}

struct Rule {
    bus: String,
    name: String,
    /// RULE_MEMBERS as put.
    definition: Map<String, Value>,
    /// Each as PutTargets took it, in the order first put.
    targets: Vec<Value>,
}

pub(crate) fn setup(world: &mut World, scenario: &Scenario) -> anyhow::Result<()> {
    for setup in &scenario.event_rules {
        if !world.events.buses.contains(&setup.event_bus) {
            world.events.buses.push(setup.event_bus.clone());
        }
        if find_rule(world, &setup.event_bus, &setup.name).is_some() {
            anyhow::bail!(
                "eventRules: rule {} is on event bus {} twice",
                setup.name,
                setup.event_bus
            );
        }
        for target in &setup.targets {
            if str_field(target, "Id").is_none() || str_field(target, "Arn").is_none() {
                anyhow::bail!(
                    "eventRules: rule {} has a target without Id or Arn: {target}",
                    setup.name
                );
            }
        }
        let definition = definition_of(&json!({
            "ScheduleExpression": setup.schedule_expression,
            "EventPattern": setup.event_pattern,
            "State": setup.state,
        }));
        world.events.rules.push(Rule {
            bus: setup.event_bus.clone(),
            name: setup.name.clone(),
            definition,
            targets: setup.targets.clone(),
        });
    }
    Ok(())
}

pub(crate) fn handle(world: &mut World, operation: &str, body: &Value) -> Option<AwsResult> {
    let result = match operation {
        "PutRule" => put_rule(world, body),
        "DescribeRule" => describe_rule(world, body),
        "PutTargets" => put_targets(world, body),
        "RemoveTargets" => remove_targets(world, body),
        "ListTargetsByRule" => list_targets_by_rule(world, body),
        "ListRuleNamesByTarget" => list_rule_names_by_target(world, body),
        "ListRules" => list_rules(world, body),
        "ListEventBuses" => list_event_buses(world, body),
        _ => return None,
    };
    Some(result)
}

fn not_found(message: String) -> AwsError {
    AwsError::client("ResourceNotFoundException", message)
}

/// The bus EventBusName names (a name or an ARN; default "default"),
/// which must exist.
fn bus(world: &World, body: &Value) -> Result<String, AwsError> {
    let named = str_field(body, "EventBusName").unwrap_or(DEFAULT_BUS);
    let name = named
        .rsplit_once(":event-bus/")
        .map_or(named, |(_, name)| name);
    if world.events.buses.iter().any(|bus| bus == name) {
        Ok(name.to_string())
    } else {
        Err(not_found(format!("Event bus {name} does not exist.")))
    }
}

fn find_rule(world: &World, bus: &str, name: &str) -> Option<usize> {
    world
        .events
        .rules
        .iter()
        .position(|rule| rule.bus == bus && rule.name == name)
}

/// The rule `member` names on the request's bus.
fn requested_rule(world: &World, body: &Value, member: &str) -> Result<usize, AwsError> {
    let bus = bus(world, body)?;
    let name = required_str(body, member)?;
    find_rule(world, &bus, name)
        .ok_or_else(|| not_found(format!("Rule {name} does not exist on EventBus {bus}.")))
}

fn rule_arn(world: &World, rule: &Rule) -> String {
    if rule.bus == DEFAULT_BUS {
        world.arn("events", &format!("rule/{}", rule.name))
    } else {
        world.arn("events", &format!("rule/{}/{}", rule.bus, rule.name))
    }
}

/// PutRule: creates the rule, or replaces the definition of an existing
/// one (its targets stay). Only the default bus has scheduled rules.
fn put_rule(world: &mut World, body: &Value) -> AwsResult {
    let bus = bus(world, body)?;
    let name = required_str(body, "Name")?;
    if str_field(body, "ScheduleExpression").is_none() && str_field(body, "EventPattern").is_none()
    {
        return Err(AwsError::client(
            "ValidationException",
            "Parameter(s) EventPattern or ScheduleExpression must be specified.",
        ));
    }
    if bus != DEFAULT_BUS && str_field(body, "ScheduleExpression").is_some() {
        return Err(AwsError::client(
            "ValidationException",
            "ScheduleExpression is supported only on the default event bus.",
        ));
    }
    let definition = definition_of(body);
    let index = match find_rule(world, &bus, name) {
        Some(index) => {
            world.events.rules[index].definition = definition;
            index
        }
        None => {
            world.events.rules.push(Rule {
                bus,
                name: name.to_string(),
                definition,
                targets: Vec::new(),
            });
            world.events.rules.len() - 1
        }
    };
    Ok(json!({ "RuleArn": rule_arn(world, &world.events.rules[index]) }))
}

/// A rule's definition as a PutRule request gives it: the members
/// DescribeRule answers as put, State ENABLED unless given.
fn definition_of(request: &Value) -> Map<String, Value> {
    let mut definition: Map<String, Value> = RULE_MEMBERS
        .iter()
        .filter_map(|member| {
            let value = request.get(*member).filter(|value| !value.is_null())?;
            Some((member.to_string(), value.clone()))
        })
        .collect();
    definition
        .entry("State")
        .or_insert_with(|| json!("ENABLED"));
    definition
}

fn render_rule(world: &World, rule: &Rule) -> Value {
    let mut described = rule.definition.clone();
    described.insert("Name".to_string(), json!(rule.name));
    described.insert("Arn".to_string(), json!(rule_arn(world, rule)));
    described.insert("EventBusName".to_string(), json!(rule.bus));
    described.insert("CreatedBy".to_string(), json!(world.account));
    Value::Object(described)
}

fn describe_rule(world: &mut World, body: &Value) -> AwsResult {
    let index = requested_rule(world, body, "Name")?;
    Ok(render_rule(world, &world.events.rules[index]))
}

/// PutTargets: each target replaces the rule's target with its Id, or is
/// added.
fn put_targets(world: &mut World, body: &Value) -> AwsResult {
    let index = requested_rule(world, body, "Rule")?;
    let targets = body
        .get("Targets")
        .and_then(Value::as_array)
        .filter(|targets| !targets.is_empty())
        .ok_or_else(|| AwsError::client("ValidationException", "Targets must be specified."))?;
    let rule = &mut world.events.rules[index];
    for target in targets {
        let id = target.get("Id");
        match rule.targets.iter_mut().find(|kept| kept.get("Id") == id) {
            Some(kept) => *kept = target.clone(),
            None => rule.targets.push(target.clone()),
        }
    }
    Ok(json!({ "FailedEntryCount": 0, "FailedEntries": [] }))
}

/// Removes the targets named by `Ids`; an id the rule does not have is a
/// failed entry, as EventBridge answers it.
fn remove_targets(world: &mut World, body: &Value) -> AwsResult {
    let index = requested_rule(world, body, "Rule")?;
    let ids: Vec<Value> = body
        .get("Ids")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let rule = &mut world.events.rules[index];
    let mut failed = Vec::new();
    for id in ids {
        match rule
            .targets
            .iter()
            .position(|kept| kept.get("Id") == Some(&id))
        {
            Some(at) => {
                rule.targets.remove(at);
            }
            None => failed.push(json!({
                "TargetId": id,
                "ErrorCode": "ResourceNotFoundException",
                "ErrorMessage": "The target does not exist.",
            })),
        }
    }
    Ok(json!({ "FailedEntryCount": failed.len(), "FailedEntries": failed }))
}

/// What PutTargets answers when none of the targets could be put: the
/// same shape as success, each target in FailedEntries.
pub(crate) fn every_target_failed(body: &Value) -> Value {
    let failed: Vec<Value> = body
        .get("Targets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|target| {
            json!({
                "TargetId": target.get("Id"),
                "ErrorCode": "ConcurrentModificationException",
                "ErrorMessage": "There is concurrent modification on a rule, target, archive, or replay.",
            })
        })
        .collect();
    json!({ "FailedEntryCount": failed.len(), "FailedEntries": failed })
}

fn list_targets_by_rule(world: &mut World, body: &Value) -> AwsResult {
    let index = requested_rule(world, body, "Rule")?;
    let (page, next_token) = EVENT_PAGES.page(body, &world.events.rules[index].targets)?;
    Ok(object(vec![
        ("Targets", json!(page)),
        ("NextToken", next_token.map_or(Value::Null, Value::from)),
    ]))
}

/// The rules of a bus with a target whose Arn is TargetArn (for an ECS
/// task, the cluster's), in name order.
fn list_rule_names_by_target(world: &mut World, body: &Value) -> AwsResult {
    let bus = bus(world, body)?;
    let target_arn = required_str(body, "TargetArn")?;
    let mut names: Vec<&str> = world
        .events
        .rules
        .iter()
        .filter(|rule| rule.bus == bus)
        .filter(|rule| {
            rule.targets
                .iter()
                .any(|target| str_field(target, "Arn") == Some(target_arn))
        })
        .map(|rule| rule.name.as_str())
        .collect();
    names.sort_unstable();
    let (page, next_token) = EVENT_PAGES.page(body, &names)?;
    Ok(object(vec![
        ("RuleNames", json!(page)),
        ("NextToken", next_token.map_or(Value::Null, Value::from)),
    ]))
}

/// ListRules: the rules of a bus whose name starts with NamePrefix, in
/// name order, as DescribeRule answers them but for CreatedBy (not in
/// ListRules' model).
fn list_rules(world: &mut World, body: &Value) -> AwsResult {
    let bus = bus(world, body)?;
    let prefix = str_field(body, "NamePrefix").unwrap_or("");
    let mut rules: Vec<&Rule> = world
        .events
        .rules
        .iter()
        .filter(|rule| rule.bus == bus && rule.name.starts_with(prefix))
        .collect();
    rules.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    let (page, next_token) = EVENT_PAGES.page(body, &rules)?;
    let listed: Vec<Value> = page
        .iter()
        .map(|rule| {
            let mut listed = render_rule(world, rule);
            if let Value::Object(members) = &mut listed {
                members.remove("CreatedBy");
            }
            listed
        })
        .collect();
    Ok(object(vec![
        ("Rules", json!(listed)),
        ("NextToken", next_token.map_or(Value::Null, Value::from)),
    ]))
}

/// ListEventBuses: the buses whose name starts with NamePrefix, in name
/// order, each with its name and ARN.
fn list_event_buses(world: &mut World, body: &Value) -> AwsResult {
    let prefix = str_field(body, "NamePrefix").unwrap_or("");
    let mut names: Vec<&String> = world
        .events
        .buses
        .iter()
        .filter(|bus| bus.starts_with(prefix))
        .collect();
    names.sort_unstable();
    let (page, next_token) = EVENT_PAGES.page(body, &names)?;
    let buses: Vec<Value> = page
        .iter()
        .map(|name| json!({"Name": name, "Arn": world.arn("events", &format!("event-bus/{name}"))}))
        .collect();
    Ok(object(vec![
        ("EventBuses", json!(buses)),
        ("NextToken", next_token.map_or(Value::Null, Value::from)),
    ]))
}

/// Every rule as DescribeRule answers it, with its targets under "Targets".
pub(crate) fn all_rules(world: &World) -> Vec<Value> {
    world
        .events
        .rules
        .iter()
        .map(|rule| {
            let mut described = render_rule(world, rule);
            described["Targets"] = json!(rule.targets);
            described
        })
        .collect()
}
