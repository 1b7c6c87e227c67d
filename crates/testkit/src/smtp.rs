//! [`SmtpSink`]: a small SMTP server on `127.0.0.1:0` for tests. It speaks
//! enough of RFC 5321 for a real client (lettre): greeting, EHLO/HELO, MAIL,
//! RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT; it keeps every message
//! it accepts, parsed with `mail-parser`, and can refuse recipients
//! temporarily (451) or permanently (550) to test retries.
//!
//! (`mailin-embedded` was the first choice, but it cannot be stopped, runs a
//! thread pool per server, and needs rustls with its default provider, whose
//! C build is heavy; this sink is plain tokio and stops when dropped.)

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// One message as the server received it.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// The envelope's sender (`MAIL FROM`).
    pub from: String,
    /// The envelope's recipients (`RCPT TO`).
    pub to: Vec<String>,
    /// The message as sent (headers and encoded body).
    pub raw: Vec<u8>,
}

impl ReceivedMail {
    fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(&self.raw)
            .expect("the message parses")
    }

    /// The decoded subject.
    pub fn subject(&self) -> String {
        self.parsed().subject().unwrap_or_default().to_owned()
    }

    /// The decoded plain-text body.
    pub fn text(&self) -> String {
        self.parsed()
            .body_text(0)
            .map(|b| b.into_owned())
            .unwrap_or_default()
    }

    /// The `To:` header's first address.
    pub fn to_header(&self) -> String {
        self.parsed()
            .to()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .unwrap_or_default()
            .to_owned()
    }

    /// The `Message-ID`, without angle brackets.
    pub fn message_id(&self) -> String {
        self.parsed().message_id().unwrap_or_default().to_owned()
    }
}

/// How the sink answers `RCPT TO` for an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 451: try again later.
    Temporary,
    /// 550: no such mailbox.
    Permanent,
}

#[derive(Debug, Default)]
struct Shared {
    mails: Mutex<Vec<ReceivedMail>>,
    refusals: Mutex<HashMap<String, Refusal>>,
    arrived: Notify,
}

/// The server; it stops when dropped.
#[derive(Debug)]
pub struct SmtpSink {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let shared = Arc::new(Shared::default());
        let for_task = shared.clone();
        let task = tokio::spawn(async move {
            let mut sessions = tokio::task::JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                sessions.spawn(session(stream, for_task.clone()));
            }
        });
        SmtpSink { addr, shared, task }
    }

    /// The URL for lettre (`smtp://127.0.0.1:PORT`, no TLS).
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// Every message received so far, in order.
    pub fn mails(&self) -> Vec<ReceivedMail> {
        self.shared.mails.lock().expect("lock").clone()
    }

    /// Refuses (or, with `None`, accepts again) mail for `address`.
    pub fn refuse(&self, address: &str, refusal: Option<Refusal>) {
        let mut refusals = self.shared.refusals.lock().expect("lock");
        match refusal {
            Some(r) => refusals.insert(address.to_ascii_lowercase(), r),
            None => refusals.remove(&address.to_ascii_lowercase()),
        };
    }

    /// Waits up to `timeout` for at least `n` messages in all; returns them.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let arrived = self.shared.arrived.notified();
            let mails = self.mails();
            if mails.len() >= n || tokio::time::Instant::now() >= deadline {
                return mails;
            }
            tokio::time::timeout_at(deadline, arrived).await.ok();
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `<addr>` (with optional parameters after it) → `addr`.
fn path_of(argument: &str) -> String {
    let argument = argument.trim();
    let inner = argument
        .strip_prefix('<')
        .and_then(|rest| rest.split_once('>'))
        .map_or(argument, |(inner, _)| inner);
    inner.to_owned()
}

async fn session(stream: TcpStream, shared: Arc<Shared>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    let mut reply = async |text: &str| write.write_all(text.as_bytes()).await.is_ok();
    if !reply("220 opcity-test ESMTP ready\r\n").await {
        return;
    }
    let mut from = String::new();
    let mut to = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        match lines.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        let (verb, argument) = text.split_once([' ', ':']).unwrap_or((text, ""));
        let answer = match verb.to_ascii_uppercase().as_str() {
            "EHLO" => {
                "250-opcity-test\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 PIPELINING\r\n".to_owned()
            }
            "HELO" => "250 opcity-test\r\n".to_owned(),
            "MAIL" => {
                from = path_of(argument.trim_start_matches(|c| c != '<'));
                to.clear();
                "250 OK\r\n".to_owned()
            }
            "RCPT" => {
                let address = path_of(argument.trim_start_matches(|c| c != '<'));
                let refusal = shared
                    .refusals
                    .lock()
                    .expect("lock")
                    .get(&address.to_ascii_lowercase())
                    .copied();
                match refusal {
                    Some(Refusal::Temporary) => "451 4.3.0 try again later\r\n".to_owned(),
                    Some(Refusal::Permanent) => "550 5.1.1 no such mailbox\r\n".to_owned(),
                    None => {
                        to.push(address);
                        "250 OK\r\n".to_owned()
                    }
                }
            }
            "DATA" if to.is_empty() => "554 5.5.1 no valid recipients\r\n".to_owned(),
            "DATA" => {
                if !reply("354 end data with <CR><LF>.<CR><LF>\r\n").await {
                    return;
                }
                let mut raw = Vec::new();
                loop {
                    line.clear();
                    match lines.read_until(b'\n', &mut line).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    if line == b".\r\n" || line == b".\n" {
                        break;
                    }
                    // Dot-unstuffing (RFC 5321 §4.5.2).
                    let content = if line.starts_with(b"..") {
                        &line[1..]
                    } else {
                        &line[..]
                    };
                    raw.extend_from_slice(content);
                }
                shared.mails.lock().expect("lock").push(ReceivedMail {
                    from: std::mem::take(&mut from),
                    to: std::mem::take(&mut to),
                    raw,
                });
                shared.arrived.notify_waiters();
                "250 OK queued\r\n".to_owned()
            }
            "RSET" => {
                from.clear();
                to.clear();
                "250 OK\r\n".to_owned()
            }
            "NOOP" => "250 OK\r\n".to_owned(),
            "QUIT" => {
                reply("221 bye\r\n").await;
                return;
            }
            _ => "502 5.5.2 command not implemented\r\n".to_owned(),
        };
        if !reply(&answer).await {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::path_of;

    #[test]
    fn reads_paths_with_parameters() {
        assert_eq!(path_of("<a@b.org> SIZE=100"), "a@b.org");
        assert_eq!(path_of("<>"), "");
        assert_eq!(path_of("a@b.org"), "a@b.org");
    }
}
