//! The scorecards' levels as others read them, from the stored results only (no rule is
//! evaluated here): the catalog table's level column and facet ([`LevelSource`]) and
//! `GET /api/scorecards/{name}/entities`.
//!
//! A reader whose snapshot is newer than the latest results (the loop is still at work) finds
//! each entity's results by its key in the snapshot they were evaluated for: what it shows is
//! as last evaluated, a fraction of a second behind at most, never an evaluation on the spot.

use super::service::{Evaluated, ScorecardService};
use crate::catalog::facade::{Facade, Visible};
use crate::catalog::reference::RefKey;
use crate::catalog::views::{LevelSource, RecordLevels};
use app::model::{Caller, NO_LEVEL};
use app::scorecards::{EntityAtLevel, LevelCount, ScorecardEntities};

impl LevelSource for ScorecardService {
    fn levels(&self, v: &Visible, chosen: Option<&str>) -> Option<RecordLevels> {
        levels_of(&*self.latest()?, v, chosen)
    }
}

/// `v`'s records' levels on the scorecard named `chosen` (else the first the caller may read).
pub fn levels_of(e: &Evaluated, v: &Visible, chosen: Option<&str>) -> Option<RecordLevels> {
    // A catalog scorecard is offered to those who may read its entity.
    let readable: Vec<usize> = e
        .scorecards
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            s.source == "config" || v.index_of(&RefKey(s.source.to_lowercase())).is_some()
        })
        .map(|(i, _)| i)
        .collect();
    let first = *readable.first()?;
    let index = chosen
        .and_then(|c| {
            readable
                .iter()
                .copied()
                .find(|&i| e.scorecards[i].name.eq_ignore_ascii_case(c))
        })
        .unwrap_or(first);
    let card = &e.scorecards[index];
    let snapshot = v.snapshot();
    let current = e.is_of(snapshot);
    let of = snapshot
        .records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let j = if current {
                i
            } else {
                e.position_of_key(r.stored.key.as_str())?
            };
            e.outcomes(j)
                .iter()
                .find(|(s, _)| usize::from(*s) == index)
                .map(|(_, o)| o.reached)
        })
        .collect();
    Some(RecordLevels {
        scorecard: card.name.clone(),
        title: card.title.clone(),
        scorecards: readable
            .iter()
            .map(|&i| (e.scorecards[i].name.clone(), e.scorecards[i].title.clone()))
            .collect(),
        levels: card.levels.clone(),
        of,
    })
}

/// Why `GET /api/scorecards/{name}/entities` cannot answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntitiesError {
    #[error("no scorecard named {0:?}")]
    NoScorecard(String),
    #[error("level {level:?} is not a level of scorecard {scorecard:?} (its levels: {}, and none for no level reached)", .levels.join(", "))]
    UnknownLevel {
        level: String,
        scorecard: String,
        levels: Vec<String>,
    },
}

impl ScorecardService {
    /// The entities the caller may read that scorecard `name` applies to, at the levels asked
    /// (all when none is), with the count at each level; from the latest results.
    pub fn entities(
        &self,
        facade: &Facade,
        caller: &Caller,
        name: &str,
        asked: &[String],
    ) -> Result<ScorecardEntities, EntitiesError> {
        let v = facade.read(caller);
        let l = self
            .levels(&v, Some(name))
            .filter(|l| l.scorecard.eq_ignore_ascii_case(name))
            .ok_or_else(|| EntitiesError::NoScorecard(name.to_string()))?;
        let wanted = l.ids(asked);
        if let Some(bad) = asked
            .iter()
            .find(|a| l.ids(std::slice::from_ref(a)).is_empty())
        {
            return Err(EntitiesError::UnknownLevel {
                level: bad.clone(),
                scorecard: l.scorecard,
                levels: l.levels,
            });
        }
        let mut tally = vec![0usize; l.levels.len() + 1];
        let mut items = Vec::new();
        for (i, r) in v.records() {
            let Some(k) = l.of.get(i).copied().flatten() else {
                continue;
            };
            if let Some(n) = tally.get_mut(usize::from(k)) {
                *n += 1;
            }
            if asked.is_empty() || wanted.contains(&k) {
                items.push(EntityAtLevel {
                    entity: r.entity_ref().to_ref_string(),
                    level: l.name(k).map(str::to_string),
                });
            }
        }
        let counts = (0..tally.len())
            .rev()
            .map(|k| LevelCount {
                level: l.name(k as u8).unwrap_or(NO_LEVEL).to_string(),
                count: tally[k],
            })
            .collect();
        Ok(ScorecardEntities {
            name: l.scorecard,
            title: l.title,
            levels: l.levels,
            counts,
            items,
        })
    }
}
