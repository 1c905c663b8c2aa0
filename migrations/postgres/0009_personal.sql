-- What the home page keeps per signed-in user: entities starred (a star on every entity page)
-- and entities visited recently (the last few per user; older visits are pruned on write).
-- Users and entities are entity references (`user:default/alice`, `component:default/web`);
-- an entity that leaves the catalog keeps its star, shown as gone until unstarred.
CREATE TABLE starred_entities (
    user_ref TEXT NOT NULL,
    entity_ref TEXT NOT NULL,
    starred_at BIGINT NOT NULL,        -- ms since the epoch (UTC)
    PRIMARY KEY (user_ref, entity_ref)
);
CREATE TABLE recent_visits (
    user_ref TEXT NOT NULL,
    entity_ref TEXT NOT NULL,
    visited_at BIGINT NOT NULL,        -- ms since the epoch (UTC)
    PRIMARY KEY (user_ref, entity_ref)
);
CREATE INDEX recent_visits_user ON recent_visits (user_ref, visited_at);
