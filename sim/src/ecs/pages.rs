//! The pages of ECS list operations: `maxResults` and `nextToken`.

use super::*;

/// One page of a list operation's answer: `items` as `member`, from where
/// the request's nextToken says, at most maxResults of them (1 to 100;
/// `default_size` when absent), and a nextToken when more follow.
pub(super) fn page<T: serde::Serialize>(
    body: &Value,
    member: &str,
    items: &[T],
    default_size: usize,
) -> AwsResult {
    let size = match body.get("maxResults") {
        None | Some(Value::Null) => default_size,
        Some(requested) => requested
            .as_u64()
            .filter(|size| (1..=100).contains(size))
            .and_then(|size| usize::try_from(size).ok())
            .ok_or_else(|| invalid_parameter("maxResults must be between 1 and 100."))?,
    };
    let start = match str_field(body, "nextToken") {
        Some(token) => usize::from_str_radix(token, 16)
            .map_err(|_| invalid_parameter("The specified nextToken is invalid."))?
            .min(items.len()),
        None => 0,
    };
    let end = start.saturating_add(size).min(items.len());
    // The token is the position of the next item: ECS's are opaque too.
    let next_token = (end < items.len()).then(|| format!("{end:016x}"));
    Ok(object(vec![
        (member, json!(&items[start..end])),
        ("nextToken", next_token.map_or(Value::Null, Value::from)),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LETTERS: [&str; 5] = ["a", "b", "c", "d", "e"];

    /// A page of LETTERS, ten a page by default.
    fn letters(body: Value) -> AwsResult {
        page(&body, "items", &LETTERS, 10)
    }

    #[test]
    fn follows_the_tokens_through_every_item_once() {
        let first = letters(json!({"maxResults": 2})).unwrap();
        assert_eq!(first["items"], json!(["a", "b"]));
        let second = letters(json!({"maxResults": 2, "nextToken": first["nextToken"]})).unwrap();
        assert_eq!(second["items"], json!(["c", "d"]));
        let last = letters(json!({"maxResults": 2, "nextToken": second["nextToken"]})).unwrap();
        assert_eq!(
            last,
            json!({"items": ["e"]}),
            "no nextToken on the last page"
        );
    }

    #[test]
    fn answers_a_default_sized_page_without_maxresults() {
        assert_eq!(letters(json!({})).unwrap(), json!({"items": LETTERS}));
        let first = page(&json!({}), "items", &LETTERS, 3).unwrap();
        assert_eq!(first["items"], json!(["a", "b", "c"]));
        assert!(first["nextToken"].is_string());
    }

    #[test]
    fn refuses_sizes_out_of_range_and_tokens_it_did_not_issue() {
        for body in [
            json!({"maxResults": 0}),
            json!({"maxResults": 101}),
            json!({"maxResults": "ten"}),
            json!({"nextToken": "not a token"}),
        ] {
            let error = letters(body.clone()).unwrap_err();
            assert_eq!(error.code, "InvalidParameterException", "{body}");
        }
    }
}
