-- When each PA was given each shift: the roster's publication, or the moment a PA was put on a
-- published shift (an edit, a swap, an open shift taken). Payroll pays the card's short-notice
-- premium on a shift given within its notice window. Assignments already published count as
-- given when they were made.
ALTER TABLE roster_assignments ADD COLUMN given_at TIMESTAMP;
UPDATE roster_assignments SET given_at = created_at
 WHERE roster_id IN (SELECT id FROM rosters WHERE status = 'published');
