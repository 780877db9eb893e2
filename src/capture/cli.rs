//! `roomshare sources` and `roomshare snap`.
