//! Amazon S3 over its REST protocol: GetObject, HeadObject and PutObject,
//! path-style (`/bucket/key`) and virtual-host-style (`bucket.localhost`,
//! `bucket.s3.<anything>`) addressing, XML errors.

use std::collections::BTreeMap;

use crate::reply::{percent_decode, xml_escape, Reply};
use crate::scenario::Scenario;
use crate::world::World;

#[derive(Default)]
pub(crate) struct S3State {
    /// Bucket -> key -> object.
    buckets: BTreeMap<String, BTreeMap<String, S3Object>>,
}

struct S3Object {
    body: Vec<u8>,
    content_type: String,
    last_modified_epoch: i64,
}

pub(crate) fn setup(world: &mut World, scenario: &Scenario) {
    for object in &scenario.s3_objects {
        let stored = S3Object {
            body: object.body.clone().into_bytes(),
            content_type: object
                .content_type
                .clone()
                .unwrap_or_else(|| "application/octet-stream".to_string()),
            last_modified_epoch: world.epoch(world.now) as i64,
        };
        world
            .s3
            .buckets
            .entry(object.bucket.clone())
            .or_default()
            .insert(object.key.clone(), stored);
    }
}

/// A request as S3 sees it: the bucket and key, wherever they were addressed.
pub(crate) struct S3Request {
    pub method: String,
    pub bucket: String,
    pub key: String,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl S3Request {
    pub(crate) fn parse(
        method: &str,
        host: Option<&str>,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> S3Request {
        let path = path.trim_start_matches('/');
        let (bucket, key) = match host.and_then(virtual_host_bucket) {
            Some(bucket) => (bucket.to_string(), path.to_string()),
            None => {
                let (bucket, key) = path.split_once('/').unwrap_or((path, ""));
                (bucket.to_string(), key.to_string())
            }
        };
        S3Request {
            method: method.to_string(),
            bucket: percent_decode(&bucket),
            key: percent_decode(&key),
            content_type: content_type.map(str::to_string),
            body,
        }
    }

    pub(crate) fn operation(&self) -> &'static str {
        match (self.method.as_str(), self.key.is_empty()) {
            ("GET", false) => "GetObject",
            ("HEAD", false) => "HeadObject",
            ("PUT", false) => "PutObject",
            ("GET", true) => "ListObjects",
            ("HEAD", true) => "HeadBucket",
            _ => "Unsupported",
        }
    }
}

fn virtual_host_bucket(host: &str) -> Option<&str> {
    let hostname = host.rsplit_once(':').map_or(host, |(name, _)| name);
    hostname
        .strip_suffix(".localhost")
        .or_else(|| hostname.split_once(".s3.").map(|(bucket, _)| bucket))
        .or_else(|| hostname.split_once(".s3-").map(|(bucket, _)| bucket))
        .filter(|bucket| !bucket.is_empty())
}

/// An S3 error; HEAD answers carry no body, as S3's do.
pub(crate) fn error(status: u16, code: &str, message: &str, request: &S3Request) -> Reply {
    let body = if request.method == "HEAD" {
        String::new()
    } else {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><BucketName>{}</BucketName><Key>{}</Key><RequestId>SIMULATOR</RequestId></Error>",
            xml_escape(&request.bucket),
            xml_escape(&request.key)
        )
    };
    Reply::new(status, body.into_bytes()).header("content-type", "application/xml")
}

pub(crate) fn handle(world: &mut World, request: &S3Request) -> Reply {
    let operation = request.operation();
    if !matches!(operation, "GetObject" | "HeadObject" | "PutObject") {
        return error(
            501,
            "NotImplemented",
            "The simulator implements GetObject, HeadObject and PutObject only.",
            request,
        );
    }
    if operation == "PutObject" {
        let stored = S3Object {
            body: request.body.clone(),
            content_type: request
                .content_type
                .clone()
                .unwrap_or_else(|| "application/octet-stream".to_string()),
            last_modified_epoch: world.epoch(world.now) as i64,
        };
        let etag = etag(&stored.body);
        let bucket = world.s3.buckets.get_mut(&request.bucket);
        let Some(bucket) = bucket else {
            return no_such_bucket(request);
        };
        bucket.insert(request.key.clone(), stored);
        return Reply::new(200, Vec::new()).header("etag", &etag);
    }
    let Some(bucket) = world.s3.buckets.get(&request.bucket) else {
        return no_such_bucket(request);
    };
    let Some(object) = bucket.get(&request.key) else {
        return error(
            404,
            "NoSuchKey",
            "The specified key does not exist.",
            request,
        );
    };
    let body = if operation == "HeadObject" {
        Vec::new()
    } else {
        object.body.clone()
    };
    Reply::new(200, body)
        .header("content-type", &object.content_type)
        .header("content-length", &object.body.len().to_string())
        .header("etag", &etag(&object.body))
        .header("last-modified", &http_date(object.last_modified_epoch))
        .header("accept-ranges", "bytes")
}

fn no_such_bucket(request: &S3Request) -> Reply {
    error(
        404,
        "NoSuchBucket",
        "The specified bucket does not exist",
        request,
    )
}

/// A quoted entity tag derived from the content (FNV-1a, not MD5: clients
/// only compare it).
fn etag(body: &[u8]) -> String {
    let hash = crate::aws::fnv1a(body);
    format!("\"{hash:016x}{hash:016x}\"")
}

/// An IMF-fixdate (RFC 9110), as S3 writes Last-Modified.
fn http_date(epoch: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let rfc3339 = crate::world::rfc3339_from_epoch(epoch);
    let (date, time) = rfc3339.split_once('T').unwrap_or_default();
    let mut parts = date.split('-');
    let (year, month, day) = (
        parts.next().unwrap_or_default(),
        parts
            .next()
            .and_then(|m| m.parse::<usize>().ok())
            .unwrap_or(1),
        parts.next().unwrap_or_default(),
    );
    let weekday = DAYS[epoch.div_euclid(86_400).rem_euclid(7) as usize];
    format!(
        "{weekday}, {day} {} {year} {} GMT",
        MONTHS[month - 1],
        time.trim_end_matches('Z')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_bucket_in_either_addressing_style() {
        let path_style = S3Request::parse(
            "GET",
            Some("127.0.0.1:9000"),
            "/infra/a%20b.json",
            None,
            vec![],
        );
        assert_eq!(
            (path_style.bucket.as_str(), path_style.key.as_str()),
            ("infra", "a b.json")
        );
        let virtual_host = S3Request::parse(
            "GET",
            Some("infra.localhost:9000"),
            "/dir/td.json",
            None,
            vec![],
        );
        assert_eq!(
            (virtual_host.bucket.as_str(), virtual_host.key.as_str()),
            ("infra", "dir/td.json")
        );
        let aws_style = S3Request::parse(
            "HEAD",
            Some("infra.s3.us-east-1.amazonaws.com"),
            "/td.json",
            None,
            vec![],
        );
        assert_eq!(aws_style.bucket, "infra");
        assert_eq!(aws_style.operation(), "HeadObject");
    }

    #[test]
    fn writes_http_dates() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(1_709_251_199), "Thu, 29 Feb 2024 23:59:59 GMT");
    }
}
