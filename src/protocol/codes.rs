//! The Rooms error-code table (protocol.md §7), whole, so that any code a
//! real device returns can be shown with its meaning.

/// Success.
pub const OK: i64 = 0;
/// A generic failure (also the code of events a forced change sends).
pub const FAIL: i64 = 1;
/// The handshake offered no usable `auth-…` subprotocol value.
pub const REQUEST_HEADER_ERROR: i64 = 4;
/// Authentication failed (a device's refusal; roomshare's server says 16).
pub const AUTHENTICATION_FAILED: i64 = 5;
/// A Query `path` names no known node.
pub const QUERY_PATH_ERROR: i64 = 6;
/// A Subscribe `path` names no node that has events.
pub const SUBSCRIBE_PATH_ERROR: i64 = 7;
/// A missing, mistyped or out-of-range parameter, or one that does not
/// match the current state.
pub const PARAMETER_ERROR: i64 = 8;
/// An unknown method, `Call/<Module>` or action.
pub const UNSUPPORTED_ACTION: i64 = 9;
/// Over the per-connection rate limit.
pub const REQUEST_TOO_FREQUENTLY: i64 = 10;
/// The handshake's password is wrong ("Rooms CSAPI Password Failed").
pub const PASSWORD_FAILED: i64 = 16;
/// Nothing to do: nothing to stop, or already in that state.
pub const REPEAT_OPERATION: i64 = 17;
/// The device could not say what went wrong.
pub const UNKNOWN_ERROR: i64 = 9999;
/// The action needs a meeting and the Rooms is in none.
pub const NOT_IN_MEETING: i64 = 10000;
/// Start or join while already in a meeting.
pub const ALREADY_IN_MEETING: i64 = 10001;
/// Start refused during a quick cast (exit sharing mode first).
pub const CANNOT_START_INSTANT_MEETING_SHARING: i64 = 10026;
/// Join refused during a quick cast (exit sharing mode first).
pub const CANNOT_JOIN_MEETING_SHARING: i64 = 10027;

/// JSON-RPC 2.0 envelope errors (not device codes): text that is not JSON.
pub const JSONRPC_PARSE_ERROR: i64 = -32700;
/// JSON that is not a request object (JSON-RPC 2.0).
pub const JSONRPC_INVALID_REQUEST: i64 = -32600;

const TABLE: &[(i64, &str)] = &[
    (0, "OK"),
    (1, "Fail"),
    (2, "Control System Disabled"),
    (3, "Rooms Not Logged In"),
    (4, "Request Header Error"),
    (5, "Authentication Failed"),
    (6, "Query Path Error"),
    (7, "Subscribe Path Error"),
    (8, "Parameter Error"),
    (9, "Unsupported Action"),
    (10, "Request Too Frequently"),
    (11, "Subscribe Failed"),
    (12, "Rooms Network Failed"),
    (13, "Rooms Proactively Disconnected"),
    (14, "Rooms Version Retired"),
    (15, "Rooms CSAPI Version Retired"),
    (16, "Rooms CSAPI Password Failed"),
    (17, "Repeat Operation"),
    (9999, "Unknown Error"),
    (10000, "Rooms Not In Meeting"),
    (10001, "Already In Meeting"),
    (10002, "Rooms Not Invited"),
    (10003, "End Meeting Failed"),
    (10004, "Leave Meeting Failed"),
    (10005, "Join Meeting Failed"),
    (10006, "Meeting Code Mismatch"),
    (10007, "No Permission to Join Meeting"),
    (10008, "Meeting Canceled"),
    (10009, "Meeting Deleted"),
    (10010, "Meeting Code Invalid"),
    (10011, "Meeting Registration Failed"),
    (10012, "Webinar Rooms Binding User Host"),
    (10013, "Webinar Rooms Binding User CoHost"),
    (10014, "Host Not In Meeting"),
    (10015, "Meeting Locked"),
    (10016, "Rooms Has No Enterprise Permission"),
    (10017, "Meeting Already Joined From Other App"),
    (10018, "Meeting Needs Password"),
    (10019, "Meeting Does Not Exist"),
    (10020, "Meeting Password Error"),
    (10021, "Failed To Enter Waiting Room"),
    (10022, "Rooms Not Host Or Cohost"),
    (10023, "No Permission To Join Private Meeting"),
    (10024, "No Permission To Create Instant Meeting"),
    (10025, "Cannot Join Meeting"),
    (10026, "Cannot Start Instant Meeting, Exit Sharing Mode"),
    (10027, "Cannot Join Meeting, Exit Sharing Mode"),
    (10028, "Cannot Join Meeting, Exit Sharing Mode"),
    (10029, "Cannot Join Meeting, Whiteboard In Use"),
    (10030, "Cannot Join PMI Meeting"),
    (10031, "Unknown Layout"),
    (10032, "Cannot Switch Layout"),
    (20000, "No Camera Available"),
    (20001, "Camera Already Enabled"),
    (20002, "Camera Already Disabled"),
    (20003, "Camera Not Accessible"),
    (20004, "No Mic Available"),
    (20005, "Mic Already Enabled"),
    (20006, "Mic Already Disabled"),
    (20007, "Mic Not Accessible"),
    (20008, "Push Video Failed"),
    (20009, "Push Video Limit"),
    (20010, "Push Audio Failed"),
    (20011, "Push Audio Limit"),
    (20012, "Push Audio Timeout"),
    (20013, "Audience Have No Permission To Operate"),
    (20014, "Speaker Test Failed"),
    (20015, "Mic Test Failed"),
    (20016, "PTZ Failed, Camera Off"),
    (20017, "PTZ Failed, Camera Off And Not In Meeting"),
    (20018, "PTZ Failed, Camera ID Error"),
    (20019, "Camera Select Error"),
    (40000, "PSTN Not Enabled"),
    (40001, "Incorrect Action Command"),
    (40002, "Dial Failed, Whiteboard In Use"),
    (40003, "Dial Failed, Exit Sharing Mode"),
    (40004, "Dial Failed, Exit Cast Guide"),
    (40005, "Dial Is Ringing"),
    (40006, "Dial State Error"),
    (40007, "Phone Number Error"),
    (50000, "User Not in Meeting"),
    (50001, "Cannot Leave Meeting"),
    (50002, "Recording Disabled"),
    (50003, "Already Recording"),
    (50004, "Request To Record First"),
    (-32700, "Parse error"),
    (-32600, "Invalid Request"),
];

/// The documented meaning of a code, if it is in the table.
pub fn meaning(code: i64) -> Option<&'static str> {
    TABLE.iter().find(|&&(c, _)| c == code).map(|&(_, m)| m)
}

/// What a technician can do about an error, for the console's toasts.
pub fn hint(code: i64) -> &'static str {
    match code {
        0 => "",
        4 | 5 | 16 => "Check the room's control password and reconnect.",
        6 | 7 => "This device does not know that path; it may run an older Rooms version.",
        8 => "A parameter was missing or out of range; refresh the source list and try again.",
        9 => "This Rooms version does not support the action.",
        10 => "Too many requests; slow down.",
        17 => "Nothing to do: the room is already in that state.",
        10000 => "Join or start a meeting first (room simulator or the device itself).",
        10001 => "Leave the current meeting first.",
        10026..=10028 => "End the quick cast (pre-meeting share) first.",
        2 => "Enable the control system in the device's settings.",
        3 => "Sign the Rooms device in.",
        12 | 13 => "Check the device's network connection.",
        _ => "See the Rooms control API error table.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_complete() {
        for code in (10000..=10032)
            .chain(20000..=20019)
            .chain(40000..=40007)
            .chain(50000..=50004)
        {
            assert!(meaning(code).is_some(), "code {code} missing");
        }
        assert_eq!(meaning(16), Some("Rooms CSAPI Password Failed"));
        assert_eq!(meaning(-32700), Some("Parse error"));
        assert_eq!(meaning(12345), None);
    }
}
