//! The e-mail outbox: retried with back-off until it goes, and sent once even with several
//! workers at it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use parota::mail::{deliver_due, enqueue, Mailer, NewEmail, OutboxEmail};

use crate::helpers::TestApp;

/// Fails the first `failures` sends, then records what it sends (slowly, to invite races).
struct Recorder {
    failures: AtomicUsize,
    sent: Mutex<Vec<String>>,
}

impl Mailer for Recorder {
    fn send(&self, email: &OutboxEmail) -> Result<(), String> {
        if self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err("relay not answering".into());
        }
        std::thread::sleep(StdDuration::from_millis(5));
        self.sent.lock().unwrap().push(email.id.clone());
        Ok(())
    }
}

fn email(n: usize) -> NewEmail {
    NewEmail {
        organisation_id: None,
        dedupe_key: format!("test:{n}"),
        recipient: format!("person{n}@example.test"),
        subject: "Test".into(),
        body: "Hello".into(),
    }
}

#[actix_web::test]
async fn a_failed_send_is_retried_after_a_back_off_and_sent_once() {
    let app = TestApp::spawn().await;
    let mut conn = app.conn();
    let now = Utc::now();
    assert!(enqueue(&mut conn, email(1), now).unwrap());
    // The same event again: no second e-mail.
    assert!(!enqueue(&mut conn, email(1), now).unwrap());
    let mailer = Recorder {
        failures: AtomicUsize::new(1),
        sent: Mutex::default(),
    };
    assert_eq!(deliver_due(&mut conn, &mailer, "w", now).unwrap(), (0, 1));
    // Not yet due again: the first back-off is 30 s.
    assert_eq!(
        deliver_due(&mut conn, &mailer, "w", now + Duration::seconds(10)).unwrap(),
        (0, 0)
    );
    assert_eq!(
        deliver_due(&mut conn, &mailer, "w", now + Duration::seconds(31)).unwrap(),
        (1, 0)
    );
    assert_eq!(
        deliver_due(&mut conn, &mailer, "w", now + Duration::hours(2)).unwrap(),
        (0, 0)
    );
    assert_eq!(mailer.sent.lock().unwrap().len(), 1);
}

#[actix_web::test]
async fn two_workers_never_send_one_email_twice() {
    let app = TestApp::spawn().await;
    let now = Utc::now();
    {
        let mut conn = app.conn();
        for n in 0..20 {
            enqueue(&mut conn, email(n), now).unwrap();
        }
    }
    let mailer = Arc::new(Recorder {
        failures: AtomicUsize::new(0),
        sent: Mutex::default(),
    });
    let workers: Vec<_> = (0..2)
        .map(|w| {
            let pool = app.pool().clone();
            let mailer = mailer.clone();
            std::thread::spawn(move || {
                let mut conn = pool.get().unwrap();
                deliver_due(&mut conn, mailer.as_ref(), &format!("worker-{w}"), now).unwrap()
            })
        })
        .collect();
    let sent: usize = workers.into_iter().map(|w| w.join().unwrap().0).sum();
    assert_eq!(sent, 20);
    let mut ids = mailer.sent.lock().unwrap().clone();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 20);
}
