//! Room passwords in the operating system's keychain, through the
//! `keyring` crate: the Windows Credential Manager, the macOS login
//! Keychain, the Secret Service on Linux (GNOME Keyring, KWallet,
//! KeePassXC).
//!
//! A room with `password_keyring = true` finds its password in the entry
//!
//! - service: `roomshare` ([`SERVICE`])
//! - user: `NAME <URL>`, the room's name and url as the rooms file writes
//!   them ([`user`]), e.g. `12F Everest <ws://10.0.12.5:6295>`.
//!
//! (On Windows the credential is then called `NAME <URL>.roomshare`; in
//! the Secret Service its attributes are `service` and `username`.)
//!
//! Every call runs on a thread of its own and is waited for at most
//! [`TIMEOUT`]: a keychain may wait for the user to unlock it, or — a
//! Secret Service that was started but never answers — forever; and
//! keyring's Secret Service client blocks on a runtime of its own, which
//! must not be entered from a tokio worker.

use std::sync::mpsc;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// The service of every room's entry.
pub const SERVICE: &str = "roomshare";

/// How long one keychain call may take: long enough to type a password
/// into an unlock prompt.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// What this platform's keychain is called, for messages.
pub const KEYCHAIN: &str = if cfg!(windows) {
    "the Windows Credential Manager"
} else if cfg!(target_os = "macos") {
    "the macOS Keychain"
} else {
    "the Secret Service"
};

/// The user of the entry that holds the password of the room `name` at
/// `url` (both as the rooms file writes them, trimmed).
pub fn user(name: &str, url: &str) -> String {
    format!("{} <{}>", name.trim(), url.trim())
}

/// Why the keychain gave no password or did not store one; each says what
/// to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeychainError {
    /// No keychain could be reached (Linux: no Secret Service on the
    /// session bus, or no session bus).
    #[error(
        "no system keychain is available ({0}); on Linux start a Secret Service in your session (GNOME Keyring, KWallet or KeePassXC), or use password_env / password_file"
    )]
    NoKeychain(String),
    /// The keychain is locked, or did not answer within [`TIMEOUT`].
    #[error(
        "the system keychain is locked ({0}); unlock it (log in again, or open Passwords and Keys / Keychain Access) and try again"
    )]
    Locked(String),
    /// There is no entry for this room.
    #[error(
        "no password for room {name:?} in {KEYCHAIN} (service \"roomshare\", user {user:?}); store it with `roomshare rooms set-password {name:?}`"
    )]
    NoEntry { name: String, user: String },
    /// The keychain refused (an unlock prompt dismissed, access denied).
    #[error(
        "the system keychain refused access ({0}); allow roomshare when it asks, or use password_env / password_file"
    )]
    Denied(String),
    /// Anything else the platform reported.
    #[error("the system keychain failed: {0}")]
    Failed(String),
}

/// The password of the room `name` at `url`.
pub fn get(name: &str, url: &str) -> Result<String, KeychainError> {
    let (name, user) = (name.trim().to_string(), user(name, url));
    let key = user.clone();
    bounded(move || keyring::Entry::new(SERVICE, &key)?.get_password()).map_err(|e| match e {
        KeychainError::NoEntry { .. } => KeychainError::NoEntry { name, user },
        e => e,
    })
}

/// Store `password` as the password of the room `name` at `url`
/// (replacing what was there).
pub fn set(name: &str, url: &str, password: &str) -> Result<(), KeychainError> {
    let (user, password) = (user(name, url), password.to_string());
    bounded(move || keyring::Entry::new(SERVICE, &user)?.set_password(&password))
}

/// Remove the entry of the room `name` at `url`; no entry is fine.
pub fn delete(name: &str, url: &str) -> Result<(), KeychainError> {
    let user = user(name, url);
    match bounded(move || keyring::Entry::new(SERVICE, &user)?.delete_credential()) {
        Err(KeychainError::NoEntry { .. }) => Ok(()),
        other => other,
    }
}

/// Whether a keychain can be reached: one look-up of an entry that does
/// not exist (which neither prompts nor unlocks anything).
pub fn available() -> bool {
    match bounded(|| keyring::Entry::new(SERVICE, "availability probe")?.get_password()) {
        Ok(_) | Err(KeychainError::NoEntry { .. } | KeychainError::Locked(_)) => true,
        Err(_) => false,
    }
}

/// [`available`], asked once on a thread of its own (it may block): the
/// console's dialog reads the answer when it is there.
#[derive(Clone, Default)]
pub struct Availability(Arc<OnceLock<bool>>);

impl Availability {
    /// Start asking; `done` is called once the answer is in.
    pub fn probe(done: impl FnOnce() + Send + 'static) -> Availability {
        let answer = Availability::default();
        let cell = answer.0.clone();
        let spawned = std::thread::Builder::new()
            .name("keychain-probe".into())
            .spawn(move || {
                let _ = cell.set(available());
                done();
            });
        if spawned.is_err() {
            let _ = answer.0.set(false);
        }
        answer
    }

    /// `None` while the probe is still running.
    pub fn get(&self) -> Option<bool> {
        self.0.get().copied()
    }
}

/// Run `call` on a thread of its own, waiting at most [`TIMEOUT`].
fn bounded<T: Send + 'static>(
    call: impl FnOnce() -> keyring::Result<T> + Send + 'static,
) -> Result<T, KeychainError> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("keychain".into())
        .spawn(move || {
            let _ = tx.send(call());
        })
        .map_err(|e| KeychainError::Failed(format!("cannot start a thread: {e}")))?;
    match rx.recv_timeout(TIMEOUT) {
        Ok(result) => result.map_err(classify),
        // The thread is left to finish (or not) on its own.
        Err(_) => Err(KeychainError::Locked(format!(
            "no answer within {} s: it may be waiting to be unlocked",
            TIMEOUT.as_secs()
        ))),
    }
}

/// keyring's error, in the terms of [`KeychainError`].
fn classify(e: keyring::Error) -> KeychainError {
    match e {
        keyring::Error::NoEntry => KeychainError::NoEntry {
            name: String::new(),
            user: String::new(),
        },
        keyring::Error::NoStorageAccess(inner) => platform::no_access(&*inner),
        keyring::Error::PlatformFailure(inner) => platform::failure(&*inner),
        other => KeychainError::Failed(other.to_string()),
    }
}

/// Linux: the Secret Service's own errors say which case it is.
#[cfg(target_os = "linux")]
mod platform {
    use super::KeychainError;
    use secret_service::Error as Ss;
    use std::error::Error;

    pub fn no_access(e: &(dyn Error + Send + Sync + 'static)) -> KeychainError {
        failure(e)
    }

    pub fn failure(e: &(dyn Error + Send + Sync + 'static)) -> KeychainError {
        let text = e.to_string();
        match e.downcast_ref::<Ss>() {
            Some(Ss::Unavailable) => KeychainError::NoKeychain(text),
            Some(Ss::Locked | Ss::NoResult) => KeychainError::Locked(text),
            // The Secret Service prompts only to unlock: it stayed locked.
            Some(Ss::Prompt) => KeychainError::Locked(
                "its unlock prompt was dismissed, or could not be shown".into(),
            ),
            Some(Ss::Zbus(_) | Ss::ZbusFdo(_)) => by_dbus_name(text),
            _ => KeychainError::Failed(text),
        }
    }

    /// A failed D-Bus call, by its error's name (zbus shows it as
    /// `NAME: message`; the names are the Secret Service's and the bus's
    /// own interface, where zbus 4's types are not ours to match on).
    pub(super) fn by_dbus_name(text: String) -> KeychainError {
        if text.contains("org.freedesktop.Secret.Error.IsLocked") {
            KeychainError::Locked(text)
        } else if text.contains("org.freedesktop.DBus.Error.AccessDenied") {
            KeychainError::Denied(text)
        } else if text.contains("org.freedesktop.Secret.Error.") {
            KeychainError::Failed(text)
        } else {
            // Nobody owns org.freedesktop.secrets (ServiceUnknown), or the
            // bus itself cannot be reached: no keychain to talk to.
            KeychainError::NoKeychain(text)
        }
    }
}

/// Windows and macOS: "no access" is the keychain refusing (a locked
/// Keychain asks by itself; a refused prompt lands here).
#[cfg(not(target_os = "linux"))]
mod platform {
    use super::KeychainError;
    use std::error::Error;

    pub fn no_access(e: &(dyn Error + Send + Sync + 'static)) -> KeychainError {
        KeychainError::Denied(e.to_string())
    }

    pub fn failure(e: &(dyn Error + Send + Sync + 'static)) -> KeychainError {
        KeychainError::Failed(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entry_is_keyed_by_the_rooms_name_and_url() {
        assert_eq!(
            user(" 12F Everest ", "ws://10.0.12.5:6295 "),
            "12F Everest <ws://10.0.12.5:6295>"
        );
    }

    #[test]
    fn each_error_says_what_to_do() {
        let missing = KeychainError::NoEntry {
            name: "12F K2".into(),
            user: user("12F K2", "ws://k2"),
        };
        let text = missing.to_string();
        assert!(text.contains("user \"12F K2 <ws://k2>\""), "{text}");
        assert!(
            text.contains("`roomshare rooms set-password \"12F K2\"`"),
            "{text}"
        );
        let none = KeychainError::NoKeychain("x".into()).to_string();
        assert!(none.contains("start a Secret Service"), "{none}");
        let locked = KeychainError::Locked("x".into()).to_string();
        assert!(locked.contains("unlock it"), "{locked}");
        let denied = KeychainError::Denied("x".into()).to_string();
        assert!(denied.contains("allow roomshare"), "{denied}");
    }

    /// The D-Bus errors as zbus shows them (seen from gnome-keyring and
    /// dbus-daemon): locked, refused, and nobody serving the name.
    #[cfg(target_os = "linux")]
    #[test]
    fn secret_service_errors_are_told_apart_by_their_dbus_names() {
        use secret_service::Error as Ss;
        let zbus = |text: &str| platform::by_dbus_name(format!("zbus error: {text}"));
        assert!(matches!(
            zbus("org.freedesktop.Secret.Error.IsLocked: Cannot get secret of a locked object"),
            KeychainError::Locked(_)
        ));
        assert!(matches!(
            zbus("org.freedesktop.DBus.Error.AccessDenied: no"),
            KeychainError::Denied(_)
        ));
        assert!(matches!(
            zbus("org.freedesktop.DBus.Error.ServiceUnknown: The name is not activatable"),
            KeychainError::NoKeychain(_)
        ));
        let prompt: Box<dyn std::error::Error + Send + Sync> = Box::new(Ss::Prompt);
        assert!(matches!(
            platform::failure(&*prompt),
            KeychainError::Locked(_)
        ));
        let gone: Box<dyn std::error::Error + Send + Sync> = Box::new(Ss::Unavailable);
        assert!(matches!(
            platform::failure(&*gone),
            KeychainError::NoKeychain(_)
        ));
    }
}
