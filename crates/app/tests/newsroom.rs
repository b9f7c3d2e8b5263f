//! Newsroom use cases over a real SQLite store and a manual clock: the role × action matrix,
//! the workflow, stale saves, scheduling across a restart, embargoes, logins and sessions.
#![allow(clippy::unwrap_used)]

use chrono::{Duration, TimeZone, Utc};
use newsdesk_app::{App, AppError, SiteConfig, StoryForm};
use newsdesk_domain::*;
use newsdesk_store::Store;
use std::sync::Arc;

fn t0() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap()
}

struct Room {
    app: Arc<App>,
    store: Arc<dyn Store>,
    clock: Arc<ManualClock>,
    users: Vec<User>, // contributor, author, editor, admin, second contributor
}

async fn room() -> Room {
    let store = newsdesk_store_sqlite::temp_store().unwrap();
    let media = store.path().parent().unwrap().join("media");
    newsdesk_demo::seed(
        &*store,
        &newsdesk_demo::DemoOptions {
            stories: 10,
            now: t0(),
            seed: 3,
            media_dir: media,
        },
    )
    .await
    .unwrap();
    let store: Arc<dyn Store> = store;
    let clock = Arc::new(ManualClock::new(t0()));
    let app = App::load(store.clone(), clock.clone(), SiteConfig::default())
        .await
        .unwrap();
    let mut users = Vec::new();
    for (i, role) in [
        Role::Contributor,
        Role::Author,
        Role::Editor,
        Role::Admin,
        Role::Contributor,
    ]
    .into_iter()
    .enumerate()
    {
        users.push(
            app.add_user(
                &format!("u{i}@example.org"),
                &format!("User {i}"),
                role,
                "a long enough password",
            )
            .await
            .unwrap(),
        );
    }
    Room {
        app,
        store,
        clock,
        users,
    }
}

fn form(headline: &str) -> StoryForm {
    StoryForm {
        headline: headline.into(),
        summary: "A summary.".into(),
        body_md: "Some **body** text.\n\n<script>alert(1)</script>".into(),
        kind: "news".into(),
        sector: "health".into(),
        editions: vec![
            ("south-asia".into(), "2".into()),
            ("global".into(), "".into()),
        ],
        tags: "malaria, New Tag".into(),
        ..Default::default()
    }
}

fn done(step: newsdesk_app::LoginStep) -> newsdesk_app::Login {
    match step {
        newsdesk_app::LoginStep::Done(l) => l,
        other => panic!("expected a finished login, got {other:?}"),
    }
}

fn allowed<T>(r: &Result<T, AppError>) -> bool {
    match r {
        Ok(_) => true,
        Err(AppError::Forbidden) => false,
        Err(e) => panic!("unexpected error {e:?}"),
    }
}

#[tokio::test]
async fn role_action_matrix() {
    let r = room().await;
    let [contrib, author, editor, admin, other] = [0, 1, 2, 3, 4].map(|i| r.users[i].clone());
    // (action, which roles may) — roles in order contributor, author, editor, admin.
    let mut table: Vec<(&str, [bool; 4])> = Vec::new();
    let who = [&contrib, &author, &editor, &admin];

    // Create.
    let mut row = [false; 4];
    for (i, u) in who.iter().enumerate() {
        row[i] = allowed(
            &r.app
                .create_story(u, &form(&format!("Created by {i}")))
                .await,
        );
    }
    table.push(("create", row));

    // Edit one's own draft / someone else's draft.
    let mut own = [false; 4];
    let mut others = [false; 4];
    for (i, u) in who.iter().enumerate() {
        let mine = r
            .app
            .create_story(u, &form(&format!("Mine {i}")))
            .await
            .unwrap();
        own[i] = allowed(
            &r.app
                .save_story(u, mine.id, mine.version, &form(&format!("Mine {i} edited")))
                .await,
        );
        let theirs = r
            .app
            .create_story(&other, &form(&format!("Theirs {i}")))
            .await
            .unwrap();
        others[i] = allowed(
            &r.app
                .save_story(
                    u,
                    theirs.id,
                    theirs.version,
                    &form(&format!("Theirs {i} edited")),
                )
                .await,
        );
    }
    table.push(("edit own draft", own));
    table.push(("edit another's draft", others));

    // Submit own / another's.
    let mut sub_own = [false; 4];
    let mut sub_other = [false; 4];
    for (i, u) in who.iter().enumerate() {
        let mine = r
            .app
            .create_story(u, &form(&format!("Submit mine {i}")))
            .await
            .unwrap();
        sub_own[i] = allowed(
            &r.app
                .transition(u, mine.id, mine.version, Transition::Submit, None)
                .await,
        );
        let theirs = r
            .app
            .create_story(&other, &form(&format!("Submit theirs {i}")))
            .await
            .unwrap();
        sub_other[i] = allowed(
            &r.app
                .transition(u, theirs.id, theirs.version, Transition::Submit, None)
                .await,
        );
    }
    table.push(("submit own", sub_own));
    table.push(("submit another's", sub_other));

    // Editorial steps on a story in review (fresh one per try).
    for step in [
        Transition::SendBack,
        Transition::Publish,
        Transition::Schedule,
        Transition::Kill,
    ] {
        let mut row = [false; 4];
        for (i, u) in who.iter().enumerate() {
            let s = r
                .app
                .create_story(&other, &form(&format!("{} {i}", step.as_str())))
                .await
                .unwrap();
            let s = r
                .app
                .transition(&editor, s.id, s.version, Transition::Submit, None)
                .await
                .unwrap();
            let at = (step == Transition::Schedule).then(|| t0() + Duration::hours(3));
            row[i] = allowed(&r.app.transition(u, s.id, s.version, step, at).await);
        }
        table.push((step.as_str(), row));
    }
    // Unpublish and correct on a published story.
    let mut unpub = [false; 4];
    let mut correct = [false; 4];
    let mut restore = [false; 4];
    for (i, u) in who.iter().enumerate() {
        let s = r
            .app
            .create_story(&other, &form(&format!("Published {i}")))
            .await
            .unwrap();
        let s = r
            .app
            .transition(&editor, s.id, s.version, Transition::Submit, None)
            .await
            .unwrap();
        let s = r
            .app
            .transition(&editor, s.id, s.version, Transition::Publish, None)
            .await
            .unwrap();
        correct[i] = allowed(
            &r.app
                .correct_story(u, s.id, s.version, "It said A.", "It is B.")
                .await,
        );
        let s = r.store.get_story(s.id).await.unwrap();
        let rev = r
            .store
            .list_revisions(s.id)
            .await
            .unwrap()
            .last()
            .unwrap()
            .id;
        restore[i] = allowed(&r.app.restore_revision(u, s.id, s.version, rev).await);
        let s = r.store.get_story(s.id).await.unwrap();
        unpub[i] = allowed(
            &r.app
                .transition(u, s.id, s.version, Transition::Unpublish, None)
                .await,
        );
    }
    table.push(("correct", correct));
    table.push(("restore revision", restore));
    table.push(("unpublish", unpub));

    // Accounts.
    let mut invite = [false; 4];
    let mut access = [false; 4];
    for (i, u) in who.iter().enumerate() {
        invite[i] = allowed(
            &r.app
                .invite(u, &format!("new{i}@example.org"), Role::Author)
                .await,
        );
        access[i] = allowed(
            &r.app
                .set_user_access(u, other.id, Role::Author, false)
                .await,
        );
    }
    table.push(("invite", invite));
    table.push(("change access", access));

    let expected: Vec<(&str, [bool; 4])> = vec![
        ("create", [true, true, true, true]),
        ("edit own draft", [true, true, true, true]),
        ("edit another's draft", [false, false, true, true]),
        ("submit own", [true, true, true, true]),
        ("submit another's", [false, false, true, true]),
        ("send-back", [false, false, true, true]),
        ("publish", [false, false, true, true]),
        ("schedule", [false, false, true, true]),
        ("kill", [false, false, true, true]),
        ("correct", [false, false, true, true]),
        ("restore revision", [false, false, true, true]),
        ("unpublish", [false, false, true, true]),
        ("invite", [false, false, false, true]),
        ("change access", [false, false, false, true]),
    ];
    assert_eq!(table, expected);
}

#[tokio::test]
async fn a_contributor_cannot_edit_their_story_once_submitted_and_steps_cannot_be_skipped() {
    let r = room().await;
    let (contrib, editor) = (r.users[0].clone(), r.users[2].clone());
    let s = r
        .app
        .create_story(&contrib, &form("A draft"))
        .await
        .unwrap();
    assert!(
        !s.body_html.contains("<script"),
        "the body is sanitised whoever wrote it"
    );
    let published_direct = r
        .app
        .transition(&editor, s.id, s.version, Transition::Publish, None)
        .await;
    assert!(
        matches!(published_direct, Err(AppError::Conflict(_))),
        "a draft is not published without review"
    );
    let s = r
        .app
        .transition(&contrib, s.id, s.version, Transition::Submit, None)
        .await
        .unwrap();
    assert!(matches!(
        r.app
            .save_story(&contrib, s.id, s.version, &form("Changed"))
            .await,
        Err(AppError::Forbidden)
    ));
    let unpub = r
        .app
        .transition(&editor, s.id, s.version, Transition::Unpublish, None)
        .await;
    assert!(matches!(unpub, Err(AppError::Conflict(_))));
    let killed = r
        .app
        .transition(&editor, s.id, s.version, Transition::Kill, None)
        .await
        .unwrap();
    for t in Transition::ALL {
        assert!(
            r.app
                .transition(&editor, s.id, killed.version, t, None)
                .await
                .is_err(),
            "killed is final"
        );
    }
}

#[tokio::test]
async fn a_stale_save_is_refused_and_loses_nothing() {
    let r = room().await;
    let editor = r.users[2].clone();
    let s = r
        .app
        .create_story(&editor, &form("Original"))
        .await
        .unwrap();
    let first = r
        .app
        .save_story(&editor, s.id, s.version, &form("First editor's change"))
        .await
        .unwrap();
    let stale = r
        .app
        .save_story(&editor, s.id, s.version, &form("Second editor's change"))
        .await;
    assert!(matches!(stale, Err(AppError::Conflict(_))), "got {stale:?}");
    assert_eq!(
        r.store.get_story(s.id).await.unwrap().headline.as_str(),
        "First editor's change"
    );
    assert_eq!(first.version, 2);
    let bad = r
        .app
        .save_story(
            &editor,
            s.id,
            first.version,
            &StoryForm {
                headline: "".into(),
                kind: "gossip".into(),
                ..form("")
            },
        )
        .await;
    match bad {
        Err(AppError::Invalid(fields)) => {
            let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
            assert!(
                names.contains(&"headline") && names.contains(&"kind"),
                "{names:?}"
            );
        }
        other => panic!("expected field errors, got {other:?}"),
    }
    assert_eq!(
        r.store.get_story(s.id).await.unwrap().version,
        2,
        "a refused save changes nothing"
    );
}

#[tokio::test]
async fn scheduled_story_publishes_once_even_across_a_restart() {
    let r = room().await;
    let editor = r.users[2].clone();
    let s = r
        .app
        .create_story(&editor, &form("Scheduled for later"))
        .await
        .unwrap();
    let s = r
        .app
        .transition(&editor, s.id, s.version, Transition::Submit, None)
        .await
        .unwrap();
    let at = t0() + Duration::hours(2);
    r.app
        .transition(&editor, s.id, s.version, Transition::Schedule, Some(at))
        .await
        .unwrap();
    assert!(r.app.publish_due().await.unwrap().is_empty());
    assert!(r
        .app
        .read()
        .public_by_slug(s.slug.as_str(), r.app.now())
        .is_none());
    // The server is down at the publication time; it starts again three hours later.
    let clock = Arc::new(ManualClock::new(t0() + Duration::hours(5)));
    let again = App::load(r.store.clone(), clock.clone(), SiteConfig::default())
        .await
        .unwrap();
    // (The demo's own scheduled story falls due too.)
    assert!(again.publish_due().await.unwrap().contains(&s.id));
    assert!(
        again.publish_due().await.unwrap().is_empty(),
        "exactly once"
    );
    let card = again
        .read()
        .public_by_slug(s.slug.as_str(), again.now())
        .unwrap();
    assert_eq!(card.published_at, Some(at), "it carries its scheduled time");
    // The first node, catching up, does not publish it again.
    r.clock.set(t0() + Duration::hours(5));
    assert!(r.app.publish_due().await.unwrap().is_empty());
}

/// Scheduled publishing runs on the job table: however many nodes notice a story is due, one
/// "publish due" job is queued, and the story is published once, by whichever node runs it.
#[tokio::test]
async fn a_due_scheduled_story_is_one_job_whichever_node_notices() {
    let r = room().await;
    let editor = r.users[2].clone();
    let s = r
        .app
        .create_story(&editor, &form("Scheduled on the job table"))
        .await
        .unwrap();
    let s = r
        .app
        .transition(&editor, s.id, s.version, Transition::Submit, None)
        .await
        .unwrap();
    let at = t0() + Duration::hours(2);
    r.app
        .transition(&editor, s.id, s.version, Transition::Schedule, Some(at))
        .await
        .unwrap();
    assert_eq!(r.app.queue_due_publications().await.unwrap(), 0, "not yet");
    // Two nodes over one database notice the story is due.
    r.clock.set(at + Duration::seconds(1));
    let other = App::load(r.store.clone(), r.clock.clone(), SiteConfig::default())
        .await
        .unwrap();
    assert_eq!(r.app.queue_due_publications().await.unwrap(), 1);
    assert_eq!(other.queue_due_publications().await.unwrap(), 0);
    let queued = r.store.list_jobs(Some(JobState::Queued), 10).await.unwrap();
    assert_eq!(
        queued.iter().filter(|j| j.kind == "publish_due").count(),
        1,
        "{queued:?}"
    );
    let round = other.run_jobs_until_idle().await.unwrap();
    assert_eq!((round.claimed, round.done), (1, 1));
    assert_eq!(r.app.run_jobs_until_idle().await.unwrap().claimed, 0);
    assert_eq!(
        r.store.get_story(s.id).await.unwrap().status,
        StoryStatus::Published
    );
    let published = r
        .store
        .list_audit(1000, None)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.target == format!("story:{}", s.id.0) && a.detail == "scheduled publication")
        .count();
    assert_eq!(published, 1, "published once");
    assert_eq!(r.app.queue_due_publications().await.unwrap(), 0);
    // The node that ran the job shows it at once; the other follows the change log.
    assert!(other
        .read()
        .public_by_slug(s.slug.as_str(), other.now())
        .is_some());
    r.app.sync().await.unwrap();
    assert!(r
        .app
        .read()
        .public_by_slug(s.slug.as_str(), r.app.now())
        .is_some());
}

#[tokio::test]
async fn an_embargo_holds_until_its_time() {
    let r = room().await;
    let editor = r.users[2].clone();
    let mut f = form("Embargoed report");
    f.embargo_until = (t0() + Duration::hours(1))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let s = r.app.create_story(&editor, &f).await.unwrap();
    let s = r
        .app
        .transition(&editor, s.id, s.version, Transition::Submit, None)
        .await
        .unwrap();
    r.app
        .transition(&editor, s.id, s.version, Transition::Publish, None)
        .await
        .unwrap();
    assert!(r
        .app
        .read()
        .public_by_slug(s.slug.as_str(), r.app.now())
        .is_none());
    assert!(matches!(
        r.app.article(s.slug.as_str()).await,
        Err(AppError::NotFound)
    ));
    r.clock.advance(Duration::minutes(61));
    r.app.sync().await.unwrap();
    assert!(r.app.article(s.slug.as_str()).await.is_ok());
}

#[tokio::test]
async fn login_does_not_say_which_part_was_wrong_and_is_throttled() {
    let r = room().await;
    let wrong_pw = r
        .app
        .login("u2@example.org", "not the password", "10.0.0.1")
        .await
        .unwrap_err();
    let unknown = r
        .app
        .login("nobody@example.org", "not the password", "10.0.0.1")
        .await
        .unwrap_err();
    assert_eq!(format!("{wrong_pw:?}"), format!("{unknown:?}"));
    let ok = done(
        r.app
            .login("U2@example.org", "a long enough password", "10.0.0.2")
            .await
            .unwrap(),
    );
    assert_eq!(ok.user.id, r.users[2].id);
    let again = done(
        r.app
            .login("u2@example.org", "a long enough password", "10.0.0.2")
            .await
            .unwrap(),
    );
    assert_ne!(
        ok.token, again.token,
        "every login makes a new session token"
    );
    for _ in 0..5 {
        let _ = r.app.login("u1@example.org", "bad", "10.0.0.3").await;
    }
    let blocked = r
        .app
        .login("u1@example.org", "a long enough password", "10.0.0.4")
        .await;
    assert!(
        matches!(blocked, Err(AppError::RateLimited)),
        "the account is throttled from any address"
    );
    r.clock.advance(Duration::minutes(16));
    assert!(r
        .app
        .login("u1@example.org", "a long enough password", "10.0.0.4")
        .await
        .is_ok());
}

#[tokio::test]
async fn sessions_time_out_and_end_when_the_account_is_disabled() {
    let r = room().await;
    let admin = r.users[3].clone();
    let login = done(
        r.app
            .login("u2@example.org", "a long enough password", "a")
            .await
            .unwrap(),
    );
    assert!(r.app.session(&login.token).await.unwrap().is_some());
    assert!(r
        .app
        .session("0123456789abcdef0123456789abcdef")
        .await
        .unwrap()
        .is_none());
    assert!(r.app.session("not-a-token").await.unwrap().is_none());
    r.clock.advance(Duration::hours(2) + Duration::minutes(1));
    assert!(
        r.app.session(&login.token).await.unwrap().is_none(),
        "idle time-out"
    );
    let login = done(
        r.app
            .login("u2@example.org", "a long enough password", "a")
            .await
            .unwrap(),
    );
    for _ in 0..13 {
        r.clock.advance(Duration::minutes(59));
        let _ = r.app.session(&login.token).await.unwrap();
    }
    assert!(
        r.app.session(&login.token).await.unwrap().is_none(),
        "absolute time-out"
    );
    let login = done(
        r.app
            .login("u2@example.org", "a long enough password", "a")
            .await
            .unwrap(),
    );
    r.app
        .set_user_access(&admin, r.users[2].id, Role::Editor, true)
        .await
        .unwrap();
    assert!(
        r.app.session(&login.token).await.unwrap().is_none(),
        "disabled: sessions end at once"
    );
    assert!(r
        .app
        .login("u2@example.org", "a long enough password", "a")
        .await
        .is_err());
    assert!(
        r.app
            .set_user_access(&admin, admin.id, Role::Admin, true)
            .await
            .is_err(),
        "no self lock-out"
    );
}

#[tokio::test]
async fn invitations_are_single_use() {
    let r = room().await;
    let admin = r.users[3].clone();
    let token = r
        .app
        .invite(&admin, "fresh@example.org", Role::Author)
        .await
        .unwrap();
    let u = r
        .app
        .accept_invitation(&token, "Fresh Person", "another long password")
        .await
        .unwrap();
    assert_eq!(
        (u.role, u.email.as_str()),
        (Role::Author, "fresh@example.org")
    );
    assert!(r
        .app
        .accept_invitation(&token, "Again", "another long password")
        .await
        .is_err());
    let token = r
        .app
        .invite(&admin, "late@example.org", Role::Editor)
        .await
        .unwrap();
    r.clock.advance(Duration::days(8));
    assert!(
        r.app
            .accept_invitation(&token, "Late", "another long password")
            .await
            .is_err(),
        "expired"
    );
}

#[tokio::test]
async fn corrections_move_the_updated_time_and_revisions_diff() {
    let r = room().await;
    let editor = r.users[2].clone();
    let s = r
        .app
        .create_story(&editor, &form("Correct me"))
        .await
        .unwrap();
    let s = r
        .app
        .transition(&editor, s.id, s.version, Transition::Submit, None)
        .await
        .unwrap();
    let s = r
        .app
        .transition(&editor, s.id, s.version, Transition::Publish, None)
        .await
        .unwrap();
    r.clock.advance(Duration::hours(3));
    let c = r
        .app
        .correct_story(
            &editor,
            s.id,
            s.version,
            "It said 12 districts.",
            "It is 14 districts.",
        )
        .await
        .unwrap();
    let now = r.store.get_story(s.id).await.unwrap();
    assert_eq!(now.updated_at, t0() + Duration::hours(3));
    assert_eq!(c.right, "It is 14 districts.");
    let stale = r
        .app
        .correct_story(&editor, s.id, s.version, "x", "y")
        .await;
    assert!(matches!(stale, Err(AppError::Conflict(_))));
    let revs = r.store.list_revisions(s.id).await.unwrap();
    assert!(
        revs.len() >= 4,
        "create, submit, publish, correct: {revs:?}"
    );
}

#[tokio::test]
async fn a_second_factor_is_asked_for_checked_once_and_can_be_required() {
    let r = room().await;
    let editor = r.users[2].clone();
    let secret = r.app.new_totp_secret().unwrap();
    let raw = newsdesk_app::totp::base32_decode(&secret).unwrap();
    let code_now = |clock: &ManualClock| {
        format!(
            "{:06}",
            newsdesk_app::totp::code_at(&raw, clock.now().timestamp() / 30)
        )
    };
    assert!(
        r.app.enable_totp(&editor, &secret, "000000").await.is_err()
            || code_now(&r.clock) == "000000"
    );
    r.app
        .enable_totp(&editor, &secret, &code_now(&r.clock))
        .await
        .unwrap();
    let step = r
        .app
        .login("u2@example.org", "a long enough password", "a")
        .await
        .unwrap();
    let newsdesk_app::LoginStep::NeedCode { pending } = step else {
        panic!("a code is needed")
    };
    // The code used to enable it is spent; the next step's code works.
    r.clock.advance(Duration::seconds(30));
    assert!(r.app.login_code(&pending, "12345", "a").await.is_err());
    let login = r
        .app
        .login_code(&pending, &code_now(&r.clock), "a")
        .await
        .unwrap();
    assert_eq!(login.user.id, editor.id);
    assert!(r.app.session(&login.token).await.unwrap().is_some());
    let step = r
        .app
        .login("u2@example.org", "a long enough password", "a")
        .await
        .unwrap();
    let newsdesk_app::LoginStep::NeedCode { pending } = step else {
        panic!("a code is needed")
    };
    assert!(
        r.app
            .login_code(&pending, &code_now(&r.clock), "a")
            .await
            .is_err(),
        "a code is used once"
    );
    r.clock.advance(Duration::minutes(6));
    assert!(
        r.app
            .login_code(&pending, &code_now(&r.clock), "a")
            .await
            .is_err(),
        "a half-done login expires"
    );
    // A site that requires it, for editors and admins only.
    let strict = App::load(
        r.store.clone(),
        r.clock.clone(),
        SiteConfig {
            require_totp_for_editors: true,
            ..SiteConfig::default()
        },
    )
    .await
    .unwrap();
    assert!(strict.totp_required(&r.users[3]));
    assert!(!strict.totp_required(&r.users[1]));
    let editor_now = r.store.get_user(editor.id).await.unwrap();
    assert!(
        strict
            .disable_totp(&editor_now, &code_now(&r.clock))
            .await
            .is_err(),
        "cannot be turned off where required"
    );
}

/// Two nodes over one database: a login started on one finishes on the other, and failed
/// logins on one count on the other.
#[tokio::test]
async fn logins_and_their_throttle_hold_across_nodes() {
    let r = room().await;
    let other = App::load(r.store.clone(), r.clock.clone(), SiteConfig::default())
        .await
        .unwrap();
    let editor = r.users[2].clone();
    let secret = r.app.new_totp_secret().unwrap();
    let raw = newsdesk_app::totp::base32_decode(&secret).unwrap();
    let code_now = |clock: &ManualClock| {
        format!(
            "{:06}",
            newsdesk_app::totp::code_at(&raw, clock.now().timestamp() / 30)
        )
    };
    r.app
        .enable_totp(&editor, &secret, &code_now(&r.clock))
        .await
        .unwrap();
    r.clock.advance(Duration::seconds(30));
    let newsdesk_app::LoginStep::NeedCode { pending } = r
        .app
        .login("u2@example.org", "a long enough password", "a")
        .await
        .unwrap()
    else {
        panic!("a code is needed")
    };
    let login = other
        .login_code(&pending, &code_now(&r.clock), "a")
        .await
        .unwrap();
    assert_eq!(
        login.user.id, editor.id,
        "the code was taken by the other node"
    );
    assert!(
        r.app
            .login_code(&pending, &code_now(&r.clock), "a")
            .await
            .is_err(),
        "and the half-done login is over on both"
    );
    // Five wrong passwords spread over two nodes lock the account on both.
    for i in 0..5 {
        let node = if i % 2 == 0 { &r.app } else { &other };
        assert!(matches!(
            node.login("u1@example.org", "wrong password", &format!("addr{i}"))
                .await,
            Err(AppError::Invalid(_))
        ));
    }
    for node in [&r.app, &other] {
        assert!(matches!(
            node.login("u1@example.org", "a long enough password", "fresh")
                .await,
            Err(AppError::RateLimited)
        ));
    }
    r.clock.advance(Duration::minutes(16));
    assert!(matches!(
        other
            .login("u1@example.org", "a long enough password", "fresh")
            .await,
        Ok(newsdesk_app::LoginStep::Done(_))
    ));
}

#[tokio::test]
async fn password_reset_is_single_use_and_ends_sessions() {
    let r = room().await;
    let before = done(
        r.app
            .login("u1@example.org", "a long enough password", "a")
            .await
            .unwrap(),
    );
    let outbox = Arc::new(newsdesk_mail::MemoryMailer::new());
    r.app.set_mailer(outbox.clone());
    r.app
        .send_password_reset("nobody@example.org", "a")
        .await
        .unwrap();
    r.app
        .send_password_reset("u1@example.org", "a")
        .await
        .unwrap();
    r.app.reset_mails_sent().await;
    let mails = outbox.take();
    assert_eq!(mails.len(), 1, "only the known address gets mail");
    assert_eq!(mails[0].to.as_str(), "u1@example.org");
    let i = mails[0].text.find("/newsroom/reset/").unwrap() + 16;
    let token = mails[0].text[i..i + 32].to_owned();
    assert!(r.app.reset_password(&token, "short").await.is_err());
    r.app
        .reset_password(&token, "a brand new long password")
        .await
        .unwrap();
    assert!(
        r.app
            .reset_password(&token, "a brand new long password")
            .await
            .is_err(),
        "single use"
    );
    assert!(
        r.app.session(&before.token).await.unwrap().is_none(),
        "old sessions end"
    );
    assert!(r
        .app
        .login("u1@example.org", "a long enough password", "a")
        .await
        .is_err());
    done(
        r.app
            .login("u1@example.org", "a brand new long password", "a")
            .await
            .unwrap(),
    );
}

/// How many of `results` were refused as wrong (a password or code was checked) and how many
/// as rate-limited (nothing was checked).
fn wrong_and_limited<T: std::fmt::Debug>(results: &[Result<T, AppError>]) -> (usize, usize) {
    let mut wrong = 0;
    let mut limited = 0;
    for r in results {
        match r {
            Err(AppError::Invalid(_)) => wrong += 1,
            Err(AppError::RateLimited) => limited += 1,
            other => panic!("unexpected answer {other:?}"),
        }
    }
    (wrong, limited)
}

/// The attack as it was tried: 500 wrong passwords at once for one account from one address.
/// Each attempt is counted before its password is checked, so exactly the limit of five are
/// checked and the rest are refused without Argon2 work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_wrong_passwords_check_only_the_limit() {
    let r = room().await;
    let before = r.app.password_checks();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..500 {
        let app = r.app.clone();
        set.spawn(async move {
            app.login("u1@example.org", &format!("wrong password {i}"), "10.9.9.9")
                .await
                .map(|_| ())
        });
    }
    let results = tokio::time::timeout(std::time::Duration::from_secs(120), set.join_all())
        .await
        .expect("500 logins answered in time");
    assert_eq!(wrong_and_limited(&results), (5, 495));
    assert_eq!(
        r.app.password_checks() - before,
        5,
        "only the allowed attempts cost an Argon2 check"
    );
    // The account stays locked for its rightful owner too, until the window passes.
    assert!(matches!(
        r.app
            .login("u1@example.org", "a long enough password", "10.1.1.1")
            .await,
        Err(AppError::RateLimited)
    ));
    r.clock.advance(Duration::minutes(16));
    assert!(r
        .app
        .login("u1@example.org", "a long enough password", "10.1.1.1")
        .await
        .is_ok());
}

/// The same for the one-time-code step: 200 wrong codes at once for one half-done login.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_wrong_codes_check_only_the_limit() {
    let r = room().await;
    let editor = r.users[2].clone();
    let secret = r.app.new_totp_secret().unwrap();
    let raw = newsdesk_app::totp::base32_decode(&secret).unwrap();
    let code_at = |clock: &ManualClock, d: i64| {
        newsdesk_app::totp::code_at(&raw, clock.now().timestamp() / 30 + d)
    };
    r.app
        .enable_totp(&editor, &secret, &format!("{:06}", code_at(&r.clock, 0)))
        .await
        .unwrap();
    r.clock.advance(Duration::seconds(30));
    let newsdesk_app::LoginStep::NeedCode { pending } = r
        .app
        .login("u2@example.org", "a long enough password", "10.8.8.8")
        .await
        .unwrap()
    else {
        panic!("a code is needed")
    };
    let near: Vec<u32> = (-2..=2).map(|d| code_at(&r.clock, d)).collect();
    let wrong: Vec<String> = (0..1000u32)
        .filter(|c| !near.contains(c))
        .take(200)
        .map(|c| format!("{c:06}"))
        .collect();
    let mut set = tokio::task::JoinSet::new();
    for code in wrong {
        let app = r.app.clone();
        let pending = pending.clone();
        set.spawn(async move {
            app.login_code(&pending, &code, "10.8.8.8")
                .await
                .map(|_| ())
        });
    }
    let results = tokio::time::timeout(std::time::Duration::from_secs(60), set.join_all())
        .await
        .expect("200 codes answered in time");
    assert_eq!(wrong_and_limited(&results), (5, 195), "five codes checked");
    assert!(
        matches!(
            r.app
                .login_code(
                    &pending,
                    &format!("{:06}", code_at(&r.clock, 0)),
                    "10.8.8.7"
                )
                .await,
            Err(AppError::RateLimited)
        ),
        "even the right code waits for the window"
    );
}

/// Forgot-password, as it was tried: 100 requests for one account. From one address, the
/// address limit answers "too many attempts" after ten; from a hundred addresses, every
/// request gets the same answer but only three e-mails go out. An unknown address gets the
/// same answers and no e-mail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forgot_password_is_limited_per_address_and_per_account() {
    let r = room().await;
    let outbox = Arc::new(newsdesk_mail::MemoryMailer::new());
    r.app.set_mailer(outbox.clone());
    let run = |email: &'static str, addresses: Vec<String>| {
        let app = r.app.clone();
        async move {
            let mut set = tokio::task::JoinSet::new();
            for a in addresses {
                let app = app.clone();
                set.spawn(async move { app.send_password_reset(email, &a).await });
            }
            let results = tokio::time::timeout(std::time::Duration::from_secs(60), set.join_all())
                .await
                .expect("answered in time");
            app.reset_mails_sent().await;
            let ok = results.iter().filter(|r| r.is_ok()).count();
            let limited = results
                .iter()
                .filter(|r| matches!(r, Err(AppError::RateLimited)))
                .count();
            assert_eq!(ok + limited, results.len(), "{results:?}");
            (ok, limited)
        }
    };
    let one = |a: &str| (0..100).map(|_| a.to_owned()).collect::<Vec<_>>();
    let many = |p: &str| (0..100).map(|i| format!("{p}{i}")).collect::<Vec<_>>();
    assert_eq!(run("u1@example.org", one("10.7.7.7")).await, (10, 90));
    assert_eq!(outbox.take().len(), 3, "three e-mails per account");
    assert_eq!(run("U3@example.org", many("10.6.6.")).await, (100, 0));
    let mails = outbox.take();
    assert_eq!(
        mails.len(),
        3,
        "three e-mails per account, from any address"
    );
    assert!(mails.iter().all(|m| m.to.as_str() == "u3@example.org"));
    assert_eq!(run("nobody@example.org", one("10.5.5.5")).await, (10, 90));
    assert_eq!(run("nobody@example.org", many("10.4.4.")).await, (100, 0));
    assert!(outbox.take().is_empty(), "no e-mail for an unknown address");
    r.clock.advance(Duration::minutes(61));
    r.app
        .send_password_reset("u1@example.org", "10.7.7.7")
        .await
        .unwrap();
    r.app.reset_mails_sent().await;
    assert_eq!(outbox.take().len(), 1, "an hour later, again");
}

/// Password-reset e-mails go through the job table: a request for an account queues one
/// `send_mail` job (none for an unknown address), whose payload holds no token; a transport
/// that fails is retried with back-off until the attempts run out (a dead letter an admin can
/// retry once the transport works again).
#[tokio::test]
async fn a_password_reset_mail_is_a_job_that_retries_then_ends_dead() {
    let r = room().await;
    let admin = r.users[3].clone();
    let outbox_dir = std::env::temp_dir().join(format!("newsdesk-mail-job-{}", std::process::id()));
    let _ = std::fs::remove_file(&outbox_dir);
    let _ = std::fs::remove_dir_all(&outbox_dir);
    // A file where the outbox folder should be: every write fails (a retryable error).
    std::fs::write(&outbox_dir, b"in the way").unwrap();
    let from = newsdesk_mail::parse_mailbox("News <news@example.org>").unwrap();
    r.app
        .set_mailer(Arc::new(newsdesk_mail::FileOutbox::new(&outbox_dir, from)));
    let mail_jobs = || async {
        r.store
            .list_jobs(None, 100)
            .await
            .unwrap()
            .into_iter()
            .filter(|j| j.kind == "send_mail")
            .collect::<Vec<_>>()
    };
    r.app
        .send_password_reset("nobody@example.org", "10.9.9.9")
        .await
        .unwrap();
    r.app
        .send_password_reset("u1@example.org", "10.9.9.9")
        .await
        .unwrap();
    r.app.reset_mails_sent().await;
    let jobs = mail_jobs().await;
    assert_eq!(jobs.len(), 1, "one job, for the known address: {jobs:?}");
    let job = jobs[0].clone();
    assert!(!job.payload.contains("reset/"), "{}", job.payload);
    assert_eq!((job.state, job.attempts), (JobState::Queued, 1));
    assert!(job.run_at > r.app.now(), "backed off");
    assert!(job.last_error.as_deref().unwrap().contains("not sent"));
    // Each later attempt fails too, until the last.
    for attempt in 2..=8 {
        r.clock.advance(Duration::hours(2));
        let round = r.app.run_jobs_until_idle().await.unwrap();
        assert_eq!(round.claimed, 1, "attempt {attempt}");
    }
    let job = r.store.get_job(job.id).await.unwrap();
    assert_eq!((job.state, job.attempts), (JobState::Dead, 8));
    r.clock.advance(Duration::hours(2));
    assert_eq!(r.app.run_jobs_until_idle().await.unwrap().claimed, 0);
    // The transport works again; an admin retries the dead letter: one e-mail with a link.
    std::fs::remove_file(&outbox_dir).unwrap();
    r.app.retry_job(&admin, job.id).await.unwrap();
    let round = r.app.run_jobs_until_idle().await.unwrap();
    assert_eq!((round.claimed, round.done), (1, 1));
    let files: Vec<_> = std::fs::read_dir(&outbox_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(text.contains("/newsroom/reset/"), "{text}");
    assert!(text.contains("u1@example.org"));
    std::fs::remove_dir_all(&outbox_dir).unwrap();
}

/// An invitation e-mail is a `send_mail` job too; its payload carries the link (the admin is
/// shown the same link) until the mail is sent, then only the address.
#[tokio::test]
async fn an_invitation_mail_is_a_job_that_forgets_its_link_once_sent() {
    let r = room().await;
    let admin = r.users[3].clone();
    let outbox = Arc::new(newsdesk_mail::MemoryMailer::new());
    r.app.set_mailer(outbox.clone());
    let token = r
        .app
        .invite(&admin, "queued@example.org", Role::Author)
        .await
        .unwrap();
    assert!(outbox.is_empty(), "sent by the job, not the request");
    let jobs = r.store.list_jobs(Some(JobState::Queued), 10).await.unwrap();
    let job = jobs.iter().find(|j| j.kind == "send_mail").unwrap();
    assert!(job.payload.contains(&token));
    let round = r.app.run_jobs_until_idle().await.unwrap();
    assert_eq!((round.claimed, round.done), (1, 1));
    let mails = outbox.take();
    assert_eq!(mails.len(), 1);
    assert!(mails[0]
        .text
        .contains(&format!("/newsroom/invitation/{token}")));
    let done = r.store.get_job(job.id).await.unwrap();
    assert_eq!(done.state, JobState::Done);
    assert!(!done.payload.contains(&token), "{}", done.payload);
    assert!(done.payload.contains("queued@example.org"));
}

/// The editor offers exactly the workflow steps `transition` allows: both read one rule
/// (`desk::may_take`), for every role, on the actor's own draft and on someone else's.
#[tokio::test]
async fn offered_steps_are_the_allowed_steps() {
    let r = room().await;
    let [contrib, author, editor, admin, other] = [0, 1, 2, 3, 4].map(|i| r.users[i].clone());
    let later = t0() + Duration::hours(3);
    let mut checked = 0;
    for actor in [&contrib, &author, &editor, &admin] {
        for owner in [actor, &other] {
            for step in Transition::ALL {
                if step.apply(StoryStatus::Draft).is_none() {
                    continue;
                }
                let s = r
                    .app
                    .create_story(owner, &form(&format!("Draft number {checked}")))
                    .await
                    .unwrap();
                let rights = r.app.story_rights(actor, Some(&s)).await.unwrap();
                let offered = if step == Transition::Schedule {
                    rights.can_schedule
                } else {
                    rights.steps.contains(&step)
                };
                let done = r
                    .app
                    .transition(actor, s.id, s.version, step, Some(later))
                    .await;
                assert_eq!(
                    offered,
                    allowed(&done),
                    "{:?} {step:?} on a draft of {:?}",
                    actor.role,
                    owner.role
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 16, "{checked}");
}
