//! Payroll over HTTP. Each handler states who may call it; the rules live in `auth::policy`.

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use chrono::Utc;
use futures_util::stream;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::AuthUser;
use crate::db::{self, DbPool};
use crate::error::{problem, AppError, AppResult, Problem};
use crate::http::{Json, Page};
use crate::http::{PathId, PathIds};
use crate::payroll::dto::*;
use crate::payroll::formats::{self, ExportDocument, Format, Renderer};
use crate::payroll::mapping::Mapping;
use crate::payroll::{close, codes, employment, repo, service};
use crate::state::AppState;

/// Lines read and written per chunk of a streamed export.
const LINES_PER_CHUNK: i64 = 1000;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_employer)
        .service(list_employers)
        .service(read_payroll_mapping)
        .service(set_payroll_mapping)
        .service(set_pay_calendar)
        .service(create_engagement)
        .service(list_engagements)
        .service(end_engagement)
        .service(create_payroll_adjustment)
        .service(list_period_exports)
        .service(create_minimum_wage_review)
        .service(list_payroll_exports)
        .service(read_payroll_export)
        .service(acknowledge_payroll_export)
        .service(read_period_summary)
        .service(close_pay_period);
}

/// Register an employer: a budget holder employing PAs directly (with their PAYE reference) or the organisation, with the payroll client that runs it and the rate card that pays its PAs. Who may call: admins.
#[utoipa::path(
    tag = "payroll",
    operation_id = "create_employer",
    request_body = CreateEmployer,
    responses(
        (status = 201, description = "The employer", body = EmployerView),
        problem::Unauthenticated,
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The person is already an employer", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/employers")]
pub async fn create_employer(
    state: web::Data<AppState>,
    user: AuthUser,
    Json(request): Json<CreateEmployer>,
) -> AppResult<HttpResponse> {
    let view = db::run(&state.pool, move |conn| {
        service::create_employer(conn, &user, request, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// The organisation's employers. Who may call: admins and team managers.
#[utoipa::path(
    tag = "payroll",
    operation_id = "list_employers",
    responses(
        (status = 200, description = "Employers", body = Vec<EmployerView>),
        problem::Unauthenticated,
        problem::NotAllowed,
    ),
    security(("bearer" = []))
)]
#[get("/employers")]
pub async fn list_employers(state: web::Data<AppState>, user: AuthUser) -> AppResult<HttpResponse> {
    let list = db::run(&state.pool, move |conn| {
        service::list_employers(conn, &user)
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// The employer's payroll software and its codes for each of parota's pay elements, with the defaults filled in and its exports still blocked for want of codes. Who may call: the employer's payroll client, admins and team managers; any other payroll client gets 404.
#[utoipa::path(
    tag = "payroll",
    operation_id = "read_payroll_mapping",
    params(("id" = String, Path, description = "Employer id")),
    responses(
        (status = 200, description = "The mapping", body = MappingView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
    ),
    security(("bearer" = []))
)]
#[get("/employers/{id}/payroll-mapping")]
pub async fn read_payroll_mapping(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(employer): PathId,
) -> AppResult<HttpResponse> {
    let view = db::run(&state.pool, move |conn| {
        codes::mapping(conn, &user, &employer)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Set the employer's payroll software (`sage50`, `iris`, `brightpay` or `none`) and its codes: Sage 50 payment and deduction numbers, department and cost centre; IRIS Cascade element ids and formulated rates, CLOCKIN identifiers and the company number; BrightPay payment or addition names and flags. Elements left out keep their defaults. An export blocked only for want of these becomes ready at once. Who may call: the employer's payroll client and admins.
#[utoipa::path(
    tag = "payroll",
    operation_id = "set_payroll_mapping",
    params(("id" = String, Path, description = "Employer id")),
    request_body = Mapping,
    responses(
        (status = 200, description = "The mapping as set", body = MappingView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[put("/employers/{id}/payroll-mapping")]
pub async fn set_payroll_mapping(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(employer): PathId,
    Json(mapping): Json<Mapping>,
) -> AppResult<HttpResponse> {
    let view = db::run(&state.pool, move |conn| {
        codes::set_mapping(conn, &user, &employer, mapping, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Put the employer on its own pay calendar (weekly, fortnightly, four-weekly or monthly, with its pay date), or with `null` back on the organisation's. Its work is then paid in its own pay periods, which are the pay reference periods its minimum wage check runs over. Refused (422 naming the field) while an open period holds work the change would cut, or when the new calendar would not start a period the day after the last closed one. Who may call: admins.
#[utoipa::path(
    tag = "payroll",
    operation_id = "set_pay_calendar",
    params(("id" = String, Path, description = "Employer id")),
    request_body = PayCalendarRequest,
    responses(
        (status = 200, description = "The employer", body = EmployerView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[put("/employers/{id}/pay-calendar")]
pub async fn set_pay_calendar(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(employer): PathId,
    Json(request): Json<PayCalendarRequest>,
) -> AppResult<HttpResponse> {
    let view = db::run(&state.pool, move |conn| {
        employment::set_pay_calendar(conn, &user, &employer, request)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Record that a PA leaves: their last day worked and why. From the day after, the safety gate refuses them every shift this engagement covered, no clock event or record is taken for that work, and the export of the period holding the last day lists them in `leavers` so the bureau issues the P45. Refused (422 `ends_on`) if work is already recorded after the day; the date or reason may be corrected until an export has reported the leaver (409 `leaver_reported`). Who may call: admins and team managers.
#[utoipa::path(
    tag = "payroll",
    operation_id = "end_engagement",
    params(("id" = String, Path, description = "Engagement id")),
    request_body = EndEngagement,
    responses(
        (status = 200, description = "The engagement, ended", body = EngagementView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotVisible,
        (status = 409, description = "Already reported to the bureau", body = Problem, content_type = "application/problem+json"),
        problem::InvalidFields,
    ),
    security(("bearer" = []))
)]
#[post("/engagements/{id}/end")]
pub async fn end_engagement(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(engagement): PathId,
    Json(request): Json<EndEngagement>,
) -> AppResult<HttpResponse> {
    let view = db::run(&state.pool, move |conn| {
        employment::end_engagement(conn, &user, &engagement, request)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Record a PA's employment with an employer: their works number in the payroll software, date of birth (for the minimum wage age band only), contracted hours and holiday basis. Who may call: admins and team managers.
#[utoipa::path(
    tag = "payroll",
    operation_id = "create_engagement",
    params(("id" = String, Path, description = "Employer id")),
    request_body = CreateEngagement,
    responses(
        (status = 201, description = "The engagement", body = EngagementView),
        problem::Unauthenticated,
        problem::NotAllowed,
        (status = 404, description = "No such employer", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already engaged, or the works number is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/employers/{id}/engagements")]
pub async fn create_engagement(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(employer): PathId,
    Json(request): Json<CreateEngagement>,
) -> AppResult<HttpResponse> {
    let view = db::run(&state.pool, move |conn| {
        service::create_engagement(conn, &user, &employer, request, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// An employer's engagements. Who may call: admins and team managers.
#[utoipa::path(
    tag = "payroll",
    operation_id = "list_engagements",
    params(("id" = String, Path, description = "Employer id")),
    responses(
        (status = 200, description = "Engagements", body = Vec<EngagementView>),
        problem::Unauthenticated,
        problem::NotAllowed,
        (status = 404, description = "No such employer", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/employers/{id}/engagements")]
pub async fn list_engagements(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(employer): PathId,
) -> AppResult<HttpResponse> {
    let list = db::run(&state.pool, move |conn| {
        service::list_engagements(conn, &user, &employer)
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Add pay by hand (holiday taken, a correction) to the next pay period to close. Send an `Idempotency-Key` to make a retry safe: the same key answers the same, once. Who may call: admins and team managers.
#[utoipa::path(
    tag = "payroll",
    operation_id = "create_payroll_adjustment",
    request_body = CreateAdjustment,
    responses(
        (status = 201, description = "The adjustment, with the period that pays it", body = AdjustmentView),
        problem::Unauthenticated,
        problem::NotAllowed,
        (status = 409, description = "The Idempotency-Key was used for a different request", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    security(("bearer" = []))
)]
#[post("/payroll/adjustments")]
pub async fn create_payroll_adjustment(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    Json(request): Json<CreateAdjustment>,
) -> AppResult<HttpResponse> {
    let key = crate::idempotency::key_of(&req)?;
    let answer = db::run(&state.pool, move |conn| {
        service::create_adjustment(conn, &user, request, key.as_deref(), Utc::now())
    })
    .await?;
    Ok(answer.into_response())
}

/// The payroll exports a closed period made, blocked ones with the minimum wage failures awaiting review. Who may call: admins and team managers.
#[utoipa::path(
    tag = "payroll",
    operation_id = "list_period_exports",
    params(("id" = String, Path, description = "Pay period id")),
    responses(
        (status = 200, description = "Exports", body = Vec<ExportView>),
        problem::Unauthenticated,
        problem::NotAllowed,
        (status = 404, description = "No such period", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/pay-periods/{id}/exports")]
pub async fn list_period_exports(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(period): PathId,
) -> AppResult<HttpResponse> {
    let list = db::run(&state.pool, move |conn| {
        service::period_exports(conn, &user, &period)
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Settle a PA's minimum wage failure in a blocked export: pay the shortfall as a top-up line, or record why none is due. The export is numbered and ready once no failure is left. Who may call: admins and team managers.
#[utoipa::path(
    tag = "payroll",
    operation_id = "create_minimum_wage_review",
    params(("id" = String, Path, description = "Export id")),
    request_body = CreateReview,
    responses(
        (status = 200, description = "The export", body = ExportView),
        problem::Unauthenticated,
        problem::NotAllowed,
        (status = 404, description = "No such export", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The PA's pay needs no review", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/payroll/exports/{id}/minimum-wage-reviews")]
pub async fn create_minimum_wage_review(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(export): PathId,
    Json(request): Json<CreateReview>,
) -> AppResult<HttpResponse> {
    let view = db::run(&state.pool, move |conn| {
        service::review(conn, &user, &export, request, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The exports of the employers this payroll client runs, oldest first, paged by cursor. Who may call: payroll clients.
#[utoipa::path(
    tag = "payroll",
    operation_id = "list_payroll_exports",
    params(ExportListQuery),
    responses(
        (status = 200, description = "Exports", body = Page<ExportView>),
        problem::Unauthenticated,
        (status = 403, description = "Not a payroll client", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid query", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/payroll/exports")]
pub async fn list_payroll_exports(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<ExportListQuery>,
) -> AppResult<HttpResponse> {
    let query = query.into_inner();
    let page = db::run(&state.pool, move |conn| {
        service::client_exports(conn, &user, &query)
    })
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

fn chosen_format(query: &ExportQuery, req: &HttpRequest) -> AppResult<Format> {
    if let Some(name) = &query.format {
        return Format::parse(name).ok_or_else(|| {
            AppError::field(
                "format",
                "invalid",
                &format!("must be one of {}", Format::names()),
            )
        });
    }
    Ok(req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .and_then(Format::from_accept)
        .unwrap_or(Format::Json))
}

struct Chunks {
    pool: DbPool,
    export_id: String,
    renderer: Renderer,
    after_line: i32,
    started: bool,
    done: bool,
}

/// The next chunk of an export: a page of lines read and written on the blocking pool.
/// A failure mid-stream ends it with an error, so the client sees a broken transfer rather than
/// a short file.
async fn next_chunk(
    state: Option<Chunks>,
) -> Option<(Result<Bytes, actix_web::Error>, Option<Chunks>)> {
    let mut state = state.filter(|s| !s.done)?;
    let result = web::block(move || -> AppResult<(Vec<u8>, Chunks)> {
        let mut conn = state.pool.get()?;
        let mut out = Vec::new();
        let io = |e: std::io::Error| AppError::internal(format!("writing an export: {e}"));
        if !state.started {
            state.renderer.begin(&mut out).map_err(io)?;
            state.started = true;
        }
        let page = repo::lines_of(
            &mut conn,
            &state.export_id,
            state.after_line,
            LINES_PER_CHUNK,
        )?;
        for row in &page {
            state
                .renderer
                .line(&service::line_of(row), &mut out)
                .map_err(io)?;
        }
        if let Some(last) = page.last() {
            state.after_line = last.line_no;
        }
        if (page.len() as i64) < LINES_PER_CHUNK {
            state.renderer.end(&mut out).map_err(io)?;
            state.done = true;
        }
        Ok((out, state))
    })
    .await;
    match result {
        Ok(Ok((bytes, state))) => Some((Ok(Bytes::from(bytes)), Some(state))),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "streaming a payroll export failed");
            Some((Err(e.into()), None))
        }
        Err(e) => {
            tracing::error!(error = %e, "streaming a payroll export failed");
            Some((Err(e.into()), None))
        }
    }
}

/// One export, streamed in the format asked for by `?format=` or `Accept` (JSON by default): parota's CSV or JSON, or the import files of Sage 50 Payroll (`sage50`), IRIS (`iris` for Cascade, `iris_clockin` for CLOCKIN) or BrightPay (`brightpay` hourly payments, `brightpay_additions`, `brightpay_deductions`), written with the employer's codes. The same export always gives the same bytes; `X-Checksum-SHA256` carries their SHA-256. Who may call: the payroll client that runs the export's employer (any other gets 404), admins and team managers.
#[utoipa::path(
    tag = "payroll",
    operation_id = "read_payroll_export",
    params(("id" = String, Path, description = "Export id"), ExportQuery),
    responses(
        (status = 200, description = "The export's lines in the chosen format", content(
            (ExportDocument = "application/json"),
            (String = "text/csv"),
        )),
        problem::Unauthenticated,
        problem::NotAllowed,
        (status = 404, description = "No such export", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Blocked on a minimum wage review or on codes the payroll software needs", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown format", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/payroll/exports/{id}")]
pub async fn read_payroll_export(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(export_id): PathId,
    query: web::Query<ExportQuery>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let format = chosen_format(&query, &req)?;
    let wanted = export_id.clone();
    let (head, mapping, view) = db::run(&state.pool, move |conn| {
        service::export_to_write(conn, &user, &wanted)
    })
    .await?;
    let checksum = view
        .checksums
        .as_ref()
        .and_then(|c| c.get(format.as_str()))
        .and_then(|c| c.as_str())
        .unwrap_or_default()
        .to_owned();
    let filename = formats::file_name(format, &head, &mapping);
    let chunks = Chunks {
        pool: state.pool.clone(),
        export_id,
        renderer: Renderer::new(format, head, &mapping),
        after_line: 0,
        started: false,
        done: false,
    };
    Ok(HttpResponse::Ok()
        .content_type(format.media_type())
        .insert_header(("X-Checksum-SHA256", checksum.clone()))
        .insert_header((header::ETAG, format!("\"{checksum}\"")))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .streaming(stream::unfold(Some(chunks), next_chunk)))
}

/// Confirm the export has been taken into payroll. Saying so again changes nothing. Who may call: the payroll client that runs the export's employer.
#[utoipa::path(
    tag = "payroll",
    operation_id = "acknowledge_payroll_export",
    params(("id" = String, Path, description = "Export id")),
    responses(
        (status = 200, description = "The acknowledged export", body = ExportView),
        problem::Unauthenticated,
        (status = 403, description = "Not the export's payroll client", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such export", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/payroll/exports/{id}/acknowledge")]
pub async fn acknowledge_payroll_export(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(export): PathId,
) -> AppResult<HttpResponse> {
    let view = db::run(&state.pool, move |conn| {
        service::acknowledge(conn, &user, &export, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// What a pay period cost one person's budget, for their budget statement: pay by element from the period's exports, employer National Insurance and pension on it, and the budget's remaining balance. Who may call: whoever may read the person's budget statement.
#[utoipa::path(
    tag = "payroll",
    operation_id = "read_period_summary",
    params(
        ("id" = String, Path, description = "Budget holder id"),
        ("period_id" = String, Path, description = "Pay period id"),
    ),
    responses(
        (status = 200, description = "The period's cost", body = PeriodSummary),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotFound,
    ),
    security(("bearer" = []))
)]
#[get("/budget-holders/{id}/pay-periods/{period_id}/summary")]
pub async fn read_period_summary(
    state: web::Data<AppState>,
    user: AuthUser,
    PathIds(holder, period): PathIds,
) -> AppResult<HttpResponse> {
    let summary = db::run(&state.pool, move |conn| {
        service::period_summary(conn, &user, &holder, &period)
    })
    .await?;
    Ok(HttpResponse::Ok().json(summary))
}

/// Close a pay period for payroll. It is locked from then on: timesheets approved later and amendments to its records are paid in the next open period. Who may call: admins.
#[utoipa::path(
    tag = "timesheets",
    operation_id = "close_pay_period",
    params(("id" = String, Path, description = "Pay period id")),
    responses(
        (status = 200, description = "The closed period", body = ClosedPeriodView),
        problem::Unauthenticated,
        problem::NotAllowed,
        problem::NotFound,
        (status = 409, description = "Already closed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/pay-periods/{id}/closure")]
pub async fn close_pay_period(
    state: web::Data<AppState>,
    user: AuthUser,
    PathId(period): PathId,
) -> AppResult<HttpResponse> {
    let view = db::run(&state.pool, move |conn| {
        close::close_period(conn, &user, &period, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}
