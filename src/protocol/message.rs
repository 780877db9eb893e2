//! Envelopes: parsing requests tolerantly, emitting responses and events in
//! the device form (protocol.md §2), and reading frames on the client side.

use super::codes;
use super::wire::to_device_string;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::fmt;

/// Deepest JSON nesting accepted (protocol.md §2).
pub const MAX_DEPTH: usize = 128;

/// A request id: a JSON string or number, kept exactly as written so that big
/// integers are echoed without float rounding. `null` is allowed too (an
/// explicit `"id": null` is a request, answered with `id` null).
#[derive(Clone)]
pub struct Id(Box<RawValue>);

impl Id {
    /// `null`.
    pub fn null() -> Id {
        Id(RawValue::from_string("null".into()).expect("null is JSON"))
    }

    /// A numeric id.
    pub fn number(n: u64) -> Id {
        Id(RawValue::from_string(n.to_string()).expect("a number is JSON"))
    }

    /// A string id (escaped as JSON).
    pub fn string(s: &str) -> Id {
        Id(
            RawValue::from_string(serde_json::to_string(s).expect("strings serialise"))
                .expect("JSON string"),
        )
    }

    /// The id exactly as it was written.
    pub fn raw(&self) -> &RawValue {
        &self.0
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.get())
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.get())
    }
}

impl PartialEq for Id {
    fn eq(&self, other: &Id) -> bool {
        self.0.get() == other.0.get()
    }
}

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    /// `Query`: read a node.
    Query,
    /// `Call/<Module>`, with the module name as written.
    Call(String),
    /// `Subscribe` (or `subscribe`): receive a node's events.
    Subscribe,
    /// `Unsubscribe` (or `unsubscribe`): stop receiving them.
    Unsubscribe,
    /// Any other method string: answered with error 9.
    Other(String),
}

impl Method {
    /// What a `method` string asks for (unknown strings are kept as `Other`).
    pub fn parse(s: &str) -> Method {
        match s {
            "Query" => Method::Query,
            "Subscribe" | "subscribe" => Method::Subscribe,
            "Unsubscribe" | "unsubscribe" => Method::Unsubscribe,
            _ => match s.strip_prefix("Call/") {
                Some(module) => Method::Call(module.to_string()),
                None => Method::Other(s.to_string()),
            },
        }
    }
}

/// A well-formed request.
#[derive(Debug, Clone)]
pub struct Request {
    /// `None` for a notification (no `id` member): processed, not answered.
    pub id: Option<Id>,
    /// The method string exactly as sent (echoed in the response).
    pub method_name: String,
    /// What `method_name` asks for.
    pub method: Method,
    /// `params`, or an empty object when absent or not an object.
    pub params: Map<String, Value>,
}

impl Request {
    /// Build a request (client side).
    pub fn new(id: Option<Id>, method: &str, params: Value) -> Request {
        let params = match params {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        Request {
            id,
            method_name: method.to_string(),
            method: Method::parse(method),
            params,
        }
    }

    /// `params.path` as strings: `Ok(None)` when absent, `Err` when it is not
    /// an array of strings.
    pub fn path(&self) -> Result<Option<Vec<String>>, RpcError> {
        match self.params.get("path") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(RpcError::new(
                        codes::PARAMETER_ERROR,
                        format!("path elements must be strings, got {}", json_type(other)),
                    )),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(other) => Err(RpcError::new(
                codes::PARAMETER_ERROR,
                format!("path must be an array of strings, got {}", json_type(other)),
            )),
        }
    }

    /// The request in the wire form a client sends.
    pub fn to_text(&self) -> String {
        #[derive(Serialize)]
        struct Out<'a> {
            jsonrpc: &'static str,
            #[serde(skip_serializing_if = "Option::is_none")]
            id: Option<&'a RawValue>,
            method: &'a str,
            params: &'a Map<String, Value>,
        }
        to_device_string(&Out {
            jsonrpc: "2.0",
            id: self.id.as_ref().map(Id::raw),
            method: &self.method_name,
            params: &self.params,
        })
    }
}

/// Why a frame was not a request (JSON-RPC level errors).
#[derive(Debug, Clone, PartialEq)]
pub enum Rejection {
    /// Not JSON (or nested deeper than [`MAX_DEPTH`]): -32700.
    Parse,
    /// JSON, but not a request object: -32600, echoing the id when usable.
    Invalid {
        /// The request's id, when it had a usable one.
        id: Option<Id>,
    },
}

impl Rejection {
    /// The JSON-RPC error code: -32700 or -32600.
    pub fn code(&self) -> i64 {
        match self {
            Rejection::Parse => codes::JSONRPC_PARSE_ERROR,
            Rejection::Invalid { .. } => codes::JSONRPC_INVALID_REQUEST,
        }
    }

    /// `{"jsonrpc": "2.0", "id": …, "error": {"code": …, "message": …}}`.
    pub fn to_frame(&self) -> String {
        let id = match self {
            Rejection::Invalid { id: Some(id) } => id.clone(),
            _ => Id::null(),
        };
        error_frame(&id, self.code())
    }
}

/// A JSON-RPC error frame (no `method`, as JSON-RPC 2.0 has it).
pub fn error_frame(id: &Id, code: i64) -> String {
    #[derive(Serialize)]
    struct Body<'a> {
        code: i64,
        message: &'a str,
    }
    #[derive(Serialize)]
    struct Out<'a> {
        jsonrpc: &'static str,
        id: &'a RawValue,
        error: Body<'a>,
    }
    to_device_string(&Out {
        jsonrpc: "2.0",
        id: id.raw(),
        error: Body {
            code,
            message: codes::meaning(code).unwrap_or("Error"),
        },
    })
}

/// Depth of the deepest array/object nesting, stopping early past `limit`.
fn nesting_exceeds(text: &str, limit: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in text.as_bytes() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// Parse one text frame into a request.
pub fn parse_request(text: &str) -> Result<Request, Rejection> {
    #[derive(Deserialize)]
    struct Envelope<'a> {
        #[serde(default, borrow, deserialize_with = "present")]
        id: Option<&'a RawValue>,
        // Kept raw and parsed on their own below: serde_json refuses a value
        // nested 128 deep (one level short of MAX_DEPTH) and counts the
        // envelope's own level, while skipping a raw value has no such limit.
        // An explicit `"method": null` is present (and invalid), not absent.
        #[serde(default, borrow, deserialize_with = "present")]
        method: Option<&'a RawValue>,
        #[serde(default, borrow)]
        params: Option<&'a RawValue>,
    }
    // `Option<&RawValue>` would read `null` as absent; an explicit null id is
    // a request, an absent one a notification, and a null method is a method
    // that is not a string, so capture the raw value.
    fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
        <&RawValue>::deserialize(d).map(Some)
    }

    if nesting_exceeds(text, MAX_DEPTH) {
        return Err(Rejection::Parse);
    }
    // serde's derived structs also accept arrays; a request must be an object.
    if !text.trim_start().starts_with('{') {
        return Err(match serde_json::from_str::<serde::de::IgnoredAny>(text) {
            Ok(_) => Rejection::Invalid { id: None },
            Err(_) => Rejection::Parse,
        });
    }
    let env: Envelope = match serde_json::from_str(text) {
        Ok(env) => env,
        Err(e) => {
            return Err(match e.classify() {
                serde_json::error::Category::Data => {
                    // Valid JSON of the wrong shape. Salvage a usable id if the
                    // text is an object that has one.
                    Rejection::Invalid {
                        id: salvage_id(text),
                    }
                }
                _ => Rejection::Parse,
            });
        }
    };

    let id = match env.id {
        None => None,
        Some(raw) => match usable_id(raw) {
            Some(id) => Some(id),
            None => return Err(Rejection::Invalid { id: None }),
        },
    };
    let Some(method) = env.method else {
        // An object without `method` is no request, but its id is echoed.
        return Err(Rejection::Invalid { id });
    };
    let Some(method_name) = method_string(method) else {
        return Err(Rejection::Invalid { id: None });
    };
    let params = match env.params.map(|p| serde_json::from_str::<Value>(p.get())) {
        Some(Ok(Value::Object(map))) => map,
        _ => Map::new(),
    };
    Ok(Request {
        id,
        method: Method::parse(&method_name),
        method_name,
        params,
    })
}

/// The id as written if it is usable: a number, a string that JSON readers
/// (serde_json included) can read back, or null. Numbers are echoed exactly
/// as written (protocol.md §2), even beyond f64 such as `1e400`: reading the
/// envelope into `RawValue` has checked their syntax, and echoing needs no
/// more. Object, array and boolean ids are invalid, and so is a string with
/// an unpaired `\uD800`-`\uDFFF` escape, which `RawValue` lets through:
/// echoing it would make the answer itself unreadable.
fn usable_id(raw: &RawValue) -> Option<Id> {
    match raw.get().as_bytes().first() {
        Some(b'n') => Some(Id::null()),
        Some(b'-' | b'0'..=b'9') => Some(Id(raw.to_owned())),
        Some(b'"') => {
            serde_json::from_str::<String>(raw.get()).ok()?;
            Some(Id(raw.to_owned()))
        }
        _ => None,
    }
}

/// A `method` member's string: `None` when it is anything else (null
/// included) or a string JSON readers cannot read (an unpaired surrogate).
fn method_string(raw: &RawValue) -> Option<String> {
    serde_json::from_str(raw.get()).ok()
}

/// The id to echo for a JSON object that is no well-formed envelope (a
/// member given twice): the usable `id` (the last one, which most JSON
/// readers keep), unless a `method` member is not a string, as in [`parse_request`].
fn salvage_id(text: &str) -> Option<Id> {
    let Members(members) = serde_json::from_str(text).ok()?;
    let named = |name: &'static str| members.iter().filter(move |(k, _)| k == name);
    if named("method").any(|(_, m)| method_string(m).is_none()) {
        return None;
    }
    usable_id(named("id").next_back()?.1)
}

/// An object's members in order, duplicates kept.
struct Members<'a>(Vec<(String, &'a RawValue)>);

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Members<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Members<'de>, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<String, &'de RawValue>()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }
        d.deserialize_map(Visit)
    }
}

/// A device-level error: `result.error_code` and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcError {
    /// The `error_code` (protocol.md §7).
    pub code: i64,
    /// What went wrong, for a person.
    pub message: String,
}

impl RpcError {
    /// An error with its own message.
    pub fn new(code: i64, message: impl Into<String>) -> RpcError {
        RpcError {
            code,
            message: message.into(),
        }
    }

    /// The error with the table's wording as its message.
    pub fn plain(code: i64) -> RpcError {
        RpcError::new(code, codes::meaning(code).unwrap_or("Error"))
    }
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "error {} ({}): {}",
            self.code,
            codes::meaning(self.code).unwrap_or("undocumented"),
            self.message
        )
    }
}

impl std::error::Error for RpcError {}

/// The `result` member of a response. Member order is wire order; a Call
/// result never holds a nested object, and `data` comes last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RpcResult {
    /// 0 on success, else the code of §7.
    pub error_code: i64,
    /// A Call's action name, echoed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// Empty on success (devices may say anything), else what went wrong.
    #[serde(default)]
    pub message: String,
    /// The answer's data (a Query's node; absent for most Calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl RpcResult {
    /// Success, for `action` (Calls) with `data` (Queries).
    pub fn ok(action: Option<&str>, data: Option<Value>) -> RpcResult {
        RpcResult {
            error_code: 0,
            action: action.map(str::to_string),
            message: String::new(),
            data,
        }
    }

    /// Failure with `error`'s code and message.
    pub fn err(action: Option<&str>, error: RpcError) -> RpcResult {
        RpcResult {
            error_code: error.code,
            action: action.map(str::to_string),
            message: error.message,
            data: None,
        }
    }

    /// `error_code` 0.
    pub fn is_ok(&self) -> bool {
        self.error_code == 0
    }
}

/// `{"jsonrpc": "2.0", "method": …, "id": …, "result": {…}}`, device form.
pub fn result_frame(method: &str, id: &Id, result: &RpcResult) -> String {
    #[derive(Serialize)]
    struct Out<'a> {
        jsonrpc: &'static str,
        method: &'a str,
        id: &'a RawValue,
        result: &'a RpcResult,
    }
    to_device_string(&Out {
        jsonrpc: "2.0",
        method,
        id: id.raw(),
        result,
    })
}

/// The frame sent before closing a connection that failed authentication.
pub fn auth_failure_frame(code: i64) -> String {
    result_frame(
        "Auth",
        &Id::null(),
        &RpcResult::err(None, RpcError::plain(code)),
    )
}

/// A frame as a client reads it: tolerant of key order, spacing, a missing
/// `method` in responses and escaped or raw UTF-8.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// A response to one of our requests, matched on `id`.
    Response {
        /// The request's `id` as it came back.
        id: Value,
        /// The `method` member, when the device sent one.
        method: Option<String>,
        /// The `result`, or the error the response carried instead.
        outcome: Result<RpcResult, RpcError>,
    },
    /// A pushed event (a frame with `method` and no `id`).
    Event {
        /// `Event/<Module>`.
        method: String,
        /// Its `sub_event` name.
        sub_event: String,
        /// The status the device attached (0, or why the change was forced).
        error_code: i64,
        /// The message that goes with `error_code`.
        message: String,
        /// Its `data`, undecoded.
        data: Value,
    },
}

impl Incoming {
    /// Read a response or an event from a wire frame; `None` when it is
    /// neither (not JSON, or no `id` and no `method`).
    pub fn parse(text: &str) -> Option<Incoming> {
        let mut v: Map<String, Value> = serde_json::from_str(text).ok()?;
        let method = v.get("method").and_then(Value::as_str).map(str::to_string);
        if let Some(id) = v.remove("id") {
            let outcome = if let Some(result) = v.remove("result") {
                match serde_json::from_value::<RpcResult>(result) {
                    Ok(r) => Ok(r),
                    Err(e) => Err(RpcError::new(
                        codes::UNKNOWN_ERROR,
                        format!("malformed result: {e}"),
                    )),
                }
            } else if let Some(Value::Object(err)) = v.remove("error") {
                let code = err
                    .get("code")
                    .and_then(Value::as_i64)
                    .unwrap_or(codes::UNKNOWN_ERROR);
                let message = err
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                Err(RpcError::new(code, message))
            } else {
                Err(RpcError::new(
                    codes::UNKNOWN_ERROR,
                    "response without result or error",
                ))
            };
            return Some(Incoming::Response {
                id,
                method,
                outcome,
            });
        }
        let method = method?;
        let params = match v.remove("params") {
            Some(Value::Object(p)) => p,
            _ => Map::new(),
        };
        Some(Incoming::Event {
            method,
            sub_event: params
                .get("sub_event")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            error_code: params
                .get("error_code")
                .and_then(Value::as_i64)
                .unwrap_or(0),
            message: params
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            data: params.get("data").cloned().unwrap_or(Value::Null),
        })
    }
}

/// A JSON type's name, for error messages.
pub fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_echoed_exactly() {
        let r =
            parse_request(r#"{"id": 123456789012345678901234567890, "method": "Query"}"#).unwrap();
        assert_eq!(r.id.unwrap().raw().get(), "123456789012345678901234567890");
        let r = parse_request(r#"{"id": "Share Cast Code", "method": "Query"}"#).unwrap();
        assert_eq!(r.id.unwrap().raw().get(), r#""Share Cast Code""#);
        let r = parse_request(r#"{"id": null, "method": "Query"}"#).unwrap();
        assert_eq!(r.id.unwrap().raw().get(), "null");
        let r = parse_request(r#"{"method": "Query"}"#).unwrap();
        assert!(r.id.is_none());
    }

    #[test]
    fn unreadable_ids_are_invalid_and_not_echoed() {
        for id in [r#""\udc00""#, r#""\ud800""#, r#""a\ud800b""#] {
            let text =
                format!(r#"{{"id": {id}, "method": "Query", "params": {{"path": ["Share"]}}}}"#);
            assert!(
                matches!(parse_request(&text), Err(Rejection::Invalid { id: None })),
                "{text}"
            );
            // Without a method, and on the salvage path (a duplicate member
            // makes the envelope fail as data).
            for text in [
                format!(r#"{{"id": {id}}}"#),
                format!(r#"{{"id": {id}, "method": "Query", "method": "Query"}}"#),
            ] {
                let rejection = parse_request(&text).unwrap_err();
                assert_eq!(rejection, Rejection::Invalid { id: None }, "{text}");
                let frame: Value = serde_json::from_str(&rejection.to_frame()).unwrap();
                assert_eq!(frame["id"], Value::Null);
                assert_eq!(frame["error"]["code"], -32600);
            }
        }
        // Paired surrogates and big integers stay usable, echoed as written.
        let r = parse_request(r#"{"id": "\ud83d\ude00", "method": "Query"}"#).unwrap();
        assert_eq!(r.id.unwrap().raw().get(), r#""\ud83d\ude00""#);
        let Err(Rejection::Invalid { id: Some(id) }) = parse_request(
            r#"{"id": 123456789012345678901234567890, "method": "Query", "method": "Query"}"#,
        ) else {
            panic!()
        };
        assert_eq!(id.raw().get(), "123456789012345678901234567890");
    }

    /// protocol.md §2: numeric ids are echoed exactly as written, also
    /// beyond what a double holds; the envelope reader has checked them as
    /// JSON numbers.
    #[test]
    fn numeric_ids_beyond_a_double_are_echoed_as_written() {
        for id in [
            "1e400",
            "-1e999",
            "2.5E+308",
            "-123456789012345678901234567890e999",
        ] {
            let text =
                format!(r#"{{"id": {id}, "method": "Query", "params": {{"path": ["Share"]}}}}"#);
            let req = parse_request(&text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
            let echoed = req.id.expect("a request, not a notification");
            assert_eq!(echoed.raw().get(), id);
            assert_eq!(
                result_frame("Query", &echoed, &RpcResult::ok(None, None)),
                format!(
                    r#"{{"jsonrpc": "2.0", "method": "Query", "id": {id}, "result": {{"error_code": 0, "message": ""}}}}"#
                )
            );
            // Rejections echo it too: without a method, and on the salvage
            // path.
            for text in [
                format!(r#"{{"id": {id}, "params": {{}}}}"#),
                format!(r#"{{"id": {id}, "method": "Query", "method": "Query"}}"#),
            ] {
                let rejection = parse_request(&text).unwrap_err();
                assert_eq!(
                    rejection.to_frame(),
                    format!(
                        r#"{{"jsonrpc": "2.0", "id": {id}, "error": {{"code": -32600, "message": "Invalid Request"}}}}"#
                    ),
                    "{text}"
                );
            }
        }
        // What is not a JSON number is still not JSON.
        for id in ["1e", "01", "-", "1.", "+1", ".5", "1e400x"] {
            let text = format!(r#"{{"id": {id}, "method": "Query"}}"#);
            assert_eq!(
                parse_request(&text).unwrap_err(),
                Rejection::Parse,
                "{text}"
            );
        }
    }

    /// protocol.md §2: a `method` that is present but not a string (null
    /// included) → -32600 with id null, whatever the id; only an object
    /// without `method` echoes its id.
    #[test]
    fn non_string_methods_are_invalid_without_the_id() {
        let invalid_null_id = r#"{"jsonrpc": "2.0", "id": null, "error": {"code": -32600, "message": "Invalid Request"}}"#;
        for method in [
            "null",
            "1",
            "-1.5",
            "true",
            "false",
            "[]",
            r#"["Query"]"#,
            "{}",
            r#""\ud800""#,
        ] {
            for id in ["1", r#""x""#, "1e400", "null"] {
                for text in [
                    format!(r#"{{"jsonrpc": "2.0", "id": {id}, "method": {method}}}"#),
                    format!(r#"{{"method": {method}, "id": {id}, "params": {{}}}}"#),
                    // The salvage path: a member given twice.
                    format!(r#"{{"id": {id}, "method": {method}, "method": {method}}}"#),
                    format!(r#"{{"id": {id}, "method": "Query", "method": {method}}}"#),
                    format!(r#"{{"id": {id}, "method": {method}, "method": "Query"}}"#),
                    format!(r#"{{"id": {id}, "id": {id}, "method": {method}}}"#),
                ] {
                    let rejection = parse_request(&text).unwrap_err();
                    assert_eq!(rejection, Rejection::Invalid { id: None }, "{text}");
                    assert_eq!(rejection.to_frame(), invalid_null_id, "{text}");
                }
            }
        }
        // An object without `method` echoes a string or number id, also on
        // the salvage path; a method given twice as strings is no excuse
        // not to either.
        for (text, echoed) in [
            (r#"{"id": 1}"#, "1"),
            (r#"{"id": "x", "params": {}}"#, r#""x""#),
            (r#"{"id": 1, "params": {}, "params": {}}"#, "1"),
            (r#"{"id": 1, "id": "last", "params": {}}"#, r#""last""#),
            (r#"{"id": 7, "method": "Query", "method": "Query"}"#, "7"),
        ] {
            let Err(Rejection::Invalid { id: Some(id) }) = parse_request(text) else {
                panic!("{text}: {:?}", parse_request(text))
            };
            assert_eq!(id.raw().get(), echoed, "{text}");
        }
    }

    #[test]
    fn rejections() {
        assert!(matches!(parse_request("nope"), Err(Rejection::Parse)));
        assert!(matches!(
            parse_request("[1]"),
            Err(Rejection::Invalid { id: None })
        ));
        assert!(matches!(
            parse_request("7"),
            Err(Rejection::Invalid { id: None })
        ));
        let Err(Rejection::Invalid { id: Some(id) }) = parse_request(r#"{"id": "x"}"#) else {
            panic!()
        };
        assert_eq!(id.raw().get(), r#""x""#);
        assert!(matches!(
            parse_request(r#"{"id": [1], "method": "Query"}"#),
            Err(Rejection::Invalid { id: None })
        ));
        assert!(matches!(
            parse_request(r#"{"id": 1, "method": 5}"#),
            Err(Rejection::Invalid { id: None })
        ));
        let deep = format!("{}{}", "[".repeat(129), "]".repeat(129));
        assert!(matches!(parse_request(&deep), Err(Rejection::Parse)));
        let deep = format!(
            r#"{{"id": 1, "method": "Query", "x": {}{}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        assert!(matches!(parse_request(&deep), Err(Rejection::Parse)));
        let ok = format!(
            r#"{{"id": 1, "method": "Query", "x": {}{}}}"#,
            "[".repeat(120),
            "]".repeat(120)
        );
        assert!(parse_request(&ok).is_ok());
    }

    #[test]
    fn frames_in_device_form() {
        let frame = result_frame(
            "Call/Share",
            &Id::string("c1"),
            &RpcResult::ok(Some("StartShare"), None),
        );
        assert_eq!(
            frame,
            r#"{"jsonrpc": "2.0", "method": "Call/Share", "id": "c1", "result": {"error_code": 0, "action": "StartShare", "message": ""}}"#
        );
        assert_eq!(
            auth_failure_frame(4),
            r#"{"jsonrpc": "2.0", "method": "Auth", "id": null, "result": {"error_code": 4, "message": "Request Header Error"}}"#
        );
        assert_eq!(
            Rejection::Parse.to_frame(),
            r#"{"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": "Parse error"}}"#
        );
    }

    #[test]
    fn client_reads_any_form() {
        let text = r#"{"jsonrpc":"2.0","id":"xxx","result":{"error_code":0,"message":"成功","data":{"cast_code":"xxx"}}}"#;
        let Some(Incoming::Response {
            id,
            method,
            outcome,
        }) = Incoming::parse(text)
        else {
            panic!()
        };
        assert_eq!(id, Value::String("xxx".into()));
        assert_eq!(method, None);
        assert_eq!(outcome.unwrap().data.unwrap()["cast_code"], "xxx");
    }
}
