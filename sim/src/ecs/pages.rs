//! The pages of ECS list operations: `maxResults` and `nextToken`.

use super::*;
use crate::aws::Paging;

/// One page of a list operation's answer: `items` as `member`, from where
/// the request's nextToken says, at most maxResults of them (1 to 100;
/// `default_size` when absent), and a nextToken when more follow.
pub(super) fn page<T: serde::Serialize>(
    body: &Value,
    member: &str,
    items: &[T],
    default_size: usize,
) -> AwsResult {
    let paging = Paging {
        size_member: "maxResults",
        token_member: "nextToken",
        default_size,
        max_size: 100,
        error_code: "InvalidParameterException",
    };
    let (page, next_token) = paging.page(body, items)?;
    Ok(object(vec![
        (member, json!(page)),
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
