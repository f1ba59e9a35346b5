DROP TABLE support_changes;
