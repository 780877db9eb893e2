//! `roomshare query Share CastCode`: one Query, its data printed as JSON.

use super::out::print_line;
use super::{RemoteArgs, path_of, refused};
use clap::Args;
use serde_json::Value;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct QueryArgs {
    /// The path, e.g. `Share` or `Share CastCode` or `Meeting/MeetingInfo`.
    #[arg(required = true)]
    pub path: Vec<String>,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

pub async fn run(args: QueryArgs) -> ExitCode {
    let client = match args.remote.connect().await {
        Ok(c) => c,
        Err(code) => return code,
    };
    let path = path_of(&args.path);
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    match client.query(&path).await {
        Ok(r) if r.is_ok() => {
            let data = r.data.unwrap_or(Value::Null);
            print_line(&serde_json::to_string_pretty(&data).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Ok(r) => refused(&format!("Query {path:?}"), &r),
        Err(e) => {
            eprintln!("Query {path:?}: {e}");
            ExitCode::from(2)
        }
    }
}
