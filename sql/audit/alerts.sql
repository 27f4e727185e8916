-- audit.alerts
-- Grain: one row per alert raised. Key: source, subject, message (an alert is raised once).
create table if not exists audit.alerts (
    raised_at timestamp with time zone,
    severity varchar,
    source varchar,
    subject varchar,
    message varchar
);
