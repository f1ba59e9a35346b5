DROP TABLE outbox_emails;
DROP TABLE budget_alerts;
DROP TABLE ledger_entries;
DROP FUNCTION ledger_entries_append_only();
DROP TABLE budgets;
DROP TABLE rate_card_versions;
DROP TABLE rate_cards;
