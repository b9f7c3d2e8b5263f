//! [`MemoryMailer`]: the test stub.

use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use lettre::message::Mailbox;

use crate::{build, parse_mailbox, MailError, Mailer, Message};

/// Keeps every sent message in memory. It checks messages exactly like the real transports
/// (a message it accepts, SMTP and the outbox accept too).
pub struct MemoryMailer {
    from: Mailbox,
    sent: Mutex<Vec<Message>>,
}

impl Default for MemoryMailer {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryMailer {
    /// An empty mailer.
    pub fn new() -> Self {
        // A constant that parses; checked by the tests.
        #[allow(clippy::expect_used)]
        let from = parse_mailbox("newsdesk <desk@newsdesk.example>").expect("a valid sender");
        Self {
            from,
            sent: Mutex::new(Vec::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Message>> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Copies of the messages sent so far, oldest first.
    pub fn messages(&self) -> Vec<Message> {
        self.lock().clone()
    }

    /// The messages sent so far, emptying the mailer.
    pub fn take(&self) -> Vec<Message> {
        std::mem::take(&mut *self.lock())
    }

    /// How many messages were sent.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing was sent.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }
}

#[async_trait]
impl Mailer for MemoryMailer {
    async fn send(&self, m: &Message) -> Result<(), MailError> {
        build(&self.from, m)?;
        self.lock().push(m.clone());
        Ok(())
    }

    fn kind(&self) -> &'static str {
        "memory"
    }
}
