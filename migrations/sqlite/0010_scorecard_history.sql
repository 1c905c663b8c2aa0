-- Scorecards' daily history, per team: for one scorecard and one owner (an entity reference in
-- lower case, `group:default/team-a`), how many of the entities it owns reach each level on a
-- day (`counts`: comma-separated, "no level" first, then each level lowest first: `2,5,1,0`).
-- A row is written only on a day the counts changed; a day without one has the counts of the
-- latest day before it. One row per scorecard and team, not per entity: the 30-day trend on
-- the team page needs the counts, and 10k entities would otherwise cost 10k rows a day.
CREATE TABLE scorecard_history (
    scorecard TEXT NOT NULL,
    owner_ref TEXT NOT NULL,
    day BIGINT NOT NULL,               -- days since 1970-01-01 (UTC)
    counts TEXT NOT NULL,
    PRIMARY KEY (scorecard, owner_ref, day)
);
CREATE INDEX scorecard_history_day ON scorecard_history (day);
