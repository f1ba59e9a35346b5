DROP TABLE jobs;
DROP TABLE audit_events;
DROP TABLE login_throttles;
DROP TABLE refresh_tokens;
DROP TABLE users;
DROP TABLE organisations;
