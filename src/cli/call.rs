//! `roomshare call Share StartShare share_type=0 fluency_first=true`: one
//! Call, inputs as `key=value` (typed) or `--json`.

use super::out::{print_line, write_line};
use super::{RemoteArgs, refused};
use clap::Args;
use serde_json::{Map, Value};
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct CallArgs {
    /// Module: Share, Meeting (or RoomShare for the simulator).
    pub module: String,
    /// The action, e.g. StartShare.
    pub action: String,
    /// Inputs as key=value (true/false and numbers are typed; quote JSON strings to force text).
    pub params: Vec<String>,
    /// Inputs as a JSON object instead of key=value.
    #[arg(long)]
    pub json: Option<String>,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// Turn `key=value` arguments into an object with typed values.
pub fn parse_key_values(items: &[String]) -> Result<Map<String, Value>, String> {
    let mut map = Map::new();
    for item in items {
        let (key, raw) = item
            .split_once('=')
            .ok_or_else(|| format!("expected key=value, got {item:?}"))?;
        let value = match serde_json::from_str::<Value>(raw) {
            Ok(v @ (Value::Bool(_) | Value::Number(_) | Value::Null | Value::String(_))) => v,
            _ => Value::String(raw.to_string()),
        };
        map.insert(key.to_string(), value);
    }
    Ok(map)
}

/// The call's `action_params`, from `--json` or `key=value`.
fn action_params(args: &CallArgs) -> Result<Map<String, Value>, String> {
    match &args.json {
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err("--json must be a JSON object".into()),
        },
        None => parse_key_values(&args.params),
    }
}

pub async fn run(args: CallArgs) -> ExitCode {
    let inputs = match action_params(&args) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let mut params = Map::new();
    params.insert("action".into(), Value::String(args.action.clone()));
    if !inputs.is_empty() {
        params.insert("action_params".into(), Value::Object(inputs));
    }
    let client = match args.remote.connect().await {
        Ok(c) => c,
        Err(code) => return code,
    };
    let method = format!("Call/{}", args.module);
    match client.request(&method, Value::Object(params)).await {
        Ok(r) if r.is_ok() => {
            let ok = write_line(&format!("{}: OK", args.action));
            if let (Ok(()), Some(data)) = (ok, r.data) {
                print_line(&serde_json::to_string_pretty(&data).unwrap_or_default());
            }
            ExitCode::SUCCESS
        }
        Ok(r) => refused(&args.action, &r),
        Err(e) => {
            eprintln!("{}: {e}", args.action);
            ExitCode::from(2)
        }
    }
}
