DROP TABLE idempotency_keys;
DROP TABLE shift_record_amendments;
DROP TABLE clock_events;
DROP TABLE shift_records;
DROP TABLE timesheets;
DROP TABLE pay_periods;
DROP TABLE timesheet_policies;
