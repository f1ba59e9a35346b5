//! Diesel table definitions, kept by hand in step with `migrations/`.

diesel::table! {
    organisations (id) {
        id -> Text,
        name -> Text,
        kind -> Text,
        area_code -> Text,
        created_at -> Timestamp,
        deactivated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        organisation_id -> Text,
        role -> Text,
        email -> Nullable<Text>,
        client_id -> Nullable<Text>,
        display_name -> Text,
        secret_hash -> Text,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        family_id -> Text,
        user_id -> Text,
        token_hash -> Text,
        issued_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_throttles (key_hash) {
        key_hash -> Text,
        failures -> Integer,
        window_started_at -> Timestamp,
        last_failure_at -> Timestamp,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        organisation_id -> Nullable<Text>,
        actor_user_id -> Nullable<Text>,
        action -> Text,
        entity_type -> Text,
        entity_id -> Text,
        before_json -> Nullable<Text>,
        after_json -> Nullable<Text>,
        request_id -> Nullable<Text>,
        occurred_at -> Timestamp,
    }
}

diesel::table! {
    jobs (id) {
        id -> Text,
        kind -> Text,
        dedupe_key -> Nullable<Text>,
        payload -> Text,
        run_at -> Timestamp,
        attempts -> Integer,
        max_attempts -> Integer,
        leased_by -> Nullable<Text>,
        lease_expires_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        finished_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    competency_levels (organisation_id, level) {
        organisation_id -> Text,
        level -> Integer,
        name -> Text,
        description -> Text,
    }
}

diesel::table! {
    competencies (id) {
        id -> Text,
        organisation_id -> Text,
        code -> Text,
        name -> Text,
        level -> Integer,
        description -> Text,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    pa_profiles (id) {
        id -> Text,
        organisation_id -> Text,
        user_id -> Nullable<Text>,
        display_name -> Text,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        postcode -> Text,
        district -> Text,
        latitude -> Double,
        longitude -> Double,
        max_travel_km -> Double,
        drives -> Bool,
        has_car -> Bool,
        smoker -> Bool,
        comfortable_with_pets -> Bool,
        languages -> Text,
        gender -> Nullable<Text>,
        availability -> Text,
        wanted_minutes_per_week -> Integer,
        min_hourly_pay_pence -> BigInt,
        dbs_issued_on -> Nullable<Date>,
        dbs_update_service -> Bool,
        dbs_verified_by -> Nullable<Text>,
        dbs_verified_at -> Nullable<Timestamp>,
        right_to_work_checked_on -> Nullable<Date>,
        right_to_work_expires_on -> Nullable<Date>,
        right_to_work_verified_by -> Nullable<Text>,
        right_to_work_verified_at -> Nullable<Timestamp>,
        active -> Bool,
        revision -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    market_revisions (organisation_id) {
        organisation_id -> Text,
        revision -> BigInt,
    }
}

diesel::table! {
    pa_unavailability (id) {
        id -> Text,
        pa_id -> Text,
        starts_on -> Date,
        ends_on -> Date,
    }
}

diesel::table! {
    pa_competencies (id) {
        id -> Text,
        pa_id -> Text,
        competency_id -> Text,
        trained_on -> Date,
        expires_on -> Nullable<Date>,
        evidence_reference -> Nullable<Text>,
        verified_by -> Nullable<Text>,
        verified_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    budget_holders (id) {
        id -> Text,
        organisation_id -> Text,
        team_manager_id -> Text,
        user_id -> Nullable<Text>,
        representative_user_id -> Nullable<Text>,
        display_name -> Text,
        representative_name -> Nullable<Text>,
        postcode -> Text,
        district -> Text,
        latitude -> Double,
        longitude -> Double,
        funding -> Text,
        minimum_level -> Integer,
        support_needs -> Text,
        preferences -> Text,
        affordable_hourly_pay_pence -> Nullable<BigInt>,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        representative_consent_on -> Nullable<Date>,
    }
}

diesel::table! {
    budget_holder_requirements (budget_holder_id, competency_id) {
        budget_holder_id -> Text,
        competency_id -> Text,
    }
}

diesel::table! {
    clinical_signoffs (id) {
        id -> Text,
        pa_id -> Text,
        competency_id -> Text,
        budget_holder_id -> Text,
        clinician_name -> Text,
        clinician_role -> Text,
        signed_off_on -> Date,
        expires_on -> Nullable<Date>,
        recorded_by -> Text,
        recorded_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    team_members (id) {
        id -> Text,
        budget_holder_id -> Text,
        pa_id -> Text,
        added_by -> Text,
        added_at -> Timestamp,
        removed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    do_not_match (id) {
        id -> Text,
        budget_holder_id -> Text,
        pa_id -> Text,
        reason -> Text,
        recorded_by -> Text,
        recorded_at -> Timestamp,
        removed_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(users -> organisations (organisation_id));
diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(audit_events -> organisations (organisation_id));
diesel::joinable!(pa_competencies -> pa_profiles (pa_id));
diesel::joinable!(pa_competencies -> competencies (competency_id));
diesel::joinable!(budget_holder_requirements -> competencies (competency_id));

diesel::allow_tables_to_appear_in_same_query!(
    organisations,
    users,
    refresh_tokens,
    login_throttles,
    audit_events,
    jobs,
    competency_levels,
    competencies,
    market_revisions,
    pa_profiles,
    pa_unavailability,
    pa_competencies,
    budget_holders,
    budget_holder_requirements,
    clinical_signoffs,
    team_members,
    do_not_match,
);

diesel::table! {
    rate_cards (id) {
        id -> Text,
        organisation_id -> Text,
        name -> Text,
        kind -> Text,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    rate_card_versions (id) {
        id -> Text,
        rate_card_id -> Text,
        effective_from -> Date,
        terms -> Text,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    budgets (id) {
        id -> Text,
        organisation_id -> Text,
        budget_holder_id -> Text,
        name -> Text,
        amount_pence -> BigInt,
        period_start -> Date,
        period_end -> Date,
        health_share_bp -> Integer,
        profile -> Text,
        alert_thresholds -> Text,
        status -> Text,
        approved_by -> Nullable<Text>,
        approved_at -> Nullable<Timestamp>,
        ledger_sequence -> BigInt,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    ledger_entries (id) {
        id -> Text,
        budget_id -> Text,
        sequence -> BigInt,
        kind -> Text,
        stream -> Text,
        amount_pence -> BigInt,
        entry_date -> Date,
        description -> Text,
        reason -> Nullable<Text>,
        source_type -> Text,
        source_id -> Nullable<Text>,
        reverses_entry_id -> Nullable<Text>,
        idempotency_key -> Nullable<Text>,
        request_hash -> Nullable<Text>,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    budget_alerts (id) {
        id -> Text,
        budget_id -> Text,
        scope -> Text,
        threshold_percent -> Integer,
        used_pence -> BigInt,
        profile_pence -> BigInt,
        raised_at -> Timestamp,
    }
}

diesel::table! {
    outbox_emails (id) {
        id -> Text,
        organisation_id -> Nullable<Text>,
        dedupe_key -> Text,
        recipient -> Text,
        subject -> Text,
        body -> Text,
        created_at -> Timestamp,
        next_attempt_at -> Timestamp,
        attempts -> Integer,
        leased_by -> Nullable<Text>,
        lease_expires_at -> Nullable<Timestamp>,
        sent_at -> Nullable<Timestamp>,
        failed_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
    }
}

diesel::joinable!(rate_card_versions -> rate_cards (rate_card_id));
diesel::joinable!(ledger_entries -> budgets (budget_id));
diesel::allow_tables_to_appear_in_same_query!(rate_cards, rate_card_versions);
diesel::allow_tables_to_appear_in_same_query!(budgets, ledger_entries);

diesel::table! {
    support_changes (id) {
        id -> Text,
        organisation_id -> Text,
        budget_holder_id -> Text,
        kind -> Text,
        from_date -> Date,
        to_date -> Date,
        start_time -> Nullable<Text>,
        end_time -> Nullable<Text>,
        shift_kind -> Nullable<Text>,
        headcount -> Nullable<Integer>,
        reason -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        cancelled_by -> Nullable<Text>,
        cancelled_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    rosters (id) {
        id -> Text,
        organisation_id -> Text,
        team_manager_id -> Text,
        from_date -> Date,
        to_date -> Date,
        status -> Text,
        version -> BigInt,
        seed -> BigInt,
        time_limit_ms -> BigInt,
        score -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    roster_shifts (id) {
        id -> Text,
        roster_id -> Text,
        budget_holder_id -> Text,
        shift_date -> Date,
        start_local -> Text,
        end_local -> Text,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        kind -> Text,
        headcount -> Integer,
        source -> Text,
        support_change_id -> Nullable<Text>,
        open_reason -> Nullable<Text>,
    }
}

diesel::table! {
    roster_assignments (id) {
        id -> Text,
        roster_id -> Text,
        roster_shift_id -> Text,
        pa_id -> Text,
        created_at -> Timestamp,
        given_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(roster_assignments -> roster_shifts (roster_shift_id));
diesel::joinable!(roster_shifts -> rosters (roster_id));
diesel::joinable!(roster_shifts -> budget_holders (budget_holder_id));
diesel::allow_tables_to_appear_in_same_query!(
    roster_assignments,
    roster_shifts,
    rosters,
    budget_holders
);

diesel::table! {
    calendar_feeds (id) {
        id -> Text,
        pa_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    open_shift_declines (roster_shift_id, pa_id) {
        roster_shift_id -> Text,
        pa_id -> Text,
        declined_at -> Timestamp,
    }
}

diesel::table! {
    shift_holds (roster_shift_id, pa_id) {
        roster_shift_id -> Text,
        pa_id -> Text,
        held_at -> Timestamp,
    }
}

diesel::table! {
    shift_warnings (roster_shift_id, pa_id, rule) {
        roster_shift_id -> Text,
        pa_id -> Text,
        organisation_id -> Text,
        rule -> Text,
        explanation -> Text,
        found_at -> Timestamp,
    }
}

diesel::table! {
    swap_requests (id) {
        id -> Text,
        organisation_id -> Text,
        roster_id -> Text,
        roster_shift_id -> Text,
        requester_pa_id -> Text,
        colleague_pa_id -> Text,
        their_shift_id -> Nullable<Text>,
        status -> Text,
        note -> Nullable<Text>,
        decision_reason -> Nullable<Text>,
        decided_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    roster_runs (id) {
        id -> Text,
        organisation_id -> Text,
        requested_by -> Text,
        request -> Text,
        status -> Text,
        time_limit_ms -> BigInt,
        elapsed_ms -> BigInt,
        best_score -> Nullable<BigInt>,
        moves -> BigInt,
        roster_id -> Nullable<Text>,
        error -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    pa_working_time (pa_id) {
        pa_id -> Text,
        max_minutes_per_week -> Nullable<Integer>,
        opted_out_on -> Nullable<Date>,
        opt_out_withdrawn_on -> Nullable<Date>,
        domestic_worker -> Bool,
        updated_by -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    timesheet_policies (organisation_id) {
        organisation_id -> Text,
        pay_frequency -> Text,
        period_anchor -> Date,
        approver -> Text,
        radius_m -> Integer,
        late_minutes -> Integer,
        left_early_minutes -> Integer,
        overrun_minutes -> Integer,
        short_minutes -> Integer,
        clock_out_grace_minutes -> Integer,
        updated_by -> Text,
        updated_at -> Timestamp,
        offline_sync_days -> Integer,
        pay_days_after_end -> Integer,
    }
}

diesel::table! {
    pay_periods (id) {
        id -> Text,
        organisation_id -> Text,
        starts_on -> Date,
        ends_on -> Date,
        closed_by -> Nullable<Text>,
        closed_at -> Nullable<Timestamp>,
        employer_id -> Nullable<Text>,
        pay_date -> Date,
    }
}

diesel::table! {
    timesheets (id) {
        id -> Text,
        organisation_id -> Text,
        pa_id -> Text,
        budget_holder_id -> Text,
        pay_period_id -> Text,
        status -> Text,
        version -> BigInt,
        submitted_at -> Nullable<Timestamp>,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        query_reason -> Nullable<Text>,
        paid_in_period_id -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    shift_records (id) {
        id -> Text,
        organisation_id -> Text,
        timesheet_id -> Text,
        pa_id -> Text,
        budget_holder_id -> Text,
        roster_shift_id -> Nullable<Text>,
        work_date -> Date,
        unrostered_reason -> Nullable<Text>,
        clock_in_at -> Nullable<Timestamp>,
        clock_in_device_at -> Nullable<Timestamp>,
        clock_in_received_at -> Nullable<Timestamp>,
        clock_in_distance_m -> Nullable<Integer>,
        clock_out_at -> Nullable<Timestamp>,
        clock_out_device_at -> Nullable<Timestamp>,
        clock_out_received_at -> Nullable<Timestamp>,
        clock_out_distance_m -> Nullable<Integer>,
        outside_radius -> Bool,
        break_minutes -> Integer,
        mileage_tenths -> Integer,
        expenses_pence -> BigInt,
        expense_receipt -> Nullable<Text>,
        note -> Nullable<Text>,
        reminded_at -> Nullable<Timestamp>,
        amendments -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        woken_minutes -> Integer,
    }
}

diesel::table! {
    clock_events (id) {
        id -> Text,
        shift_record_id -> Text,
        kind -> Text,
        device_at -> Timestamp,
        received_at -> Timestamp,
        latitude -> Nullable<Double>,
        longitude -> Nullable<Double>,
        accuracy_m -> Nullable<Integer>,
        distance_m -> Nullable<Integer>,
        created_by -> Text,
    }
}

diesel::table! {
    shift_record_amendments (id) {
        id -> Text,
        organisation_id -> Text,
        shift_record_id -> Text,
        reason -> Text,
        before_json -> Text,
        after_json -> Text,
        cost_change_pence -> BigInt,
        pay_period_id -> Text,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (user_id, key) {
        user_id -> Text,
        key -> Text,
        request_hash -> Text,
        status -> Integer,
        response -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(shift_records -> timesheets (timesheet_id));
diesel::joinable!(clock_events -> shift_records (shift_record_id));
diesel::joinable!(timesheets -> pay_periods (pay_period_id));
diesel::allow_tables_to_appear_in_same_query!(shift_records, timesheets, pay_periods, clock_events);
diesel::allow_tables_to_appear_in_same_query!(shift_records, roster_shifts);
diesel::allow_tables_to_appear_in_same_query!(shift_records, roster_assignments);
diesel::allow_tables_to_appear_in_same_query!(timesheets, roster_assignments);
diesel::allow_tables_to_appear_in_same_query!(timesheets, budget_holders);
diesel::allow_tables_to_appear_in_same_query!(pa_profiles, roster_assignments);
diesel::allow_tables_to_appear_in_same_query!(pa_profiles, roster_shifts);
diesel::allow_tables_to_appear_in_same_query!(pa_profiles, rosters);
diesel::allow_tables_to_appear_in_same_query!(timesheet_policies, roster_shifts);
diesel::allow_tables_to_appear_in_same_query!(timesheet_policies, rosters);
diesel::allow_tables_to_appear_in_same_query!(timesheet_policies, roster_assignments);
diesel::allow_tables_to_appear_in_same_query!(timesheet_policies, budget_holders);
diesel::allow_tables_to_appear_in_same_query!(timesheet_policies, pa_profiles);

diesel::table! {
    employers (id) {
        id -> Text,
        organisation_id -> Text,
        kind -> Text,
        budget_holder_id -> Nullable<Text>,
        name -> Text,
        paye_reference -> Text,
        payroll_client_id -> Text,
        rate_card_id -> Text,
        pays_travel_time -> Bool,
        export_sequence -> BigInt,
        created_by -> Text,
        created_at -> Timestamp,
        payroll_mapping -> Text,
        pay_calendar -> Nullable<Text>,
    }
}

diesel::table! {
    engagements (id) {
        id -> Text,
        employer_id -> Text,
        pa_id -> Text,
        works_number -> Text,
        date_of_birth -> Date,
        contracted_minutes_per_week -> Nullable<Integer>,
        holiday_basis -> Text,
        starts_on -> Date,
        created_by -> Text,
        created_at -> Timestamp,
        ends_on -> Nullable<Date>,
        leaving_reason -> Nullable<Text>,
        leaver_export_id -> Nullable<Text>,
    }
}

diesel::table! {
    payroll_adjustments (id) {
        id -> Text,
        organisation_id -> Text,
        engagement_id -> Text,
        budget_holder_id -> Text,
        pay_period_id -> Text,
        kind -> Text,
        amount_pence -> BigInt,
        reason -> Text,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    payroll_exports (id) {
        id -> Text,
        organisation_id -> Text,
        employer_id -> Text,
        pay_period_id -> Text,
        status -> Text,
        number -> Nullable<BigInt>,
        blockers -> Text,
        checksums -> Nullable<Text>,
        gross_pence -> BigInt,
        line_count -> Integer,
        created_at -> Timestamp,
        ready_at -> Nullable<Timestamp>,
        acknowledged_at -> Nullable<Timestamp>,
        mapping -> Text,
        gaps -> Text,
        leavers -> Text,
        absences -> Text,
    }
}

diesel::table! {
    payroll_export_lines (export_id, line_no) {
        export_id -> Text,
        line_no -> Integer,
        pa_id -> Text,
        works_number -> Text,
        budget_holder_id -> Text,
        element -> Text,
        description -> Text,
        quantity_hundredths -> BigInt,
        unit_rate_e4 -> BigInt,
        amount_pence -> BigInt,
        sources -> Text,
    }
}

diesel::table! {
    minimum_wage_reviews (export_id, pa_id) {
        export_id -> Text,
        pa_id -> Text,
        outcome -> Text,
        top_up_pence -> BigInt,
        reason -> Text,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(engagements -> employers (employer_id));
diesel::joinable!(payroll_exports -> employers (employer_id));
diesel::allow_tables_to_appear_in_same_query!(engagements, employers);
diesel::allow_tables_to_appear_in_same_query!(payroll_adjustments, engagements);
diesel::allow_tables_to_appear_in_same_query!(payroll_exports, employers);
diesel::allow_tables_to_appear_in_same_query!(timesheets, roster_shifts);
diesel::allow_tables_to_appear_in_same_query!(shift_record_amendments, shift_records);
diesel::allow_tables_to_appear_in_same_query!(shift_record_amendments, timesheets);
diesel::allow_tables_to_appear_in_same_query!(payroll_export_lines, payroll_exports, pay_periods);
diesel::allow_tables_to_appear_in_same_query!(ledger_entries, shift_records);
diesel::allow_tables_to_appear_in_same_query!(ledger_entries, timesheets);
diesel::allow_tables_to_appear_in_same_query!(shift_holds, roster_shifts);
diesel::allow_tables_to_appear_in_same_query!(shift_warnings, roster_shifts);

diesel::table! {
    absences (id) {
        id -> Text,
        organisation_id -> Text,
        pa_id -> Text,
        kind -> Text,
        starts_on -> Date,
        ends_on -> Nullable<Date>,
        away_through -> Date,
        fit_note_from -> Nullable<Date>,
        fit_note_to -> Nullable<Date>,
        reported_by -> Text,
        reported_at -> Timestamp,
        version -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    cover_requests (id) {
        id -> Text,
        organisation_id -> Text,
        roster_shift_id -> Text,
        absence_id -> Nullable<Text>,
        absent_pa_id -> Text,
        status -> Text,
        round -> Integer,
        opened_at -> Timestamp,
        first_offers_at -> Nullable<Timestamp>,
        covered_by -> Nullable<Text>,
        covered_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    cover_offers (cover_request_id, pa_id) {
        cover_request_id -> Text,
        pa_id -> Text,
        round -> Integer,
        score -> Double,
        reason -> Text,
        offered_by -> Nullable<Text>,
        offered_at -> Timestamp,
    }
}

diesel::joinable!(cover_requests -> roster_shifts (roster_shift_id));
diesel::joinable!(cover_offers -> cover_requests (cover_request_id));
diesel::allow_tables_to_appear_in_same_query!(cover_requests, roster_shifts, cover_offers);
diesel::allow_tables_to_appear_in_same_query!(cover_requests, rosters);

diesel::table! {
    roster_run_rosters (run_id, roster_id) {
        run_id -> Text,
        roster_id -> Text,
    }
}
