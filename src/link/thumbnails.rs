//! Remote thumbnails: fetched one at a time over `["RoomShare","Thumbnail"]`
//! from another roomshare engine, decoded off the async workers, and put in
//! the link's own [`ThumbnailStore`] only when the picture changed.

use super::Shared;
use crate::client::Client;
use crate::media::{Thumbnail, ThumbnailState, ThumbnailStore, decode_jpeg};
use crate::protocol::SourceInfo;
use crate::protocol::answers::ThumbnailAnswer;
use base64::Engine as _;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::Instant;

/// Per source: the fingerprint of the last JPEG and its seq.
#[derive(Default)]
pub(super) struct RemoteThumbnails {
    last: HashMap<String, (u64, u64)>,
}

impl RemoteThumbnails {
    pub async fn fetch_all(
        &mut self,
        client: &Client,
        sources: &[SourceInfo],
        store: &ThumbnailStore,
        shared: &Shared,
    ) {
        let mut changed = false;
        for source in sources {
            let mut params = Map::new();
            params.insert("source_id".into(), Value::String(source.id.clone()));
            match client.fetch_with::<ThumbnailAnswer>(params, true).await {
                Ok(answer) => changed |= self.update(store, &source.id, answer).await,
                Err(crate::client::ClientError::Refused { message, .. }) => {
                    changed |= store.set_unavailable(&source.id, message);
                }
                // Disconnected, or a malformed answer: try again next round.
                Err(_) => return,
            }
        }
        if changed {
            (shared.on_change)();
        }
    }

    /// Store a fetched thumbnail; true if the tile changed.
    async fn update(&mut self, store: &ThumbnailStore, id: &str, answer: ThumbnailAnswer) -> bool {
        let fingerprint = {
            let mut h = DefaultHasher::new();
            answer.jpeg_base64.hash(&mut h);
            h.finish()
        };
        let entry = self.last.entry(id.to_string()).or_insert((0, 0));
        if entry.0 == fingerprint {
            return false;
        }
        let decoded = tokio::task::spawn_blocking(move || {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(&answer.jpeg_base64)
                .map_err(|e| format!("jpeg_base64 is not Base64: {e}"))?;
            decode_jpeg(&bytes)
        })
        .await
        .unwrap_or_else(|e| Err(e.to_string()));
        match decoded {
            Ok(frame) => {
                *entry = (fingerprint, entry.1 + 1);
                let thumbnail = Thumbnail {
                    frame: Arc::new(frame),
                    seq: entry.1,
                    captured_at: Instant::now(),
                };
                store.set(id, ThumbnailState::Ready(thumbnail));
                true
            }
            Err(why) => {
                store.set_unavailable(id, format!("the thumbnail could not be decoded: {why}"))
            }
        }
    }
}
