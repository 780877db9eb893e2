//! The UI's own labels in English and Chinese: a small `tr(key)` table.
//! Data from the room (nicknames, titles) is shown as it comes.

use serde::{Deserialize, Serialize};

/// The language of the UI's own labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Lang {
    #[default]
    En,
    Zh,
}

impl Lang {
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Zh => "中文",
        }
    }

    /// Translate a UI key. Unknown keys are shown as they are.
    pub fn tr(self, key: &'static str) -> &'static str {
        match self {
            Lang::En => en(key),
            Lang::Zh => zh(key).unwrap_or_else(|| en(key)),
        }
    }
}

fn en(key: &'static str) -> &'static str {
    match key {
        "connected" => "Connected",
        "connecting" => "Connecting…",
        "reconnecting_in" => "Reconnecting in",
        "attempt" => "attempt",
        "auth_failed" => "Authentication failed",
        "closed" => "Closed",
        "retry_now" => "Retry now",
        "cast_code" => "Cast code",
        "click_to_copy" => "Click to copy",
        "copied" => "Copied to the clipboard",
        "meeting" => "Meeting",
        "no_one_sharing" => "Nobody is sharing",
        "sharing_now" => "Sharing now",
        "this_room" => "this room",
        "role" => "Role",
        "terminal" => "Terminal",
        "content" => "Content",
        "screen" => "Screen",
        "whiteboard" => "Whiteboard",
        "quick_cast" => "Quick cast (pre-meeting)",
        "stop_share" => "Stop share",
        "end_quick_cast" => "End quick cast",
        "cancel_quick_cast" => "Cancel quick cast",
        "share_guide" => "Share guide on the room screen",
        "share_voice" => "Share the computer's sound",
        "fluency_first" => "Smooth motion (fluency first)",
        "next_share" => "Next share",
        "share_card" => "Share",
        "sources" => "Sources",
        "filter" => "Filter",
        "filter_hint" => "Filter sources (Ctrl+F)",
        "screens_devices" => "Screens & capture devices",
        "windows" => "Windows",
        "now_sharing" => "NOW SHARING",
        "requested" => "Starting…",
        "pending_thumb" => "Capturing…",
        "unavailable" => "Unavailable",
        "no_sources" => "No sources",
        "no_sources_hint" => "This machine's capture lists nothing to share.",
        "test_pattern" => "Test pattern",
        "health_still" => "Still",
        "health_black" => "Black",
        "health_stalled" => "Stalled",
        "health_no_signal" => "No signal",
        "health_no_power" => "No power",
        "health_gone" => "Gone",
        "shared_fault" => "The room is watching this:",
        "synthetic_sources" => "synthetic sources (test patterns)",
        "capture_waiting" => "Waiting for permission to capture",
        "capture_waiting_do" => "Allow screen sharing in the dialog that opened.",
        "capture_refused" => "Screen sharing was not allowed",
        "capture_refused_do" => "Ask again to open the dialog once more.",
        "capture_unavailable" => "This machine cannot capture its screens",
        "capture_unavailable_do" => "Fix what the reason says, then ask again.",
        "ask_again" => "Ask again (Ctrl+R)",
        "inspect" => "Inspect",
        "inspect_key" => "Inspect (I)",
        "inspector" => "Inspector",
        "fit" => "Fit",
        "save_snapshot" => "Save snapshot",
        "close_esc" => "Close (Esc)",
        "bars_check" => "Colour bars check",
        "saving" => "Saving…",
        "removing" => "Removing…",
        "saved_to" => "Saved",
        "waiting_first" => "Waiting for the first picture…",
        "probe" => "Pixel under the pointer",
        "probe_hint" => "Point at the picture to read a pixel.",
        "measuring" => "Measuring…",
        "capture_rate" => "Capture",
        "content_rate" => "Content",
        "interval" => "Interval",
        "frames" => "Frames",
        "frames_changed" => "changed",
        "frames_failed" => "failed",
        "signal" => "Signal",
        "timings" => "Timings",
        "pixel_format" => "Pixel format",
        "corrupt" => "Corrupt frames",
        "sizes" => "Size",
        "interval_plot" => "Frame interval, last 10 s",
        "timeline" => "Health since opened",
        "since" => "since",
        "health_live" => "Live",
        "signal_ok" => "OK",
        "bars_ok" => "Bars arrive as sent (every bar within 12 steps)",
        "bars_not_bars" => "This picture is not 75 % colour bars",
        "bars_swapped" => "Channels swapped:",
        "bars_white" => "White arrives at",
        "bars_black" => "Black is lifted to",
        "bars_off" => "Some bars are off (see the errors)",
        "bars_expected" => "sent",
        "bars_measured" => "seen",
        "bars_error" => "error R G B",
        "no_match" => "No source matches the filter",
        "no_ext" => "No live thumbnails: ",
        "no_ext_tail" => {
            "Tiles are built from the device's capture device list and the desktop (index 0)."
        }
        "desktop" => "Desktop",
        "monitor" => "Monitor",
        "capture_device" => "Capture device",
        "traffic" => "Traffic",
        "show_background" => "Show background polling",
        "clear" => "Clear",
        "copy" => "Copy",
        "copy_all" => "Copy all shown",
        "time" => "Time",
        "dir" => "Dir",
        "method" => "Method",
        "action" => "Action",
        "code" => "Code",
        "rtt" => "RTT",
        "frame" => "Frame",
        "select_frame" => "Select a frame to see it whole.",
        "simulator" => "Room simulator",
        "sim_meeting" => "Meeting",
        "start_meeting" => "Start meeting",
        "join_meeting" => "Join",
        "leave_meeting" => "Leave meeting",
        "meeting_code" => "Meeting code",
        "password" => "Password",
        "remote_participant" => "Remote participant",
        "nickname" => "Nickname",
        "phone" => "Phone",
        "start_remote_share" => "Starts sharing",
        "stop_remote_share" => "Stops sharing",
        "phone_quick_cast" => "A phone starts a quick cast",
        "set_cast_code" => "Set cast code",
        "connect" => "Connect…",
        "connection" => "Connect to a room",
        "room_url" => "Room address (ws://HOST:6295)",
        "password_not_saved" => {
            "The password is never saved: only the address is remembered, and you type the password again each time."
        }
        "recent_rooms" => "Recent rooms",
        "forget" => "Forget",
        "do_connect" => "Connect",
        "use_embedded" => "Use the embedded engine",
        "cancel" => "Cancel",
        "embedded_unavailable" => "The embedded engine is not running in this session.",
        "language" => "Language",
        "view" => "View",
        "keys_help" => {
            "←↑→↓ Home End move  ·  Enter share  ·  I inspect  ·  Esc stop  ·  Ctrl+F filter"
        }
        "stopped_because" => "The last share stopped by itself:",
        "not_known" => "unknown",
        "fps" => "fps",
        "dismiss" => "Dismiss",
        "hint" => "What to do",
        "source_shared" => "Shared source",
        "link" => "Link",
        "room_status" => "Room",
        "rooms" => "Rooms",
        "this_computer" => "This computer",
        "room" => "Room",
        "sharing_col" => "Sharing",
        "guide_col" => "Guide",
        "changed" => "Changed",
        "last_action" => "Last action",
        "sort_by_this" => "Sort by this column",
        "no_group" => "No group",
        "open_guide" => "Open share guide",
        "close_guide" => "Close share guide",
        "rooms_filter_hint" => "Name, group, sharer, code (Ctrl+F)",
        "show" => "Show",
        "all_rooms" => "All",
        "problems" => "Problems",
        "sort" => "Sort",
        "sort_name" => "Name",
        "sort_state" => "Problems first",
        "sort_changed" => "Recently changed",
        "add_room" => "Add room…",
        "edit_room" => "Edit room…",
        "remove_room" => "Remove room",
        "saved_in" => "Saved in",
        "save" => "Save",
        "room_name" => "Name",
        "group" => "Group",
        "password_from" => "Password",
        "no_password" => "None",
        "password_env" => "Environment variable",
        "password_file" => "Password file",
        "password_inline" => "Typed here",
        "variable_name" => "Variable name",
        "password_file_path" => "File (relative to the rooms file)",
        "inline_password_rule" => {
            "A password in the rooms file is accepted only while the file is readable by you alone (chmod 600)."
        }
        "store_in_keychain" => "Store in the system keychain",
        "keychain_hint" => {
            "Kept in the system keychain, not in the rooms file (which only says password_keyring = true); its entry: service roomshare, user"
        }
        "keychain_keep_hint" => {
            "The password is in the system keychain; leave the field empty to keep it, or type a new one."
        }
        "no_keychain_hint" => {
            "No system keychain answered: the password is written into the rooms file, accepted only while the file is readable by you alone (chmod 600)."
        }
        "saved_room" => "Saved",
        "removed_rooms" => "Removed",
        "rooms_keys_help" => {
            "↑↓ Home End move  ·  Space select  ·  Ctrl+A all  ·  Enter open  ·  Esc clear  ·  Ctrl+F filter"
        }
        other => other,
    }
}

fn zh(key: &'static str) -> Option<&'static str> {
    Some(match key {
        "connected" => "已连接",
        "connecting" => "连接中…",
        "reconnecting_in" => "重新连接倒计时",
        "attempt" => "第几次",
        "auth_failed" => "认证失败",
        "closed" => "已关闭",
        "retry_now" => "立即重试",
        "cast_code" => "投屏码",
        "click_to_copy" => "点击复制",
        "copied" => "已复制到剪贴板",
        "meeting" => "会议",
        "no_one_sharing" => "无人共享",
        "sharing_now" => "正在共享",
        "this_room" => "本会议室",
        "role" => "角色",
        "terminal" => "终端",
        "content" => "内容",
        "screen" => "屏幕",
        "whiteboard" => "白板",
        "quick_cast" => "会前投屏",
        "stop_share" => "停止共享",
        "end_quick_cast" => "结束投屏",
        "cancel_quick_cast" => "取消投屏",
        "share_guide" => "会议室屏幕显示共享引导",
        "share_voice" => "共享电脑声音",
        "fluency_first" => "流畅度优先",
        "next_share" => "下次共享",
        "share_card" => "共享",
        "sources" => "共享源",
        "filter" => "筛选",
        "filter_hint" => "筛选共享源 (Ctrl+F)",
        "screens_devices" => "屏幕与采集设备",
        "windows" => "窗口",
        "now_sharing" => "正在共享",
        "requested" => "正在开始…",
        "pending_thumb" => "正在截取…",
        "unavailable" => "不可用",
        "no_sources" => "没有共享源",
        "no_sources_hint" => "本机采集没有列出可共享的内容。",
        "test_pattern" => "测试图案",
        "health_still" => "静止",
        "health_black" => "黑屏",
        "health_stalled" => "停滞",
        "health_no_signal" => "无信号",
        "health_no_power" => "无电源",
        "health_gone" => "已消失",
        "shared_fault" => "会议室正在看到：",
        "synthetic_sources" => "合成共享源（测试图案）",
        "capture_waiting" => "正在等待截屏授权",
        "capture_waiting_do" => "请在弹出的对话框中允许屏幕共享。",
        "capture_refused" => "屏幕共享未获允许",
        "capture_refused_do" => "点击“重新请求”再次打开对话框。",
        "capture_unavailable" => "本机无法截取屏幕",
        "capture_unavailable_do" => "请按原因处理后重新请求。",
        "ask_again" => "重新请求 (Ctrl+R)",
        "inspect" => "检查",
        "inspect_key" => "检查 (I)",
        "inspector" => "检查器",
        "fit" => "适应",
        "save_snapshot" => "保存快照",
        "close_esc" => "关闭 (Esc)",
        "bars_check" => "彩条检查",
        "saving" => "正在保存…",
        "removing" => "正在删除…",
        "saved_to" => "已保存",
        "waiting_first" => "正在等待第一帧画面…",
        "probe" => "指针下的像素",
        "probe_hint" => "将指针移到画面上以读取像素。",
        "measuring" => "正在测量…",
        "capture_rate" => "采集",
        "content_rate" => "内容",
        "interval" => "帧间隔",
        "frames" => "帧数",
        "frames_changed" => "变化",
        "frames_failed" => "失败",
        "signal" => "信号",
        "timings" => "时序",
        "pixel_format" => "像素格式",
        "corrupt" => "损坏帧",
        "sizes" => "尺寸",
        "interval_plot" => "帧间隔（最近 10 秒）",
        "timeline" => "打开以来的状态",
        "since" => "持续自",
        "health_live" => "正常",
        "signal_ok" => "正常",
        "bars_ok" => "彩条与发送一致（每条误差在 12 级以内）",
        "bars_not_bars" => "此画面不是 75% 彩条",
        "bars_swapped" => "通道互换：",
        "bars_white" => "白电平为",
        "bars_black" => "黑电平抬高到",
        "bars_off" => "部分彩条偏差较大（见误差）",
        "bars_expected" => "应为",
        "bars_measured" => "实测",
        "bars_error" => "误差 R G B",
        "no_match" => "没有匹配的共享源",
        "no_ext" => "没有实时缩略图：",
        "no_ext_tail" => "磁贴来自设备的采集设备列表和桌面（序号 0）。",
        "desktop" => "桌面",
        "monitor" => "显示器",
        "capture_device" => "采集设备",
        "traffic" => "通信记录",
        "show_background" => "显示后台轮询",
        "clear" => "清空",
        "copy" => "复制",
        "copy_all" => "复制全部显示项",
        "time" => "时间",
        "dir" => "方向",
        "method" => "方法",
        "action" => "动作",
        "code" => "错误码",
        "rtt" => "往返",
        "frame" => "报文",
        "select_frame" => "选择一条报文查看全文。",
        "simulator" => "会议室模拟器",
        "sim_meeting" => "会议",
        "start_meeting" => "开始会议",
        "join_meeting" => "加入",
        "leave_meeting" => "离开会议",
        "meeting_code" => "会议号",
        "password" => "密码",
        "remote_participant" => "远程参会者",
        "nickname" => "昵称",
        "phone" => "手机",
        "start_remote_share" => "开始共享",
        "stop_remote_share" => "停止共享",
        "phone_quick_cast" => "手机发起会前投屏",
        "set_cast_code" => "设置投屏码",
        "connect" => "连接…",
        "connection" => "连接会议室",
        "room_url" => "会议室地址 (ws://主机:6295)",
        "password_not_saved" => "密码从不保存：只记住地址，每次连接需重新输入密码。",
        "recent_rooms" => "最近的会议室",
        "forget" => "移除",
        "do_connect" => "连接",
        "use_embedded" => "使用内置引擎",
        "cancel" => "取消",
        "embedded_unavailable" => "本次会话没有运行内置引擎。",
        "language" => "语言",
        "view" => "视图",
        "keys_help" => "方向键 移动 · 回车 共享 · I 检查 · Esc 停止 · Ctrl+F 筛选",
        "stopped_because" => "上次共享自动停止：",
        "not_known" => "未知",
        "fps" => "帧/秒",
        "dismiss" => "关闭",
        "hint" => "建议",
        "source_shared" => "共享的源",
        "link" => "连接",
        "room_status" => "会议室",
        "rooms" => "会议室",
        "this_computer" => "本机",
        "room" => "会议室",
        "sharing_col" => "共享",
        "guide_col" => "引导",
        "changed" => "变化于",
        "last_action" => "上次操作",
        "sort_by_this" => "按此列排序",
        "no_group" => "未分组",
        "open_guide" => "打开共享引导",
        "close_guide" => "关闭共享引导",
        "rooms_filter_hint" => "名称、分组、共享者、投屏码 (Ctrl+F)",
        "show" => "显示",
        "all_rooms" => "全部",
        "problems" => "有问题",
        "sort" => "排序",
        "sort_name" => "名称",
        "sort_state" => "问题优先",
        "sort_changed" => "最近变化",
        "add_room" => "添加会议室…",
        "edit_room" => "编辑会议室…",
        "remove_room" => "移除会议室",
        "saved_in" => "保存在",
        "save" => "保存",
        "room_name" => "名称",
        "group" => "分组",
        "password_from" => "密码",
        "no_password" => "无",
        "password_env" => "环境变量",
        "password_file" => "密码文件",
        "password_inline" => "在此输入",
        "variable_name" => "变量名",
        "password_file_path" => "文件（相对列表文件）",
        "inline_password_rule" => {
            "只有当列表文件仅你本人可读（chmod 600）时，才接受写在其中的密码。"
        }
        "store_in_keychain" => "存入系统钥匙串",
        "keychain_hint" => {
            "密码存于系统钥匙串，不写入列表文件（其中只写 password_keyring = true）；条目：服务 roomshare，用户"
        }
        "keychain_keep_hint" => "密码已在系统钥匙串中；留空则保持不变，或输入新密码。",
        "no_keychain_hint" => {
            "没有可用的系统钥匙串：密码将写入列表文件，且仅当该文件只有你本人可读（chmod 600）时才被接受。"
        }
        "saved_room" => "已保存",
        "removed_rooms" => "已移除",
        "rooms_keys_help" => {
            "方向键 移动 · 空格 选择 · Ctrl+A 全选 · 回车 打开 · Esc 取消选择 · Ctrl+F 筛选"
        }
        _ => return None,
    })
}

/// Localised names of protocol enums (the protocol module has English ones).
pub fn meeting_status(lang: Lang, status: i64) -> &'static str {
    match lang {
        Lang::En => crate::protocol::model::meeting_status_name(status),
        Lang::Zh => match status {
            0 => "未在会议中",
            1 => "会议中",
            2 => "正在入会",
            3 => "等候室",
            4 => "会前投屏中",
            5 => "会前通话中",
            _ => "未知状态",
        },
    }
}

pub fn quick_cast_state(lang: Lang, state: i64) -> &'static str {
    match lang {
        Lang::En => crate::protocol::model::quick_cast_name(state),
        Lang::Zh => match state {
            0 => "未开始",
            1 => "准备中",
            2 => "投屏中",
            _ => "未知",
        },
    }
}

pub fn role(lang: Lang, role_type: i64) -> &'static str {
    match lang {
        Lang::En => crate::protocol::model::role_name(role_type),
        Lang::Zh => match role_type {
            1 => "主持人",
            2 => "联席主持人",
            3 => "参会者",
            4 => "内部嘉宾",
            5..=7 => "外部嘉宾",
            8 => "同传译员",
            _ => "未知角色",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::path::Path;

    /// The keys of one table (`fn en` or `fn zh`), read from this file's
    /// source: a `match` cannot be listed at run time.
    fn table_keys(table: &str) -> BTreeSet<&'static str> {
        let source = include_str!("i18n.rs");
        let start = source
            .find(&format!("\nfn {table}("))
            .expect("the table's function");
        let end = source[start + 1..]
            .find("\nfn ")
            .map_or(source.len(), |e| start + 1 + e);
        source[start..end]
            .lines()
            .filter_map(|line| {
                let rest = line.trim_start().strip_prefix('"')?;
                let (key, arm) = rest.split_once('"')?;
                arm.trim_start().starts_with("=>").then_some(key)
            })
            .collect()
    }

    #[test]
    fn every_chinese_key_has_english() {
        let (english, chinese) = (table_keys("en"), table_keys("zh"));
        assert!(english.len() > 100, "found only {} keys", english.len());
        for &key in &chinese {
            assert!(english.contains(key), "{key:?} has Chinese but no English");
            assert_ne!(Lang::Zh.tr(key), Lang::En.tr(key), "{key:?}");
        }
        for &key in &english {
            assert!(zh(key).is_some(), "{key:?} has English but no Chinese");
        }
        assert_eq!(english, chinese);
        assert_eq!(Lang::Zh.tr("no-such-key"), "no-such-key");
    }

    /// `snake_case` strings in the UI that are not text keys (ids, say).
    const NOT_KEYS: &[&str] = &[];

    /// The UI's Rust files, without this one and without test modules.
    fn ui_sources(dir: &Path, out: &mut Vec<(String, String)>) {
        let entries = std::fs::read_dir(dir).expect("read src/ui");
        for path in entries.map(|e| e.expect("a directory entry").path()) {
            if path.is_dir() {
                ui_sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("i18n.rs") {
                let text = std::fs::read_to_string(&path).expect("read a UI file");
                let code = text.split("#[cfg(test)]").next().unwrap_or_default();
                out.push((path.display().to_string(), code.to_string()));
            }
        }
    }

    /// `tr("key")` calls (rustfmt may break them over lines).
    fn tr_literals(code: &str) -> Vec<String> {
        let mut keys = Vec::new();
        for (at, _) in code.match_indices("tr(") {
            let before = code[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let rest = code[at + 3..].trim_start();
            let Some(rest) = rest.strip_prefix('"') else {
                continue;
            };
            if let Some((key, _)) = rest.split_once('"') {
                keys.push(key.to_string());
            }
        }
        keys
    }

    /// String literals shaped like keys (`snake_case` with an underscore):
    /// the keys handed to `tr` through a variable (`tr(label)`).
    fn snake_literals(code: &str) -> Vec<String> {
        let snake = |s: &str| {
            s.contains('_')
                && s.starts_with(|c: char| c.is_ascii_lowercase())
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        };
        code.split('"')
            .filter(|s| snake(s))
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn every_text_key_the_ui_names_is_in_both_tables() {
        let mut files = Vec::new();
        ui_sources(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ui"),
            &mut files,
        );
        let (english, chinese) = (table_keys("en"), table_keys("zh"));
        let (mut literal, mut shaped) = (0, 0);
        for (path, code) in &files {
            for key in tr_literals(code) {
                literal += 1;
                let known = english.contains(key.as_str()) && chinese.contains(key.as_str());
                assert!(
                    known,
                    "{path}: tr({key:?}) is missing from a table in i18n.rs"
                );
            }
            for key in snake_literals(code) {
                if NOT_KEYS.contains(&key.as_str()) {
                    continue;
                }
                shaped += 1;
                let known = english.contains(key.as_str()) && chinese.contains(key.as_str());
                assert!(
                    known,
                    "{path}: {key:?} looks like a text key but is missing from a table in \
                     i18n.rs (if it is not one, add it to NOT_KEYS)"
                );
            }
        }
        assert!(literal > 100, "found only {literal} tr(\"key\") calls");
        assert!(shaped > 50, "found only {shaped} key-shaped strings");
    }
}
