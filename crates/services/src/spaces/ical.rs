//! iCalendar (RFC 5545) export of bookings, so that founders and
//! institutions see them in any calendar application. Times are written in
//! UTC (`...Z`), which every client converts to its own zone; the calendar
//! names Asia/Shanghai as its display zone.

use chrono::{DateTime, Utc};

/// One booking as a calendar event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Globally unique and stable: `booking-12@opcity`.
    pub uid: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub summary: String,
    pub description: Option<String>,
    /// `TENTATIVE` (awaiting approval) or `CONFIRMED`.
    pub status: &'static str,
}

fn stamp(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// TEXT values escape backslash, semicolon, comma and line breaks.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            other => out.push(other),
        }
    }
    out
}

/// Lines longer than 75 octets are folded: CRLF and a space, never inside
/// a UTF-8 character.
fn push_line(out: &mut String, line: &str) {
    let mut width = 0;
    for ch in line.chars() {
        let len = ch.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(ch);
        width += len;
    }
    out.push_str("\r\n");
}

/// A whole calendar.
pub fn calendar(name: &str, events: &[Event], now: DateTime<Utc>) -> String {
    let mut out = String::new();
    push_line(&mut out, "BEGIN:VCALENDAR");
    push_line(&mut out, "VERSION:2.0");
    push_line(&mut out, "PRODID:-//opcity//instrument bookings//EN");
    push_line(&mut out, "CALSCALE:GREGORIAN");
    push_line(&mut out, "METHOD:PUBLISH");
    push_line(&mut out, &format!("X-WR-CALNAME:{}", escape(name)));
    push_line(&mut out, "X-WR-TIMEZONE:Asia/Shanghai");
    for e in events {
        push_line(&mut out, "BEGIN:VEVENT");
        push_line(&mut out, &format!("UID:{}", escape(&e.uid)));
        push_line(&mut out, &format!("DTSTAMP:{}", stamp(now)));
        push_line(&mut out, &format!("DTSTART:{}", stamp(e.start)));
        push_line(&mut out, &format!("DTEND:{}", stamp(e.end)));
        push_line(&mut out, &format!("SUMMARY:{}", escape(&e.summary)));
        if let Some(d) = &e.description {
            push_line(&mut out, &format!("DESCRIPTION:{}", escape(d)));
        }
        push_line(&mut out, &format!("STATUS:{}", e.status));
        push_line(&mut out, "END:VEVENT");
    }
    push_line(&mut out, "END:VCALENDAR");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn writes_events_in_utc_with_escaped_text_and_crlf() {
        let text = calendar(
            "GPU, A100",
            &[Event {
                uid: "booking-1@opcity".into(),
                start: at("2026-05-01T01:00:00Z"),
                end: at("2026-05-01T02:00:00Z"),
                summary: "Booked; training\nrun".into(),
                description: None,
                status: "CONFIRMED",
            }],
            at("2026-04-01T00:00:00Z"),
        );
        assert!(text.starts_with("BEGIN:VCALENDAR\r\n"));
        assert!(text.ends_with("END:VCALENDAR\r\n"));
        assert!(text.contains("X-WR-CALNAME:GPU\\, A100\r\n"));
        assert!(text.contains("DTSTART:20260501T010000Z\r\n"));
        assert!(text.contains("DTEND:20260501T020000Z\r\n"));
        assert!(text.contains("SUMMARY:Booked\\; training\\nrun\r\n"));
        assert!(!text.replace("\r\n", "").contains('\n'), "bare LF");
    }

    #[test]
    fn folds_long_lines_at_75_octets_between_characters() {
        let mut out = String::new();
        let long = format!("SUMMARY:{}", "算力".repeat(30));
        push_line(&mut out, &long);
        for line in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(line.len() <= 75, "{} octets", line.len());
        }
        assert_eq!(out.replace("\r\n ", "").trim_end(), long);
    }
}
