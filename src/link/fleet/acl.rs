//! Who can read a file on Windows: its owner and its access list (DACL),
//! judged by the same rule as a Unix mode — only the owner, and the
//! system's own SYSTEM and Administrators, may read or change a file that
//! holds a password.
//!
//! A refusal names who else can read the file, the `icacls` command that
//! makes it private, and the other way out: the room's password in the
//! Windows Credential Manager (`roomshare rooms set-password NAME`, see
//! `keychain.rs`).
//!
//! The judgement ([`exposed_to`]) is plain Rust over the list's entries,
//! so it is tested everywhere; reading the entries ([`read`]) calls the
//! Windows API and exists only there.

/// One entry of an access list, as far as the rule needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ace {
    /// An allowing entry (a denying one only takes access away).
    pub allow: bool,
    /// Whom it names, as a string SID (`S-1-1-0`).
    pub sid: String,
    /// The access mask.
    pub mask: u32,
    /// It applies only to what is created inside (a folder's), not here.
    pub inherit_only: bool,
}

/// Rights that let someone read or change the file, or its access list.
const READ_OR_WRITE: u32 = 0x0000_0001 // FILE_READ_DATA
    | 0x0000_0002 // FILE_WRITE_DATA
    | 0x0000_0004 // FILE_APPEND_DATA
    | 0x0004_0000 // WRITE_DAC
    | 0x0008_0000 // WRITE_OWNER
    | 0x1000_0000 // GENERIC_ALL
    | 0x4000_0000 // GENERIC_WRITE
    | 0x8000_0000; // GENERIC_READ

/// Besides the owner, these may read any file: the system itself.
const TRUSTED: [&str; 2] = ["S-1-5-18", "S-1-5-32-544"]; // SYSTEM, Administrators

/// A SID with its well-known name, for the message.
fn named(sid: &str) -> String {
    let name = match sid {
        "S-1-1-0" => "Everyone",
        "S-1-5-11" => "Authenticated Users",
        "S-1-5-32-545" => "Users",
        "S-1-5-32-546" => "Guests",
        "S-1-5-4" => "Interactive",
        "S-1-5-7" => "Anonymous",
        _ => return sid.to_string(),
    };
    format!("{name} ({sid})")
}

/// Who other than the owner and the system may read or change a file with
/// this owner and access list; empty when it is private. `None` is a NULL
/// access list, which lets everyone in. (Conservative: a denying entry is
/// not taken to cancel an allowing one, so a file that relies on deny
/// entries is reported as readable.)
pub fn exposed_to(owner: &str, dacl: Option<&[Ace]>) -> Vec<String> {
    let Some(dacl) = dacl else {
        return vec!["Everyone (no access list at all)".into()];
    };
    let mut who: Vec<String> = Vec::new();
    for ace in dacl {
        let counts = ace.allow && !ace.inherit_only && ace.mask & READ_OR_WRITE != 0;
        if counts && ace.sid != owner && !TRUSTED.contains(&ace.sid.as_str()) {
            let name = named(&ace.sid);
            if !who.contains(&name) {
                who.push(name);
            }
        }
    }
    who
}

/// The owner and access list of the file at `path` (Windows only).
#[cfg(windows)]
pub fn read(path: &std::path::Path) -> std::io::Result<(String, Option<Vec<Ace>>)> {
    windows_acl::read(path)
}

#[cfg(windows)]
#[allow(unsafe_code)] // the Win32 security API has no safe wrapper
mod windows_acl {
    use super::Ace;
    use std::io;
    use std::os::windows::ffi::OsStrExt;
    use std::path::Path;
    use windows::Win32::Foundation::{ERROR_SUCCESS, HLOCAL, LocalFree};
    use windows::Win32::Security::Authorization::{
        ConvertSidToStringSidW, GetNamedSecurityInfoW, SE_FILE_OBJECT,
    };
    use windows::Win32::Security::{
        ACCESS_ALLOWED_ACE, ACE_HEADER, ACL, DACL_SECURITY_INFORMATION, GetAce,
        OWNER_SECURITY_INFORMATION, PSECURITY_DESCRIPTOR, PSID,
    };
    use windows::core::{PCWSTR, PWSTR};

    const ACCESS_ALLOWED_ACE_TYPE: u8 = 0;
    const ACCESS_DENIED_ACE_TYPE: u8 = 1;
    const INHERIT_ONLY_ACE: u8 = 0x08;

    /// Frees what the API allocated with LocalAlloc when dropped.
    struct Local(*mut core::ffi::c_void);

    impl Drop for Local {
        fn drop(&mut self) {
            if !self.0.is_null() {
                // SAFETY: the pointer came from the API, which allocated it
                // with LocalAlloc, and is freed once.
                unsafe {
                    LocalFree(Some(HLOCAL(self.0)));
                }
            }
        }
    }

    pub fn read(path: &Path) -> io::Result<(String, Option<Vec<Ace>>)> {
        let wide: Vec<u16> = path.as_os_str().encode_wide().chain([0]).collect();
        let mut owner = PSID::default();
        let mut dacl: *mut ACL = std::ptr::null_mut();
        let mut descriptor = PSECURITY_DESCRIPTOR::default();
        // SAFETY: `wide` is NUL-terminated; the out pointers are valid; the
        // owner and DACL point into `descriptor`, kept alive below.
        let status = unsafe {
            GetNamedSecurityInfoW(
                PCWSTR(wide.as_ptr()),
                SE_FILE_OBJECT,
                OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION,
                Some(&mut owner),
                None,
                Some(&mut dacl),
                None,
                &mut descriptor,
            )
        };
        if status != ERROR_SUCCESS {
            return Err(io::Error::from_raw_os_error(status.0 as i32));
        }
        let _descriptor = Local(descriptor.0);
        let owner = sid_string(owner)?;
        let entries = if dacl.is_null() {
            None
        } else {
            // SAFETY: a non-null DACL from the call above, alive with
            // `_descriptor`.
            Some(unsafe { entries(dacl) }?)
        };
        Ok((owner, entries))
    }

    /// The allowing and denying entries of `dacl`.
    ///
    /// # Safety
    /// `dacl` must point to a valid ACL.
    unsafe fn entries(dacl: *mut ACL) -> io::Result<Vec<Ace>> {
        // SAFETY: the caller passes a valid ACL.
        let count = unsafe { (*dacl).AceCount };
        let mut out = Vec::with_capacity(usize::from(count));
        for i in 0..u32::from(count) {
            let mut ace: *mut core::ffi::c_void = std::ptr::null_mut();
            // SAFETY: `i` is below the ACL's own count.
            unsafe { GetAce(dacl, i, &mut ace) }.map_err(io::Error::other)?;
            // SAFETY: every entry starts with an ACE_HEADER.
            let header = unsafe { &*(ace as *const ACE_HEADER) };
            if header.AceType != ACCESS_ALLOWED_ACE_TYPE && header.AceType != ACCESS_DENIED_ACE_TYPE
            {
                continue; // object and callback entries: not on plain files
            }
            // SAFETY: allowed and denied entries (the types checked above)
            // share the ACCESS_ALLOWED_ACE layout.
            let body = unsafe { &*(ace as *const ACCESS_ALLOWED_ACE) };
            let sid = PSID(std::ptr::addr_of!(body.SidStart) as *mut core::ffi::c_void);
            out.push(Ace {
                allow: header.AceType == ACCESS_ALLOWED_ACE_TYPE,
                sid: sid_string(sid)?,
                mask: body.Mask,
                inherit_only: header.AceFlags & INHERIT_ONLY_ACE != 0,
            });
        }
        Ok(out)
    }

    fn sid_string(sid: PSID) -> io::Result<String> {
        let mut text = PWSTR::null();
        // SAFETY: `sid` is valid while its descriptor lives; the string is
        // allocated by the API and freed by `Local`.
        unsafe { ConvertSidToStringSidW(sid, &mut text) }.map_err(io::Error::other)?;
        let _text = Local(text.0.cast());
        // SAFETY: a NUL-terminated string from the API.
        unsafe { text.to_string() }.map_err(io::Error::other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: &str = "S-1-5-21-1-2-3-1001";

    fn allow(sid: &str, mask: u32) -> Ace {
        Ace {
            allow: true,
            sid: sid.into(),
            mask,
            inherit_only: false,
        }
    }

    #[test]
    fn only_the_owner_and_the_system_is_private() {
        // What `icacls F /inheritance:r /grant:r me:F` leaves, plus the
        // system's own entries.
        let dacl = [
            allow(ME, 0x001F_01FF),
            allow("S-1-5-18", 0x001F_01FF),
            allow("S-1-5-32-544", 0x001F_01FF),
        ];
        assert!(exposed_to(ME, Some(&dacl)).is_empty());
    }

    #[test]
    fn a_file_users_can_read_is_exposed_and_says_to_whom() {
        // A file in a folder that inherits "Users: read & execute".
        let dacl = [
            allow(ME, 0x001F_01FF),
            allow("S-1-5-32-545", 0x0012_00A9),
            allow("S-1-1-0", 0x8000_0000),
            allow("S-1-5-21-9-9-9-1002", 0x0000_0002),
        ];
        assert_eq!(
            exposed_to(ME, Some(&dacl)),
            [
                "Users (S-1-5-32-545)",
                "Everyone (S-1-1-0)",
                "S-1-5-21-9-9-9-1002"
            ]
        );
    }

    #[test]
    fn no_access_list_lets_everyone_in_and_harmless_entries_do_not_count() {
        assert_eq!(exposed_to(ME, None).len(), 1);
        let dacl = [
            // Only for files created inside (a folder's entry).
            Ace {
                inherit_only: true,
                ..allow("S-1-1-0", 0x001F_01FF)
            },
            // Reading attributes only.
            allow("S-1-5-11", 0x0000_0080),
            // Denying takes nothing more away than it says.
            Ace {
                allow: false,
                ..allow("S-1-1-0", 0x001F_01FF)
            },
        ];
        assert!(exposed_to(ME, Some(&dacl)).is_empty());
    }
}
