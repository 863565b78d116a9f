//! An HTTP answer, independent of the server library, so that the S3 and
//! GitHub modules stay plain functions.

use serde_json::Value;

pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub(crate) fn new(status: u16, body: Vec<u8>) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body,
        }
    }

    pub(crate) fn json(status: u16, body: &Value) -> Reply {
        Reply::new(status, body.to_string().into_bytes()).header("content-type", "application/json")
    }

    pub(crate) fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}
