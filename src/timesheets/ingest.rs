//! The clock-event writer. At a changeover thousands of phones clock in within minutes; each
//! event alone costs a transaction of several round trips. Events instead queue for one
//! writer thread, which takes every event waiting (up to a batch) and applies them in order in
//! one transaction: one read of the places, one of the records, one of the kept answers, and
//! one multi-row insert each of records, events and answers, then one commit for all. Each
//! event still answers exactly as it would alone: the rules are the same ones (`clock.rs`),
//! applied to the records as the earlier events of the batch left them. If the batch's
//! transaction fails for any reason, each of its events is applied again on its own through
//! the ordinary path (`clock::clock`), so a batch never loses or doubles an event.
//!
//! What the speed rests on (measured with `scripts/bench-clock.sh`; the steps are in git
//! history): each PA's events always go to the same writer, so their order holds; handlers await
//! the writer on a oneshot channel instead of holding a blocking thread; on PostgreSQL the
//! batch's `= ANY(…)` lookups are planned each time (`plan_cache_mode = force_custom_plan`, for
//! the batch's transaction only), since a cached generic plan cannot know an array's length and
//! scans whole tables, and the ends of existing records are set by one `UPDATE … FROM (VALUES …)`.
//! SQLite write transactions queue on a mutex in the process before taking the database's write
//! lock (waiting on `busy_timeout` made a few writers wait seconds). Durability: a batch answers
//! its events only after its commit, and `scripts/crash-clock.sh` kills the server mid-load to
//! check that every acknowledged event is stored once.

use std::collections::HashMap;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::OnceLock;

use chrono::{DateTime, NaiveDate, Utc};

use crate::auth::AuthUser;
use crate::db::{write_transaction, DbConnection, DbPool};
use crate::error::{AppError, AppResult, ConflictCode};
use crate::idempotency::{self, Answer, KeptAnswer};
use crate::timesheets::clock::{self, event_row, new_record, set_end};
use crate::timesheets::dto::ClockRequest;
use crate::timesheets::model::{ClockKind, Status};
use crate::timesheets::periods::{open_period_for, policy_from, Calendar, PayRouting};
use crate::timesheets::repo::{self, ClockEnd, Place, ShiftRecordRow, TimesheetRow};
use crate::timesheets::service::{record_view, timesheet_for_new_work};

/// Events taken into one transaction at most.
const BATCH: usize = 128;

/// Writer threads. Two keep a commit in flight while the other batch is built; more make
/// smaller batches, which cost more per event (measured: 1, 2 and 4 writers gave 1,808, 2,446
/// and 1,704 events/s at 64 connections). Each PA's events all go to one writer (by the PA's
/// login), so writers never race for the same records and a PA's events keep their order.
const WRITERS: usize = 2;

/// One clock event from the app.
pub struct ClockEvent {
    pub actor: AuthUser,
    pub shift_id: String,
    pub kind: ClockKind,
    pub request: ClockRequest,
    pub key: String,
}

type Job = (ClockEvent, tokio::sync::oneshot::Sender<AppResult<Answer>>);

/// The instance's clock-event writers, started on first use.
pub struct ClockWriter {
    pool: DbPool,
    jobs: OnceLock<Vec<Sender<Job>>>,
}

impl ClockWriter {
    pub fn new(pool: DbPool) -> Self {
        Self {
            pool,
            jobs: OnceLock::new(),
        }
    }

    /// Applies the events in order and answers each. The caller awaits the writer's answer
    /// without holding a thread.
    pub async fn record(&self, events: Vec<ClockEvent>) -> Vec<AppResult<Answer>> {
        let writers = self.jobs.get_or_init(|| {
            (0..WRITERS)
                .map(|n| {
                    let (sender, receiver) = mpsc::channel();
                    let pool = self.pool.clone();
                    let started = std::thread::Builder::new()
                        .name(format!("parota-clock-{n}"))
                        .spawn(move || run(&pool, &receiver));
                    if let Err(error) = started {
                        tracing::error!(%error, "could not start a clock-event writer");
                    }
                    sender
                })
                .collect()
        });
        let waiting: Vec<_> = events
            .into_iter()
            .map(|event| {
                let (reply, answer) = tokio::sync::oneshot::channel();
                let writer = &writers[writer_of(&event.actor.user_id)];
                writer
                    .send((event, reply))
                    .map(|()| answer)
                    .map_err(|_| AppError::internal("the clock-event writer has stopped"))
            })
            .collect();
        let mut answers = Vec::with_capacity(waiting.len());
        for w in waiting {
            answers.push(match w {
                Ok(answer) => answer.await.unwrap_or_else(|_| {
                    Err(AppError::internal(
                        "the clock-event writer dropped an event",
                    ))
                }),
                Err(error) => Err(error),
            });
        }
        answers
    }
}

/// The writer a login's events go to.
fn writer_of(user_id: &str) -> usize {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    user_id.hash(&mut hasher);
    (hasher.finish() % WRITERS as u64) as usize
}

fn run(pool: &DbPool, jobs: &Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let (events, replies): (Vec<ClockEvent>, Vec<_>) = batch.into_iter().unzip();
        let started = std::time::Instant::now();
        let answers = match pool.get() {
            Ok(mut conn) => apply(&mut conn, &events, Utc::now()),
            Err(error) => {
                let error = AppError::from(error);
                events
                    .iter()
                    .map(|_| Err(AppError::Unavailable(error.to_string())))
                    .collect()
            }
        };
        tracing::debug!(
            events = events.len(),
            ms = started.elapsed().as_secs_f64() * 1000.0,
            "clock batch"
        );
        for (reply, answer) in replies.into_iter().zip(answers) {
            // The caller may have gone (a closed connection): its event stands regardless.
            let _ = reply.send(answer);
        }
    }
}

/// Applies a batch in one transaction, or, if that fails, each event on its own.
pub fn apply(
    conn: &mut DbConnection,
    events: &[ClockEvent],
    now: DateTime<Utc>,
) -> Vec<AppResult<Answer>> {
    match write_transaction(conn, |conn| batch(conn, events, now)) {
        Ok(answers) => answers,
        Err(error) => {
            if events.len() > 1 {
                tracing::warn!(%error, events = events.len(), "clock batch failed: applying its events one by one");
            }
            events
                .iter()
                .map(|e| {
                    if crate::auth::sessions_live(conn, &[&e.actor])?.first() != Some(&true) {
                        return Err(crate::auth::ended());
                    }
                    clock::clock(conn, &e.actor, &e.shift_id, e.kind, &e.request, &e.key, now)
                })
                .collect()
        }
    }
}

/// A record as the batch has it: as read, or made by an earlier event of the batch.
struct Tracked {
    record: ShiftRecordRow,
    timesheet_status: String,
    new: bool,
    clock_in: Option<ClockEnd>,
    clock_out: Option<ClockEnd>,
}

fn batch(
    conn: &mut DbConnection,
    events: &[ClockEvent],
    now: DateTime<Utc>,
) -> AppResult<Vec<AppResult<Answer>>> {
    // The batch's lookups take arrays (`= ANY($1)`): planned each time, they use the indexes.
    crate::db::plan_each_query_in_this_transaction(conn)?;
    let mut shift_ids: Vec<String> = events.iter().map(|e| e.shift_id.clone()).collect();
    shift_ids.sort();
    shift_ids.dedup();
    let keys: Vec<String> = events.iter().map(|e| e.key.clone()).collect();
    let mut users: Vec<String> = events.iter().map(|e| e.actor.user_id.clone()).collect();
    users.sort();
    users.dedup();

    let mut kept: HashMap<(String, String), KeptAnswer> =
        idempotency::kept_among(conn, &users, &keys)?
            .into_iter()
            .map(|k| ((k.user_id.clone(), k.key.clone()), k))
            .collect();
    let places: HashMap<(String, String), (Place, String)> =
        repo::places_of_shifts(conn, &shift_ids)?
            .into_iter()
            .filter_map(|(place, user, organisation)| {
                user.map(|u| ((place.shift.id.clone(), u), (place, organisation)))
            })
            .collect();
    let mut records: HashMap<(String, String), Tracked> =
        repo::records_of_shifts(conn, &shift_ids)?
            .into_iter()
            .filter_map(|(record, status)| {
                let shift = record.roster_shift_id.clone()?;
                Some((
                    (shift, record.pa_id.clone()),
                    Tracked {
                        record,
                        timesheet_status: status,
                        new: false,
                        clock_in: None,
                        clock_out: None,
                    },
                ))
            })
            .collect();
    let mut timesheets = timesheets_for_new_records(conn, events, &places, &records, now)?;

    // The callers' sessions, read once for the batch: an event from an ended session is refused
    // as the extractor refuses any other request.
    let live =
        crate::auth::sessions_live(conn, &events.iter().map(|e| &e.actor).collect::<Vec<_>>())?;
    let mut answers = Vec::with_capacity(events.len());
    let mut event_rows = Vec::new();
    let mut kept_rows = Vec::new();
    for (event, live) in events.iter().zip(live) {
        if !live {
            answers.push(Err(crate::auth::ended()));
            continue;
        }
        let hash = idempotency::request_hash(&clock::EventFingerprint {
            shift_id: &event.shift_id,
            kind: event.kind,
            device_time: event.request.device_time,
            location: event.request.location,
        });
        let user = event.actor.user_id.clone();
        if let Some(found) = kept.get(&(user.clone(), event.key.clone())) {
            answers.push(idempotency::replay(found.clone(), &hash));
            continue;
        }
        let outcome = one(conn, event, &places, &mut records, &mut timesheets, now);
        match outcome {
            Ok((answer, event_row)) => {
                let row = KeptAnswer::new(&user, &event.key, &hash, &answer, now);
                kept.insert((user, event.key.clone()), row.clone());
                kept_rows.push(row);
                event_rows.push(event_row);
                answers.push(Ok(answer));
            }
            Err(error) => answers.push(Err(error)),
        }
    }

    let mut new_records = Vec::new();
    let mut ins = Vec::new();
    let mut outs = Vec::new();
    for tracked in records.values() {
        if tracked.new {
            new_records.push(tracked.record.clone());
            continue;
        }
        if let Some(end) = &tracked.clock_in {
            ins.push((tracked.record.id.as_str(), end));
        }
        if let Some(end) = &tracked.clock_out {
            outs.push((tracked.record.id.as_str(), end));
        }
        if tracked.clock_in.is_some() || tracked.clock_out.is_some() {
            clock::touch_if_submitted(
                conn,
                &tracked.record.timesheet_id,
                &tracked.timesheet_status,
                now,
            )?;
        }
    }
    // Each end is set only if it is still unset: if another writer got there first, the batch
    // fails and its events are applied one by one.
    for (kind, ends) in [(ClockKind::ClockIn, &ins), (ClockKind::ClockOut, &outs)] {
        if repo::set_ends(conn, kind, ends)? != ends.len() {
            return Err(AppError::Conflict {
                code: ConflictCode::Conflict,
                detail: "a record changed under the batch".into(),
            });
        }
    }
    repo::insert_records(conn, &new_records)?;
    repo::insert_events(conn, &event_rows)?;
    idempotency::keep_all(conn, &kept_rows)?;
    Ok(answers)
}

/// One event against the batch's view of the records.
fn one(
    conn: &mut DbConnection,
    event: &ClockEvent,
    places: &HashMap<(String, String), (Place, String)>,
    records: &mut HashMap<(String, String), Tracked>,
    timesheets: &mut HashMap<(String, String, NaiveDate), TimesheetRow>,
    now: DateTime<Utc>,
) -> AppResult<(Answer, repo::ClockEventRow)> {
    let actor = &event.actor;
    let found = places
        .get(&(event.shift_id.clone(), actor.user_id.clone()))
        .filter(|(_, organisation)| *organisation == actor.organisation_id)
        .map(|(place, _)| place);
    let place = clock::caller_place(conn, actor, &event.shift_id, found)?;
    let (policy, end) = clock::decide(place, &event.request, now)?;
    let shift = &place.shift;
    let slot = (shift.id.clone(), place.pa_id.clone());
    if !records.contains_key(&slot) {
        let key = (
            place.pa_id.clone(),
            shift.budget_holder_id.clone(),
            shift.shift_date,
        );
        let timesheet = match timesheets.get(&key) {
            Some(t) => t.clone(),
            None => {
                let t = timesheet_for_new_work(
                    conn,
                    &actor.organisation_id,
                    &policy,
                    &place.pa_id,
                    &shift.budget_holder_id,
                    shift.shift_date,
                    now,
                )?;
                timesheets.insert(key, t.clone());
                t
            }
        };
        let record = new_record(
            &actor.organisation_id,
            &timesheet.id,
            &place.pa_id,
            &shift.budget_holder_id,
            Some(&shift.id),
            shift.shift_date,
            now,
        );
        records.insert(
            slot.clone(),
            Tracked {
                record,
                timesheet_status: timesheet.status.clone(),
                new: true,
                clock_in: None,
                clock_out: None,
            },
        );
    }
    let tracked = records
        .get_mut(&slot)
        .ok_or_else(|| AppError::internal("record not tracked"))?;
    clock::check_end(&tracked.record, &tracked.timesheet_status, event.kind, &end)?;
    set_end(&mut tracked.record, event.kind, &end);
    let row = event_row(
        &tracked.record.id,
        event.kind,
        &event.request,
        end.distance_m,
        actor,
        now,
    );
    match event.kind {
        ClockKind::ClockIn => tracked.clock_in = Some(end),
        ClockKind::ClockOut => tracked.clock_out = Some(end),
    }
    let view = record_view(&tracked.record, Some(shift), &policy, now);
    let body = serde_json::to_value(view).map_err(|e| AppError::internal(e.to_string()))?;
    Ok((
        Answer {
            status: clock::status_of(event.kind),
            body,
            replayed: false,
        },
        row,
    ))
}

/// The timesheets the batch's new records go on, read (or made) together: keyed by PA,
/// person and shift date. Where the period's timesheet is already approved, none is given and
/// the event finds the next one on its own.
fn timesheets_for_new_records(
    conn: &mut DbConnection,
    events: &[ClockEvent],
    places: &HashMap<(String, String), (Place, String)>,
    records: &HashMap<(String, String), Tracked>,
    now: DateTime<Utc>,
) -> AppResult<HashMap<(String, String, NaiveDate), TimesheetRow>> {
    // The new records' PAs, by organisation, to learn who pays their work in one read each.
    let mut new_work: Vec<(&Place, &String)> = Vec::new();
    let mut pas_of: HashMap<&String, Vec<String>> = HashMap::new();
    for event in events {
        let Some((place, organisation)) =
            places.get(&(event.shift_id.clone(), event.actor.user_id.clone()))
        else {
            continue;
        };
        if records.contains_key(&(place.shift.id.clone(), place.pa_id.clone())) {
            continue;
        }
        new_work.push((place, organisation));
        pas_of
            .entry(organisation)
            .or_default()
            .push(place.pa_id.clone());
    }
    let mut routing: HashMap<&String, PayRouting> = HashMap::new();
    // (calendar, date) → period, and the timesheets wanted in it.
    let mut periods: HashMap<(Calendar, NaiveDate), repo::PayPeriodRow> = HashMap::new();
    let mut wanted: Vec<(String, String, NaiveDate, String, String)> = Vec::new();
    for (place, organisation) in new_work {
        let date = place.shift.shift_date;
        if !routing.contains_key(organisation) {
            let policy = policy_from(place.policy.as_ref())?;
            let pa_ids = pas_of.remove(organisation).unwrap_or_default();
            let loaded = PayRouting::load(conn, organisation, &policy, &pa_ids)?;
            routing.insert(organisation, loaded);
        }
        // A leaver's event is refused on its own path (`timesheet_for_new_work`).
        let Ok(calendar) =
            routing[organisation].calendar_for(&place.pa_id, &place.shift.budget_holder_id, date)
        else {
            continue;
        };
        let key = (calendar, date);
        if !periods.contains_key(&key) {
            let period = open_period_for(conn, &key.0, date)?;
            periods.insert(key.clone(), period);
        }
        wanted.push((
            place.pa_id.clone(),
            place.shift.budget_holder_id.clone(),
            date,
            periods[&key].id.clone(),
            organisation.clone(),
        ));
    }
    if wanted.is_empty() {
        return Ok(HashMap::new());
    }
    let pa_ids: Vec<String> = wanted.iter().map(|w| w.0.clone()).collect();
    let period_ids: Vec<String> = wanted.iter().map(|w| w.3.clone()).collect();
    let find =
        |conn: &mut DbConnection| -> AppResult<HashMap<(String, String, String), TimesheetRow>> {
            Ok(repo::timesheets_of_pas_in(conn, &pa_ids, &period_ids)?
                .into_iter()
                .map(|t| {
                    (
                        (
                            t.pa_id.clone(),
                            t.budget_holder_id.clone(),
                            t.pay_period_id.clone(),
                        ),
                        t,
                    )
                })
                .collect())
        };
    let mut found = find(conn)?;
    let missing: Vec<TimesheetRow> = wanted
        .iter()
        .filter(|w| !found.contains_key(&(w.0.clone(), w.1.clone(), w.3.clone())))
        .map(|w| TimesheetRow {
            id: crate::ids::new_id(),
            organisation_id: w.4.clone(),
            pa_id: w.0.clone(),
            budget_holder_id: w.1.clone(),
            pay_period_id: w.3.clone(),
            status: Status::Draft.as_str().to_owned(),
            version: 1,
            submitted_at: None,
            decided_by: None,
            decided_at: None,
            query_reason: None,
            paid_in_period_id: None,
            created_at: now.naive_utc(),
            updated_at: now.naive_utc(),
        })
        .collect();
    if !missing.is_empty() {
        // Two events of the batch may want the same new timesheet: made once.
        let mut unique = missing;
        unique.sort_by(|a, b| {
            (&a.pa_id, &a.budget_holder_id, &a.pay_period_id).cmp(&(
                &b.pa_id,
                &b.budget_holder_id,
                &b.pay_period_id,
            ))
        });
        unique.dedup_by(|a, b| {
            (&a.pa_id, &a.budget_holder_id, &a.pay_period_id)
                == (&b.pa_id, &b.budget_holder_id, &b.pay_period_id)
        });
        repo::insert_timesheets_if_absent(conn, &unique)?;
        found = find(conn)?;
    }
    Ok(wanted
        .into_iter()
        .filter_map(|(pa, holder, date, period, _)| {
            found
                .get(&(pa.clone(), holder.clone(), period))
                .filter(|t| t.status != Status::Approved.as_str())
                .map(|t| ((pa, holder, date), t.clone()))
        })
        .collect())
}

/// The phone's offline queue through the writer: each event answers as its direct call would;
/// an unreadable shift id is a 404 for that event alone.
pub async fn sync(
    writer: &ClockWriter,
    actor: &AuthUser,
    request: crate::timesheets::dto::SyncRequest,
) -> crate::timesheets::dto::SyncResponse {
    use crate::timesheets::dto::{SyncResponse, SyncResult};
    let keys: Vec<String> = request
        .events
        .iter()
        .map(|e| e.idempotency_key.clone())
        .collect();
    let mut unreadable = Vec::new();
    let events: Vec<ClockEvent> = request
        .events
        .into_iter()
        .enumerate()
        .filter_map(|(index, e)| match crate::ids::parse_id(&e.shift_id) {
            Some(shift_id) => Some(ClockEvent {
                actor: actor.clone(),
                shift_id,
                kind: e.kind,
                request: ClockRequest {
                    device_time: e.device_time,
                    location: e.location,
                },
                key: e.idempotency_key,
            }),
            None => {
                unreadable.push(index);
                None
            }
        })
        .collect();
    let mut answers = writer.record(events).await.into_iter();
    let results = keys
        .into_iter()
        .enumerate()
        .map(|(index, key)| {
            let outcome = if unreadable.contains(&index) {
                Err(AppError::NotFound)
            } else {
                answers
                    .next()
                    .unwrap_or_else(|| Err(AppError::internal("an event went unanswered")))
            };
            match outcome {
                Ok(answer) => SyncResult {
                    idempotency_key: key,
                    status: answer.status,
                    replayed: answer.replayed,
                    body: answer.body,
                },
                Err(error) => {
                    use actix_web::ResponseError;
                    SyncResult {
                        idempotency_key: key,
                        status: error.status_code().as_u16(),
                        replayed: false,
                        body: serde_json::to_value(error.problem()).unwrap_or_default(),
                    }
                }
            }
        })
        .collect();
    SyncResponse { results }
}
