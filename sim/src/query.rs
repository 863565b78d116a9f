//! The awsQuery protocol (Elastic Load Balancing v2): `POST /` with a
//! form-encoded body naming the operation in `Action`, its members
//! flattened into dotted keys (`Names.member.1`, `Attributes.entry.1.key`,
//! `Matcher.HttpCode`); answers in XML, lists as `<member>` elements, and
//! errors as `<ErrorResponse>`. The keys are read into the JSON shape the
//! other services' requests have, by the operation's input shape when the
//! model is there, so that the same checks and handlers apply.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::aws::AwsResult;
use crate::reply::{percent_decode, xml_escape, Reply};

/// What every answer's ResponseMetadata (or an error's RequestId) carries.
const REQUEST_ID: &str = "00000000-0000-4000-8000-000000000000";

/// An awsQuery request: its `Action` and its other parameters as sent.
pub(crate) struct QueryRequest {
    /// As recorded in `Call::operation`: "DescribeTargetGroups", ...
    pub operation: String,
    parameters: Vec<(String, String)>,
}

impl QueryRequest {
    /// The parameters of the URL's query and the form body; `Action` and
    /// `Version` are the protocol's, not the operation's.
    pub(crate) fn parse(query: Option<&str>, body: &[u8]) -> QueryRequest {
        let body = String::from_utf8_lossy(body);
        let mut operation = String::new();
        let mut parameters = Vec::new();
        let pairs = query.unwrap_or_default().split('&').chain(body.split('&'));
        for pair in pairs.filter(|pair| !pair.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |text: &str| percent_decode(&text.replace('+', " "));
            match decode(key).as_str() {
                "Action" => operation = decode(value),
                "Version" => {}
                key => parameters.push((key.to_string(), decode(value))),
            }
        }
        QueryRequest {
            operation,
            parameters,
        }
    }

    /// The parameters as the operation's JSON input: lists from
    /// `X.member.N`, maps from `X.entry.N.key`/`.value`, structures from
    /// `A.B`, numbers and booleans as the shapes type them. Without
    /// shapes (or where a parameter is not in them) the keys' own
    /// structure decides, so that the model's check names what it does
    /// not know.
    pub(crate) fn to_json(&self, shapes: Option<(&Map<String, Value>, Option<&str>)>) -> Value {
        let mut tree = Node::Branch(BTreeMap::new());
        for (key, value) in &self.parameters {
            tree.insert(key.split('.'), value);
        }
        let (shapes, input) = match shapes {
            Some((shapes, input)) => (Some(shapes), input),
            None => (None, None),
        };
        Reader { shapes }.read(&tree, input)
    }
}

/// The parameters' keys split at their dots.
enum Node {
    Leaf(String),
    Branch(BTreeMap<String, Node>),
}

impl Node {
    fn insert<'a>(&mut self, mut path: impl Iterator<Item = &'a str>, value: &str) {
        let Some(step) = path.next() else {
            // A key that is also a prefix of others keeps its children.
            if !matches!(self, Node::Branch(children) if !children.is_empty()) {
                *self = Node::Leaf(value.to_string());
            }
            return;
        };
        if let Node::Leaf(_) = self {
            *self = Node::Branch(BTreeMap::new());
        }
        if let Node::Branch(children) = self {
            children
                .entry(step.to_string())
                .or_insert_with(|| Node::Branch(BTreeMap::new()))
                .insert(path, value);
        }
    }
}

/// Reads parameter trees as the model's shapes type them.
struct Reader<'a> {
    shapes: Option<&'a Map<String, Value>>,
}

impl Reader<'_> {
    fn shape(&self, name: Option<&str>) -> Option<&Value> {
        self.shapes
            .zip(name)
            .and_then(|(shapes, name)| shapes.get(name))
    }

    fn read(&self, node: &Node, shape_name: Option<&str>) -> Value {
        let shape = self.shape(shape_name);
        let kind = shape.and_then(|shape| shape["type"].as_str());
        match (node, kind) {
            (Node::Leaf(text), Some(kind)) => scalar(text, kind),
            (Node::Leaf(text), None) => Value::from(text.as_str()),
            (Node::Branch(children), Some("structure")) => {
                self.structure(children, shape.unwrap_or(&Value::Null))
            }
            (Node::Branch(children), Some("list")) => {
                let shape = shape.unwrap_or(&Value::Null);
                let flattened = shape.get("flattened") == Some(&Value::Bool(true));
                let item = shape["member"]["shape"].as_str();
                match (flattened, children.get("member")) {
                    (true, _) => self.items(children, item),
                    (false, Some(Node::Branch(items))) if children.len() == 1 => {
                        self.items(items, item)
                    }
                    _ => self.untyped(node),
                }
            }
            (Node::Branch(children), Some("map")) => match children.get("entry") {
                Some(Node::Branch(entries)) if children.len() == 1 => {
                    self.entries(entries, shape.unwrap_or(&Value::Null))
                }
                _ => self.untyped(node),
            },
            (Node::Branch(_), _) => self.untyped(node),
        }
    }

    fn structure(&self, children: &BTreeMap<String, Node>, shape: &Value) -> Value {
        let members = shape.get("members").and_then(Value::as_object);
        let read = children.iter().map(|(key, child)| {
            // A member is sent under its locationName, if it has one.
            let member = members.into_iter().flatten().find(|(name, member)| {
                member
                    .get("locationName")
                    .and_then(Value::as_str)
                    .unwrap_or(name)
                    == key
            });
            match member {
                Some((name, member)) => (name.clone(), self.read(child, member["shape"].as_str())),
                None => (key.clone(), self.untyped(child)),
            }
        });
        Value::Object(read.collect())
    }

    /// A list's items, `1` to `N`, in number order.
    fn items(&self, items: &BTreeMap<String, Node>, item: Option<&str>) -> Value {
        let mut numbered: Vec<(u64, &Node)> = items
            .iter()
            .map(|(index, node)| (index.parse().unwrap_or(u64::MAX), node))
            .collect();
        numbered.sort_by_key(|(index, _)| *index);
        numbered
            .into_iter()
            .map(|(_, node)| self.read(node, item))
            .collect()
    }

    fn entries(&self, entries: &BTreeMap<String, Node>, shape: &Value) -> Value {
        let value_shape = shape["value"]["shape"].as_str();
        let read = entries.values().filter_map(|entry| match entry {
            Node::Branch(parts) => match (parts.get("key"), parts.get("value")) {
                (Some(Node::Leaf(key)), Some(value)) => {
                    Some((key.clone(), self.read(value, value_shape)))
                }
                _ => None,
            },
            Node::Leaf(_) => None,
        });
        Value::Object(read.collect())
    }

    /// A tree read by its keys alone: `member` lists, else structures.
    fn untyped(&self, node: &Node) -> Value {
        match node {
            Node::Leaf(text) => Value::from(text.as_str()),
            Node::Branch(children) => match children.get("member") {
                Some(Node::Branch(items)) if children.len() == 1 => self.items(items, None),
                _ => Value::Object(
                    children
                        .iter()
                        .map(|(key, child)| (key.clone(), self.untyped(child)))
                        .collect(),
                ),
            },
        }
    }
}

/// A parameter's text as its shape types it; text that is not what the
/// shape wants stays text, for the check to refuse.
fn scalar(text: &str, kind: &str) -> Value {
    let number = match kind {
        "integer" | "long" => text.parse::<i64>().ok().map(Value::from),
        "float" | "double" => text.parse::<f64>().ok().map(Value::from),
        "boolean" => match text {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        // An empty list is sent as its bare name.
        "list" if text.is_empty() => Some(Value::Array(Vec::new())),
        _ => None,
    };
    number.unwrap_or_else(|| Value::from(text))
}

/// The answer in awsQuery's XML: `<OpResponse><OpResult>...` with the
/// result's members, or `<ErrorResponse>` with the error's code, message
/// and HTTP status.
pub(crate) fn reply(namespace: &str, operation: &str, result: AwsResult) -> Reply {
    let (status, document) = match result {
        Ok(result) => {
            let mut members = String::new();
            write_members(&mut members, &result);
            let document = format!(
                "<{operation}Response xmlns=\"{namespace}\"><{operation}Result>{members}</{operation}Result>\
                 <ResponseMetadata><RequestId>{REQUEST_ID}</RequestId></ResponseMetadata></{operation}Response>"
            );
            (200, document)
        }
        Err(error) => {
            let fault = if error.status >= 500 {
                "Receiver"
            } else {
                "Sender"
            };
            let document = format!(
                "<ErrorResponse xmlns=\"{namespace}\"><Error><Type>{fault}</Type><Code>{}</Code>\
                 <Message>{}</Message></Error><RequestId>{REQUEST_ID}</RequestId></ErrorResponse>",
                xml_escape(&error.code),
                xml_escape(&error.message)
            );
            (error.status, document)
        }
    };
    Reply::new(status, document.into_bytes())
        .header("content-type", "text/xml")
        .header("x-amzn-requestid", REQUEST_ID)
}

/// A value's XML content: an object's members as elements, a list's items
/// as `<member>` elements, a scalar as escaped text; null members are left
/// out, as AWS leaves out unset members.
fn write_members(out: &mut String, value: &Value) {
    match value {
        Value::Object(members) => {
            for (name, member) in members.iter().filter(|(_, member)| !member.is_null()) {
                out.push_str(&format!("<{name}>"));
                write_members(out, member);
                out.push_str(&format!("</{name}>"));
            }
        }
        Value::Array(items) => {
            for item in items {
                out.push_str("<member>");
                write_members(out, item);
                out.push_str("</member>");
            }
        }
        Value::String(text) => out.push_str(&xml_escape(text)),
        Value::Null => {}
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::AwsError;
    use serde_json::json;

    fn shapes() -> Map<String, Value> {
        json!({
            "Input": {"type": "structure", "members": {
                "Names": {"shape": "Names"},
                "PageSize": {"shape": "Size"},
                "Enabled": {"shape": "Flag"},
                "Matcher": {"shape": "Matcher"},
                "Tags": {"shape": "Tags"}
            }},
            "Names": {"type": "list", "member": {"shape": "Name"}},
            "Name": {"type": "string"},
            "Size": {"type": "integer"},
            "Flag": {"type": "boolean"},
            "Matcher": {"type": "structure", "members": {"HttpCode": {"shape": "Name"}}},
            "Tags": {"type": "map", "key": {"shape": "Name"}, "value": {"shape": "Name"}}
        })
        .as_object()
        .unwrap()
        .clone()
    }

    #[test]
    fn reads_the_parameters_into_the_input_shape() {
        let body = "Action=Describe&Version=2015-12-01&Names.member.2=b&Names.member.1=a%2Fx\
                    &Names.member.10=j&PageSize=5&Enabled=true&Matcher.HttpCode=200-299\
                    &Tags.entry.1.key=team&Tags.entry.1.value=a+b&Other.member.1=x";
        let request = QueryRequest::parse(None, body.as_bytes());
        assert_eq!(request.operation, "Describe");
        let shapes = shapes();
        assert_eq!(
            request.to_json(Some((&shapes, Some("Input")))),
            json!({
                "Names": ["a/x", "b", "j"], "PageSize": 5, "Enabled": true,
                "Matcher": {"HttpCode": "200-299"}, "Tags": {"team": "a b"},
                "Other": ["x"]
            })
        );
        // Without a model, the keys' own structure.
        assert_eq!(
            QueryRequest::parse(None, b"Action=A&Names.member.1=a&PageSize=5").to_json(None),
            json!({"Names": ["a"], "PageSize": "5"})
        );
        assert_eq!(
            QueryRequest::parse(None, b"Action=A").to_json(None),
            json!({})
        );
    }

    #[test]
    fn answers_in_xml_with_escaped_text() {
        let ok = reply(
            "urn:ns",
            "Describe",
            Ok(json!({"Groups": [{"Name": "a<b", "On": true, "Port": 80, "Gone": null}]})),
        );
        assert_eq!(ok.status, 200);
        assert_eq!(
            String::from_utf8(ok.body).unwrap(),
            "<DescribeResponse xmlns=\"urn:ns\"><DescribeResult><Groups><member><Name>a&lt;b</Name>\
             <On>true</On><Port>80</Port></member></Groups></DescribeResult><ResponseMetadata>\
             <RequestId>00000000-0000-4000-8000-000000000000</RequestId></ResponseMetadata></DescribeResponse>"
        );
        let error = reply(
            "urn:ns",
            "Describe",
            Err(AwsError::new(403, "AccessDenied", "not 'you' & me")),
        );
        assert_eq!(error.status, 403);
        assert_eq!(
            String::from_utf8(error.body).unwrap(),
            "<ErrorResponse xmlns=\"urn:ns\"><Error><Type>Sender</Type><Code>AccessDenied</Code>\
             <Message>not &apos;you&apos; &amp; me</Message></Error>\
             <RequestId>00000000-0000-4000-8000-000000000000</RequestId></ErrorResponse>"
        );
    }
}
