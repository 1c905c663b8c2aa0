//! The daily history of scorecard results, per team: for each scorecard and owner, how many of
//! the entities it owns reach each level, one row per day on which that changed
//! (`scorecard_history`, migration 0010). A day with no row has the counts of the latest day
//! before it, so the 30-day trend of a team whose results did not move costs one row.
//!
//! Kept in memory too (the last ~40 days, loaded at start-up), so the team page reads its
//! trend without asking the database; the evaluation loop ([`super::service`]) computes the
//! rollup after each evaluation, writes the rows that changed, then applies them here.

use super::service::Evaluated;
use crate::catalog::snapshot::Snapshot;
use crate::storage::ScorecardDay;
use std::collections::{BTreeMap, HashMap};

/// Days since 1970-01-01 (UTC).
pub type Day = i64;

/// Today (UTC).
pub fn today() -> Day {
    crate::util::now_ms().div_euclid(86_400_000)
}

/// A day as `YYYY-MM-DD`.
pub fn day_text(day: Day) -> String {
    let mut s = crate::util::format_rfc3339(day * 86_400, 0);
    s.truncate(10);
    s
}

/// How many days the trend shows (today included).
pub const TREND_DAYS: usize = 30;

/// How long the memory keeps days (the trend's plus a margin); older days are folded into one.
const KEEP_DAYS: Day = 40;

/// Per (scorecard name, owner reference in lower case): entities by level reached (index 0:
/// no level, then one per level).
pub type Rollup = HashMap<(String, String), Vec<u32>>;

/// The rollup of one evaluation: every entity with an owner, counted under its owner.
pub fn rollup(evaluated: &Evaluated, snapshot: &Snapshot) -> Rollup {
    let mut out: Rollup = HashMap::new();
    let mut key = String::new();
    for (i, r) in snapshot.records.iter().enumerate() {
        let outcomes = evaluated.outcomes(i);
        if outcomes.is_empty() {
            continue;
        }
        let Some(owner) = r.related("ownedBy").next() else {
            continue;
        };
        key.clear();
        key.push_str(&owner.target_ref);
        key.make_ascii_lowercase();
        for (card, outcome) in outcomes {
            let card = &evaluated.scorecards[usize::from(*card)];
            let counts = out
                .entry((card.name.clone(), key.clone()))
                .or_insert_with(|| vec![0; card.levels.len() + 1]);
            if let Some(c) = counts.get_mut(usize::from(outcome.reached)) {
                *c += 1;
            }
        }
    }
    out
}

/// The days known, per (scorecard, owner).
#[derive(Debug, Default)]
pub struct History {
    series: HashMap<(String, String), BTreeMap<Day, Vec<u32>>>,
}

impl History {
    /// The rows storage holds (see [`crate::storage::Store::scorecard_history`]).
    pub fn from_rows(rows: Vec<ScorecardDay>) -> History {
        let mut h = History::default();
        h.apply(&rows);
        h
    }

    /// The rows to write so that `today` has `now`'s counts: every key whose latest counts
    /// differ, and every key no longer in `now` (all zeros) whose latest counts were not.
    pub fn changes(&self, now: &Rollup, today: Day) -> Vec<ScorecardDay> {
        let latest = |key: &(String, String)| {
            self.series
                .get(key)
                .and_then(|days| days.range(..=today).next_back())
                .map(|(_, c)| c)
        };
        let mut rows: Vec<ScorecardDay> = now
            .iter()
            .filter(|(key, counts)| latest(key) != Some(*counts))
            .map(|((card, owner), counts)| ScorecardDay {
                scorecard: card.clone(),
                owner_ref: owner.clone(),
                day: today,
                counts: counts.clone(),
            })
            .collect();
        for (key, days) in &self.series {
            if now.contains_key(key) {
                continue;
            }
            if let Some((_, counts)) = days.range(..=today).next_back() {
                if counts.iter().any(|c| *c > 0) {
                    rows.push(ScorecardDay {
                        scorecard: key.0.clone(),
                        owner_ref: key.1.clone(),
                        day: today,
                        counts: vec![0; counts.len()],
                    });
                }
            }
        }
        rows.sort_by(|a, b| (&a.scorecard, &a.owner_ref).cmp(&(&b.scorecard, &b.owner_ref)));
        rows
    }

    /// Takes written rows in, and forgets days older than the memory keeps (the latest of
    /// them stays: it is what the first days of the trend carry).
    pub fn apply(&mut self, rows: &[ScorecardDay]) {
        for r in rows {
            self.series
                .entry((r.scorecard.clone(), r.owner_ref.clone()))
                .or_default()
                .insert(r.day, r.counts.clone());
        }
        let cutoff = rows.iter().map(|r| r.day).max().unwrap_or(0) - KEEP_DAYS;
        for days in self.series.values_mut() {
            while days.len() > 1 && days.keys().nth(1).is_some_and(|d| *d <= cutoff) {
                days.pop_first();
            }
        }
    }

    /// The last `days` days up to `today`, oldest first: each day's counts by level reached
    /// (`levels + 1` of them), carried from the latest day before it; `None` when nothing is
    /// known of this scorecard and owner.
    pub fn trend(
        &self,
        scorecard: &str,
        owner: &str,
        levels: usize,
        today: Day,
        days: usize,
    ) -> Option<Vec<Vec<u32>>> {
        let series = self
            .series
            .get(&(scorecard.to_string(), owner.to_ascii_lowercase()))?;
        let first = today - days as Day + 1;
        let mut carried: Vec<u32> = series
            .range(..first)
            .next_back()
            .map(|(_, c)| c.clone())
            .unwrap_or_default();
        let mut out = Vec::with_capacity(days);
        for day in first..=today {
            if let Some(c) = series.get(&day) {
                carried = c.clone();
            }
            let mut counts = carried.clone();
            counts.resize(levels + 1, 0);
            out.push(counts);
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rollup_of(entries: &[(&str, &str, &[u32])]) -> Rollup {
        entries
            .iter()
            .map(|(c, o, n)| ((c.to_string(), o.to_string()), n.to_vec()))
            .collect()
    }

    /// Rows are written only when a team's counts change, and a day without a row carries the
    /// day before it.
    #[test]
    fn only_changes_are_written_and_days_carry_over() {
        let mut h = History::default();
        let day1 = rollup_of(&[
            ("m", "group:default/a", &[1, 2, 0]),
            ("m", "group:default/b", &[0, 0, 3]),
        ]);
        let rows = h.changes(&day1, 100);
        assert_eq!(rows.len(), 2);
        h.apply(&rows);
        // The same results the next day: nothing to write.
        assert!(h.changes(&day1, 101).is_empty());
        // Team a improves on day 103; b's entities all move away on day 104.
        let day3 = rollup_of(&[
            ("m", "group:default/a", &[0, 2, 1]),
            ("m", "group:default/b", &[0, 0, 3]),
        ]);
        let rows = h.changes(&day3, 103);
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (rows[0].owner_ref.as_str(), rows[0].day),
            ("group:default/a", 103)
        );
        h.apply(&rows);
        let day4 = rollup_of(&[("m", "group:default/a", &[0, 2, 1])]);
        let rows = h.changes(&day4, 104);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].counts, vec![0, 0, 0]);
        h.apply(&rows);
        assert!(h.changes(&day4, 105).is_empty(), "zeros are written once");

        let trend = h.trend("m", "Group:default/A", 2, 104, 6).expect("known");
        assert_eq!(
            trend,
            vec![
                vec![0, 0, 0], // day 99: before anything was known
                vec![1, 2, 0],
                vec![1, 2, 0],
                vec![1, 2, 0],
                vec![0, 2, 1],
                vec![0, 2, 1],
            ]
        );
        assert_eq!(
            h.trend("m", "group:default/b", 2, 104, 2).expect("known")[1],
            vec![0, 0, 0]
        );
        assert!(h.trend("m", "group:default/c", 2, 104, 2).is_none());
    }

    /// Old days are forgotten from memory, but the latest of them still starts the trend.
    #[test]
    fn old_days_fold_into_one() {
        let mut h = History::default();
        for (day, n) in [(10, 1), (20, 2), (30, 3)] {
            h.apply(&[ScorecardDay {
                scorecard: "m".into(),
                owner_ref: "group:default/a".into(),
                day,
                counts: vec![n],
            }]);
        }
        h.apply(&[ScorecardDay {
            scorecard: "m".into(),
            owner_ref: "group:default/a".into(),
            day: 100,
            counts: vec![4],
        }]);
        let days = &h.series[&("m".to_string(), "group:default/a".to_string())];
        assert_eq!(days.keys().copied().collect::<Vec<_>>(), vec![30, 100]);
        let trend = h.trend("m", "group:default/a", 0, 100, 2).expect("known");
        assert_eq!(trend, vec![vec![3], vec![4]]);
        assert_eq!(day_text(20_429), "2025-12-07");
    }
}
